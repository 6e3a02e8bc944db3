"""NIR interop measured: this engine's default export run by snnTorch, Norse and SpikingJelly, and each library's
own export of an equivalent network imported here; writes docs/NIR_INTEROP.md and .json.

    python benchmarks/nir_interop.py [--quick] [--out docs/NIR_INTEROP.md]

Export (this engine -> library): small networks trained with the project on digits (seed 0, the reported epoch
chosen on validation), written by ``export_nir`` at its defaults (dt = 1e-4, LIFs with r = 1 and the gain in the
synapse), read by each library's importer the way the export's ``ReaderWarning`` notes say (Norse:
``from_nir(graph, dt=1e-4)``, ``reset_method=reset_subtract`` where the nodes say so), and run on the digits test
set (360 samples, T = 8), one sample at a time for snnTorch and Norse (their ``Flatten(start_dim=0)`` would
flatten a batch axis too), batched for SpikingJelly. Every spiking layer's spikes are recorded there with forward
hooks and compared with this engine's, entry by entry; the logits are the readout averaged over T.

Import (library -> this engine): a network in each library's own neurons, with the weights of a network trained
here (no BatchNorm) rescaled to the library's input convention, run there on the same test set, written by the
library's own exporter and imported with ``import_nir`` (the library's dt; the reset the library's neuron has);
its spikes here are compared with the library's own.

A cell is "identical" when every spike of every layer on every sample agrees; "differs" gives the share of spike
entries that agree, the samples whose spikes all agree, the largest logit difference and both accuracies;
"refused" quotes the error. ``--quick`` trains on fewer samples for a look in seconds (not for the doc).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.metadata
import io
import json
import logging
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import nir
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snn_core.checkpoint import load_weights  # noqa: E402
from snn_core.config.run_config import RunConfig  # noqa: E402
from snn_core.interop.nir_graph import ReaderWarning, export_nir  # noqa: E402
from snn_core.interop.nir_import import import_nir  # noqa: E402
from snn_core.methods.registry import build_model  # noqa: E402
from snn_core.training.trainer import Trainer  # noqa: E402

LIBRARIES = {"snntorch": "snnTorch", "norse": "Norse", "spikingjelly": "SpikingJelly"}
BASE = {"epochs": "3", "hidden": "64", "threshold": "0.5", "robustness": "false", "seed": "0"}
# the networks exported: name -> (what it is, settings over BASE)
EXPORTS = {
    "mlp-lif": ("MLP 64-64-10, LIF beta 0.5, hard reset", {}),
    "mlp-lif-plif": ("MLP 64-64-32-10, PLIF: a learned beta per layer", {"plif": "on", "lr": "0.01",
                                                                          "hidden": "64,32"}),
    "mlp-lif-beta0.8": ("MLP, LIF beta 0.8, hard reset", {"decay": "0.8"}),
    "conv-lif": ("conv 8 ch 3x3 + fc 64, LIF, hard reset", {"arch": "conv", "channels": "8"}),
    "mlp-if": ("MLP, IF (beta 1), hard reset", {"decay": "1.0", "threshold": "1.0"}),
    "mlp-lif-vreset": ("MLP, LIF, reset to V_reset = -0.5", {"v-reset": "-0.5"}),
    "mlp-lif-soft": ("MLP, LIF, soft reset (subtract)", {"reset": "soft"}),
    "mlp-cuba": ("MLP, CUBA (subtract reset)", {"neuron": "cuba", "threshold": "0.3"}),
    "conv-cuba": ("conv 8 ch + fc 64, CUBA", {"arch": "conv", "channels": "8", "neuron": "cuba", "threshold": "0.3"}),
    "events-conv-pool": ("events-shape 2x32x32, conv 4 ch pools 2x2 first, LIF", {
        "dataset": "events-shape", "arch": "conv", "channels": "4", "hidden": "16", "threshold": "0.1", "T": "4",
        "train-samples": "300", "test-samples": "100", "batch-size": "16"}),
}


@dataclass(frozen=True)
class Cell:
    """One library x network x direction, measured."""

    library: str
    network: str
    direction: str                    # "export" (ours -> theirs) or "import" (theirs -> ours)
    verdict: str                      # identical | differs | refused
    samples: int = 0
    spikes_ours: int = 0
    spikes_theirs: int = 0
    spike_agreement: float = 0.0      # share of spike entries (all layers, steps, samples, neurons) that agree
    samples_identical: int = 0        # samples whose spikes agree in every layer and step
    max_logit_difference: float = float("nan")
    accuracy_ours: float = float("nan")
    accuracy_theirs: float = float("nan")
    detail: str = ""                  # how the library was called, or its error


@dataclass(frozen=True)
class Spikes:
    """A run on the test set: each spiking layer's spikes (T, B, N) and the logits (B, classes)."""

    layers: list[torch.Tensor]
    logits: torch.Tensor


def measured(library: str, network: str, direction: str, ours: Spikes, theirs: Spikes, labels: torch.Tensor,
             detail: str) -> Cell:
    """The cell comparing two runs on the same samples."""
    if len(ours.layers) != len(theirs.layers):
        return Cell(library, network, direction, "refused", detail=f"{len(theirs.layers)} spiking layers ran there, "
                                                                   f"{len(ours.layers)} here")
    pairs = [(a.flatten(2).float(), b.reshape(a.flatten(2).shape).float()) for a, b in zip(ours.layers, theirs.layers)]
    agree = sum(int((a == b).sum()) for a, b in pairs) / sum(a.numel() for a, _ in pairs)
    per_sample = torch.stack([(a == b).all(-1).all(0) for a, b in pairs]).all(0)           # (B,)
    identical = all(torch.equal(a, b) for a, b in pairs)
    return Cell(library, network, direction, "identical" if identical else "differs", samples=len(labels),
                spikes_ours=int(sum(a.sum() for a, _ in pairs)), spikes_theirs=int(sum(b.sum() for _, b in pairs)),
                spike_agreement=agree, samples_identical=int(per_sample.sum()),
                max_logit_difference=float((ours.logits - theirs.logits).abs().max()),
                accuracy_ours=float((ours.logits.argmax(-1) == labels).float().mean()),
                accuracy_theirs=float((theirs.logits.argmax(-1) == labels).float().mean()), detail=detail)


def refused(library: str, network: str, direction: str, problem: BaseException) -> Cell:
    text = " ".join(str(problem).split())[:400] or type(problem).__name__
    return Cell(library, network, direction, "refused", detail=f"{type(problem).__name__}: {text}")


# ---------------------------------------------------------------------------------------------------- running
def recording(net: torch.nn.Module, kinds) -> list[list[torch.Tensor]]:
    """Forward hooks on every module of ``kinds`` that keep its spikes (the first output) at each call."""
    stores: list[list[torch.Tensor]] = []
    for module in net.modules():
        if isinstance(module, kinds):
            store: list[torch.Tensor] = []
            stores.append(store)
            module.register_forward_hook(lambda _m, _a, out, store=store: store.append(
                (out[0] if isinstance(out, tuple) else out).detach().clone()))
    return stores


def one_at_a_time(step: Callable, reset: Callable, x: torch.Tensor, stores) -> Spikes:
    """``step(x_t, state) -> (out, state)`` over ``x[T, B, ...]``, one unbatched sample at a time."""
    samples = []
    for b in range(x.shape[1]):
        reset()
        state, out = None, []
        for t in range(x.shape[0]):
            y, state = step(x[t, b], state)
            out.append(y)
        samples.append(torch.stack(out))                                          # (T, classes)
    logits = torch.stack(samples, 1).mean(0)                                      # (B, classes)
    layers = [torch.stack(store).reshape(x.shape[1], x.shape[0], -1).transpose(0, 1) for store in stores]
    return Spikes(layers, logits)


def batched(net: Callable, x: torch.Tensor, stores) -> Spikes:
    """``net(x_t, state) -> (out, state)`` over the whole batch at each step."""
    state, out = None, []
    for x_t in x:                                                                 # (B, ...)
        y, state = net(x_t, state)
        out.append(y)
    return Spikes([torch.stack(store).flatten(2) for store in stores], torch.stack(out).mean(0))


def run_snntorch(graph: nir.NIRGraph, x: torch.Tensor) -> tuple[Spikes, str]:
    import snntorch
    from snntorch.import_nir import import_from_nir
    with contextlib.redirect_stdout(io.StringIO()):                 # it prints its weight-scaling notices
        net = import_from_nir(copy.deepcopy(graph))
    neurons = [m for m in net.modules() if isinstance(m, snntorch.SpikingNeuron)]
    stores = recording(net, snntorch.SpikingNeuron)

    def step(x_t, state):
        out = net(x_t)
        return (out[0] if isinstance(out, tuple) else out), state

    def reset():
        for neuron in neurons:
            neuron.reset_hidden()
    return one_at_a_time(step, reset, x, stores), "snntorch.import_nir.import_from_nir(graph), one sample at a time"


def run_norse(graph: nir.NIRGraph, x: torch.Tensor) -> tuple[Spikes, str]:
    import norse.torch as norse
    from norse.torch.functional.reset import reset_subtract
    from norse.torch.module.iaf import IAFCell
    from norse.torch.module.lif_box import LIFBoxCell
    from norse.torch.utils.import_nir import CubaLIF
    dt = float(graph.metadata["dt"])
    subtract = any((getattr(node, "metadata", None) or {}).get("reset") == "subtract" for node in graph.nodes.values())
    options = {"reset_method": reset_subtract} if subtract else {}
    net = norse.from_nir(copy.deepcopy(graph), dt=dt, **options)
    kinds = CubaLIF if any(isinstance(m, CubaLIF) for m in net.modules()) else (LIFBoxCell, IAFCell)
    stores = recording(net, kinds)
    call = f"norse.torch.from_nir(graph, dt={dt:g}{', reset_method=reset_subtract' if subtract else ''})"
    return one_at_a_time(lambda x_t, state: net(x_t, state), lambda: None, x, stores), call + ", one at a time"


def run_spikingjelly(graph: nir.NIRGraph, x: torch.Tensor) -> tuple[Spikes, str]:
    from spikingjelly.activation_based.nir_exchange.from_nir import _NIRStatefulModule, import_from_nir
    dt = float(graph.metadata["dt"])
    net = import_from_nir(copy.deepcopy(graph), dt=dt)
    stores = recording(net, _NIRStatefulModule)
    return batched(net, x, stores), f"spikingjelly ... nir_exchange.from_nir.import_from_nir(graph, dt={dt:g}), batched"


RUNNERS = {"snntorch": run_snntorch, "norse": run_norse, "spikingjelly": run_spikingjelly}


def ours(model: torch.nn.Module, x: torch.Tensor) -> Spikes:
    with torch.no_grad():
        out = model.eval()(x)
    return Spikes([s.flatten(2) for s in out.spikes], out.logits)


# ---------------------------------------------------------------------------------------------------- export
def trained(settings: dict, quick: bool) -> Trainer:
    values = {**BASE, **settings, **({"train-samples": "200", "epochs": "1"} if quick else {})}
    trainer = Trainer(RunConfig().with_values(values), device="cpu")
    trainer.fit()
    trainer.select_reported_epoch()
    trainer.model.eval()
    return trainer


def export_cells(quick: bool) -> tuple[list[Cell], dict[str, list[str]]]:
    cells, notes = [], {}
    for name, (_, settings) in EXPORTS.items():
        trainer = trained(settings, quick)
        x, labels = trainer.inputs(trainer.dataset.test_x, None), trainer.dataset.test_y      # (T, B, ...), (B,)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            graph = export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape))
        notes[name] = [str(w.message) for w in caught if issubclass(w.category, ReaderWarning)]
        here = ours(trainer.model, x)
        for library, run in RUNNERS.items():
            try:
                with torch.no_grad():
                    theirs, call = run(graph, x)
            except Exception as problem:            # noqa: BLE001 - a library's failure is the measurement
                cells.append(refused(library, name, "export", problem))
                continue
            cells.append(measured(library, name, "export", here, theirs, labels, call))
        print(f"export {name}: " + ", ".join(f"{c.library} {c.verdict}" for c in cells[-3:]), file=sys.stderr)
    return cells, notes


# ---------------------------------------------------------------------------------------------------- import
@dataclass(frozen=True)
class Native:
    """A network in a library's own neurons, ``Linear(64, n) -> neuron -> Linear(n, 10)``: ``neuron(params, n)``
    builds the library's neuron from this engine's ``params`` (``LIFParams``/``CUBAParams``), ``gain(params)`` is
    the input scale it needs to match them; its graph is imported with ``dt`` and ``reset``."""

    library: str
    name: str
    kind: str                         # the network trained here it copies: "lif", "if" or "cuba"
    what: str
    neuron: Callable
    gain: Callable
    dt: float
    reset: str


TRAINED_FOR_IMPORT = {"lif": {}, "if": {"decay": "1.0", "threshold": "1.0"}, "cuba": {"neuron": "cuba",
                                                                                        "threshold": "0.3"}}


def import_cells(quick: bool) -> list[Cell]:
    """Each library's own export of a network trained here (MLP 64-64-10, no BatchNorm), rescaled to its input
    convention, run there, imported here."""
    cells = []
    for kind, settings in TRAINED_FOR_IMPORT.items():
        trainer = trained({"batch-norm": "false", **settings}, quick)
        layer, readout = trainer.model.layers[0].synapse, trainer.model.readout
        x = trainer.inputs(trainer.dataset.test_x, None).flatten(2)                      # (T, B, 64)
        labels, params = trainer.dataset.test_y, trainer.model.layers[0].fixed_neuron()
        for native in (native for native in NATIVES if native.kind == kind):
            gain = native.gain(params)
            weights = [layer.weight.detach() * gain, layer.bias.detach() * gain, readout.weight.detach(),
                       readout.bias.detach()]
            try:
                run, graph = BUILDERS[native.library](native, weights, params, x)
                with torch.no_grad():
                    theirs = run(x)
                saved = import_nir(graph, dt=native.dt, reset=native.reset)
                model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
                load_weights(model, saved.tensors)
                here = ours(model, x)
            except Exception as problem:            # noqa: BLE001 - a failure is the measurement
                cells.append(refused(native.library, native.name, "import", problem))
                continue
            cells.append(measured(native.library, native.name, "import", here, theirs, labels,
                                  f"{native.what}; import_nir(graph, dt={native.dt:g}, reset={native.reset!r})"))
            print(f"import {native.library} {native.name}: {cells[-1].verdict}", file=sys.stderr)
    return cells


def _stepped(net: torch.nn.Module, stores, reset: Callable, with_state: bool) -> Callable:
    """The run over ``x[T, B, 64]`` of a library network, batched, from rest."""
    def run(x: torch.Tensor) -> Spikes:
        reset()
        _clear(stores)
        state, out = None, []
        for x_t in x:
            if with_state:
                y, state = net(x_t, state)
            else:
                y = net(x_t)
            out.append(y)
        return Spikes([torch.stack(store) for store in stores], torch.stack(out).mean(0))
    return run


def _snntorch(native: Native, weights, params, x):
    import snntorch
    from snntorch.export_nir import export_to_nir
    n = weights[0].shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(64, n), native.neuron(params, n), torch.nn.Linear(n, 10))
    _load(net, weights)
    stores = recording(net, snntorch.SpikingNeuron)
    graph = export_to_nir(net, x[0, 0])                        # snnTorch traces one unbatched sample
    return _stepped(net, stores, net[1].reset_hidden, with_state=False), graph


def _norse(native: Native, weights, params, x):
    import norse.torch as norse
    from norse.torch.utils.export_nir import to_nir
    n = weights[0].shape[0]
    net = norse.SequentialState(torch.nn.Linear(64, n), native.neuron(params, n), torch.nn.Linear(n, 10))
    _load(net, weights)
    stores = recording(net, type(net[1]))
    graph = to_nir(net, x[0, 0], dt=native.dt)
    return _stepped(net, stores, lambda: None, with_state=True), graph


def _spikingjelly(native: Native, weights, params, x):
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.nir_exchange.to_nir import export_to_nir
    n = weights[0].shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(64, n), native.neuron(params, n), torch.nn.Linear(n, 10))
    _load(net, weights)
    stores = recording(net, type(net[1]))
    graph = export_to_nir(net, x[0], dt=native.dt)              # SpikingJelly traces a batch
    return _stepped(net, stores, lambda: functional.reset_net(net), with_state=False), graph


BUILDERS = {"snntorch": _snntorch, "norse": _norse, "spikingjelly": _spikingjelly}


def _clear(stores: list[list[torch.Tensor]]) -> None:
    """Forget what the hooks kept before the run (the exporter's own trace calls the network)."""
    for store in stores:
        store.clear()


def _load(net, weights: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for linear, (weight, bias) in zip((net[0], net[2]), (weights[:2], weights[2:])):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)


def _full(n: int, value: float) -> torch.Tensor:
    return torch.full((n,), float(value))


def _snn():
    import snntorch
    return snntorch


def _sj():
    from spikingjelly.activation_based import neuron
    return neuron


def _norse_module():
    import norse.torch as norse
    return norse


def _one(params) -> float:
    return 1.0


def _r1(params) -> float:                     # a neuron that scales its input by 1 - beta (r = 1)
    return 1 / (1 - params.decay)


NATIVES = [
    Native("snntorch", "Leaky-zero", "lif", "snntorch.Leaky(beta, reset_mechanism='zero', reset_delay=False)",
           lambda p, n: _snn().Leaky(beta=_full(n, p.decay), threshold=_full(n, p.threshold),
                                     reset_mechanism="zero", reset_delay=False, init_hidden=True),
           _one, 1e-4, "hard"),
    Native("snntorch", "Leaky-default", "lif", "snntorch.Leaky(beta) defaults: subtract, one step late",
           lambda p, n: _snn().Leaky(beta=_full(n, p.decay), threshold=_full(n, p.threshold), init_hidden=True),
           _one, 1e-4, "subtract"),
    Native("snntorch", "Synaptic-subtract", "cuba",
           "snntorch.Synaptic(alpha, beta, reset_delay=False), input times 1 - beta",
           lambda p, n: _snn().Synaptic(alpha=_full(n, p.alpha), beta=_full(n, p.beta), threshold=_full(n, p.threshold),
                                        reset_delay=False, init_hidden=True),
           lambda p: 1 - p.beta, 1e-4, "subtract"),
    Native("norse", "LIFBoxCell", "lif", "norse LIFBoxCell(tau_mem_inv = 1 - beta), dt = 1, input / (1 - beta)",
           lambda p, n: _norse_module().LIFBoxCell(_norse_module().LIFBoxParameters(
               tau_mem_inv=_full(n, 1 - p.decay), v_th=_full(n, p.threshold), v_leak=_full(n, 0.0),
               v_reset=_full(n, 0.0)), dt=1.0), _r1, 1.0, "hard"),
    Native("norse", "IAFCell", "if", "norse IAFCell (v += I)",
           lambda p, n: _norse_module().IAFCell(_norse_module().IAFParameters(v_th=_full(n, p.threshold),
                                                                               v_reset=_full(n, 0.0))),
           _one, 1.0, "hard"),
    Native("spikingjelly", "LIFNode", "lif",
           "spikingjelly LIFNode(tau) defaults (decay_input: r = 1), input / (1 - beta)",
           lambda p, n: _sj().LIFNode(tau=1 / (1 - p.decay), v_threshold=p.threshold), _r1, 1e-4, "hard"),
    Native("spikingjelly", "LIFNode-r", "lif", "spikingjelly LIFNode(tau, decay_input=False) (r = tau/dt)",
           lambda p, n: _sj().LIFNode(tau=1 / (1 - p.decay), decay_input=False, v_threshold=p.threshold),
           _one, 1e-4, "hard"),
    Native("spikingjelly", "IFNode", "if", "spikingjelly IFNode",
           lambda p, n: _sj().IFNode(v_threshold=p.threshold), _one, 1e-4, "hard"),
    Native("spikingjelly", "CUBALIFNode", "cuba", "spikingjelly CUBALIFNode(alpha, beta, v_reset=None: subtract)",
           lambda p, n: _sj().CUBALIFNode(c_decay=p.alpha, v_decay=p.beta, v_threshold=p.threshold, v_reset=None),
           lambda p: 1 - p.beta, 1e-4, "subtract"),
    Native("spikingjelly", "CUBALIFNode-hard", "cuba", "spikingjelly CUBALIFNode(alpha, beta) defaults: reset to 0",
           lambda p, n: _sj().CUBALIFNode(c_decay=p.alpha, v_decay=p.beta, v_threshold=p.threshold),
           lambda p: 1 - p.beta, 1e-4, "hard"),
]


# ---------------------------------------------------------------------------------------------------- the doc
def versions() -> dict[str, str]:
    found = {}
    for package in ("nir", "nirtorch", "torch", "snntorch", "norse", "spikingjelly"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _number(value: float) -> float | None:
    return None if value != value else value                  # NaN (nothing measured) as null


def report(export: list[Cell], notes: dict[str, list[str]], imports: list[Cell], seconds: float,
           quick: bool) -> dict:
    cells = [{key: (_number(value) if isinstance(value, float) else value) for key, value in asdict(cell).items()}
             for cell in [*export, *imports]]
    return {"command": "python benchmarks/nir_interop.py" + (" --quick" if quick else ""), "quick": quick,
            "versions": versions(),
            "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d", time.gmtime()), "seconds": round(seconds),
            "networks": {name: what for name, (what, _) in EXPORTS.items()},
            "natives": {native.name: native.what for native in NATIVES}, "export_notes": notes, "cells": cells}


def cell_text(cell: dict) -> str:
    if cell["verdict"] == "refused":
        return "refused: " + cell["detail"].replace("|", "/")
    logits = ("logits equal" if cell["max_logit_difference"] == 0
              else f"logits within {cell['max_logit_difference']:.1g}")
    if cell["verdict"] == "identical":
        return f"**identical** ({cell['spikes_ours']:,} spikes, {logits})"
    return (f"differs: {cell['spike_agreement']:.1%} of spike entries agree, {cell['samples_identical']}/"
            f"{cell['samples']} samples identical, spikes {cell['spikes_ours']:,} here → {cell['spikes_theirs']:,} "
            f"there, logits differ by up to {cell['max_logit_difference']:.2g}, accuracy {cell['accuracy_ours']:.3f}"
            f" here → {cell['accuracy_theirs']:.3f} there")


def render(data: dict) -> str:
    """docs/NIR_INTEROP.md from the JSON this script writes (a test holds the doc to it)."""
    by = {(c["direction"], c["library"], c["network"]): c for c in data["cells"]}
    samples = sorted({c["samples"] for c in data["cells"] if c["verdict"] != "refused"}, reverse=True)
    lines = ["# NIR interop, measured", "",
             *(["**A `--quick` run: fewer training samples and one epoch, not the numbers to quote.**", ""]
               if data["quick"] else []),
             f"Generated by `{data['command']}` on {data['date']} ({data['seconds']} s; {data['machine']}); the "
             "numbers are in `docs/NIR_INTEROP.json`. Versions: "
             + ", ".join(f"{k} {v}" for k, v in data["versions"].items()) + ".", "",
             "Every spiking layer's spikes are compared entry by entry (layer × step × sample × neuron) on the "
             f"digits test set ({samples[0]} samples, T = 8; the pooling network: events-shape, "
             f"{samples[-1]} test samples, T = 4). **identical**: every spike agrees; the logits (the readout "
             "averaged over T) then differ by float rounding at most. How each library was called and how the "
             "networks were made: `benchmarks/nir_interop.py`; what the mapping is: docs/NIR.md.", "",
             "## This engine's default export, run by each library", "",
             "`python -m snn_core export --model M --format nir --out F`: dt = 1e-4; a LIF with r = 1 and the gain "
             "1/(1 − β) folded into the synapse before it; a CubaLIF with w_in = τ_syn/dt, r = τ_mem/dt and 1 − β "
             "in the synapse; an IF with r = 1/dt.", "",
             "| network | " + " | ".join(LIBRARIES.values()) + " |", "|---|" + "---|" * len(LIBRARIES)]
    for name, what in data["networks"].items():
        row = [cell_text(by[("export", library, name)]) for library in LIBRARIES]
        lines.append(f"| `{name}`: {what} | " + " | ".join(row) + " |")
    given: dict[str, list[str]] = {}
    for name, notes in data["export_notes"].items():
        for note in notes:
            given.setdefault(note, []).append(f"`{name}`")
    lines += ["", "What the export said (`ReaderWarning`; the CLI prints each as a `note:` line):", ""]
    lines += [f"- {note} ({', '.join(names)})" for note, names in given.items()]
    calls = sorted({(c["library"], c["detail"]) for c in data["cells"]
                    if c["direction"] == "export" and c["verdict"] != "refused"})
    lines += ["", "Called as: " + "; ".join(f"`{detail}`" for _, detail in calls) + ".", "",
              "## Each library's own export, imported here", "",
              "A network in the library's own neurons (MLP 64-64-10, the weights of a network trained here without "
              "BatchNorm, rescaled to the library's input convention), run there, written by the library's own "
              "exporter, read by `import_nir` (the CLI's `import --dt ... --assume-reset ...`) and run here.", "",
              "| library | neuron | result |", "|---|---|---|"]
    for library in LIBRARIES:
        for cell in data["cells"]:
            if cell["direction"] == "import" and cell["library"] == library:
                how = data["natives"][cell["network"]]
                if cell["verdict"] != "refused":
                    how = cell["detail"]
                lines.append(f"| {LIBRARIES[library]} | {how} | {cell_text(cell)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer training samples, 1 epoch (not for the doc)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "NIR_INTEROP.md"), help="the Markdown file (and .json)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)                 # Norse logs its parameter notices; the cells say what differs
    torch.set_num_threads(1)
    start = time.time()
    export, notes = export_cells(args.quick)
    imports = import_cells(args.quick)
    data = report(export, notes, imports, time.time() - start, args.quick)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    out.write_text(render(data))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
