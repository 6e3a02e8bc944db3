"""Other libraries run our default export (dt = 1e-4, LIFs with r = 1 and the gain in the synapse) with our spikes,
and where they cannot, the export says so (``ReaderWarning``, naming the library); their own exports of equivalent
networks import here with their spikes. docs/NIR_INTEROP.md has the same on the whole digits test set.

The libraries come from requirements-bench.txt, which `make test` installs without their declared dependencies.
In CI (CI=true) a missing library fails these tests; elsewhere they skip, saying how to install it.
- snnTorch 1.0 (``snntorch.import_nir``) fixes dt = 1e-4, resets every LIF to zero, fails on an IF node, and maps
  ``nir.Flatten(start_dim=0)`` onto ``torch.nn.Flatten(0, -1)``, which would flatten a batch axis too: samples go
  in one at a time.
- Norse 1.1 (``norse.torch.from_nir``) takes dt as an argument (default 1e-3), ignores r on a LIF node (our
  export's r = 1 is what it runs), has no AvgPool2d, and takes a CubaLIF's reset as an argument
  (``reset_subtract`` for our CUBA neuron). It flattens the batch axis too.
- SpikingJelly 2.0 (``nir_exchange.from_nir``) takes dt as an argument (default 1e-4) and runs batches.
"""
import importlib
import os
import warnings

import pytest
import torch

from snn_core.checkpoint import load_weights
from snn_core.interop.nir_graph import ReaderWarning, export_nir
from snn_core.interop.nir_import import import_nir
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer

HARD = {"threshold": 0.3, "reset": "hard", "v-reset": 0.0}
NORSE_DT = ("Norse 1.1 takes the time step as an argument and defaults to 1e-3: run this graph with "
            "norse.torch.from_nir(graph, dt=0.0001)")
NETWORKS = {"mlp": HARD, "conv": {**HARD, "arch": "conv", "channels": "4"},
            "plif": {**HARD, "hidden": "16,12", "plif": "on", "lr": 0.05}}      # a learned decay per layer


def library(module: str):
    """``module`` imported; missing, a failure in CI and a skip elsewhere, saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as problem:
        message = f"{module} does not import ({problem}): `make install-dev` installs requirements-bench.txt --no-deps"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; in CI the cross-library tests must run")
        pytest.skip(message)


def trained(tiny, **settings) -> Trainer:
    trainer = Trainer(tiny({"readout": "count", "batch-size": 32, "T": 6}, **settings))
    for _ in range(3):
        trainer.step()
    trainer.model.eval()
    return trainer


def exported(trainer: Trainer, **options) -> tuple[object, list[str]]:
    """The graph of ``trainer``'s model (the default export unless ``options`` say, e.g. dt) and its ReaderWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape), **options)
    return graph, [str(w.message) for w in caught if issubclass(w.category, ReaderWarning)]


def sample_inputs(trainer: Trainer) -> torch.Tensor:
    return trainer.inputs(trainer.dataset.test_x[:8], None)                   # (T, 8, 1, 8, 8)


def ours(trainer: Trainer, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        spikes = trainer.model(x).spikes[-1]                                  # (T, 8, classes)
    assert spikes.sum() >= 5, "the output layer barely fires: the test would prove little"
    return spikes


def run_per_sample(step, x: torch.Tensor) -> torch.Tensor:
    """``step(x_t, state) -> (spikes, state)`` over ``x[T, B, ...]``, one unbatched sample at a time."""
    samples = []
    for b in range(x.shape[1]):
        state, out = None, []
        for t in range(x.shape[0]):
            spikes, state = step(x[t, b], state)
            out.append(spikes)
        samples.append(torch.stack(out))                                   # (T, classes)
    return torch.stack(samples, 1)                                          # (T, B, classes)


def spikes_with(trainer: Trainer, x: torch.Tensor, **settings) -> torch.Tensor:
    """The output spikes of ``trainer``'s weights in a network whose neurons take ``settings`` instead."""
    cfg = trainer.cfg.with_values(settings)
    model = build_model(cfg, tuple(trainer.dataset.frame_shape), trainer.dataset.n_classes).eval()
    model.load_state_dict(trainer.model.state_dict())
    with torch.no_grad():
        return model(x).spikes[-1]                                          # (T, B, classes)


def snntorch_run(graph, x: torch.Tensor) -> torch.Tensor:
    snntorch = library("snntorch")
    from snntorch.import_nir import import_from_nir

    net = import_from_nir(graph)
    neurons = [m for m in net.modules() if isinstance(m, snntorch.SpikingNeuron)]

    def step(x_t, state):
        if state is None:
            for neuron in neurons:
                neuron.reset_hidden()                                       # each sample from rest
        return net(x_t)[0], True

    with torch.no_grad():
        return run_per_sample(step, x)


def norse_run(graph, x: torch.Tensor, **options) -> torch.Tensor:
    norse = library("norse.torch")
    net = norse.from_nir(graph, dt=float(graph.metadata["dt"]), **options)
    with torch.no_grad():
        return run_per_sample(net, x)


def spikingjelly_run(graph, x: torch.Tensor) -> torch.Tensor:
    library("spikingjelly")
    from spikingjelly.activation_based.nir_exchange.from_nir import import_from_nir

    net, state, theirs = import_from_nir(graph, dt=float(graph.metadata["dt"])), None, []
    with torch.no_grad():
        for x_t in x:                                                       # (8, ...): the whole batch
            spikes, state = net(x_t, state)
            theirs.append(spikes)
    return torch.stack(theirs)


RUNS = {"snntorch": snntorch_run, "norse": norse_run, "spikingjelly": spikingjelly_run}


@pytest.mark.parametrize("network", list(NETWORKS))
@pytest.mark.parametrize("name", list(RUNS))
def test_each_library_runs_the_default_export_with_our_spikes(tiny, name, network):
    trainer = trained(tiny, **NETWORKS[network])
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    assert torch.equal(RUNS[name](graph, x), ours(trainer, x))
    assert notes == [NORSE_DT]                                  # Norse must be told the dt; nothing else differs


def test_norse_runs_our_cuba_exactly_when_told_to_subtract_and_the_others_reset_to_zero(tiny):
    library("norse")
    from norse.torch.functional import reset

    trainer = trained(tiny, neuron="cuba", threshold=0.2)
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    here = ours(trainer, x)
    assert torch.equal(norse_run(graph, x, reset_method=reset.reset_subtract), here)
    assert not torch.equal(norse_run(graph, x), here)                     # Norse's default resets to v_reset
    assert not torch.equal(snntorch_run(graph, x), here) and not torch.equal(spikingjelly_run(graph, x), here)
    assert notes == [NORSE_DT, "snnTorch 1.0 and SpikingJelly 2.0 reset the CubaLIF neurons to v_reset = 0, not by "
                     "subtraction as this engine's CUBA does (metadata reset = subtract), so spikes differ after a "
                     "neuron's first one; Norse 1.1 runs them as here when told: from_nir(graph, dt=..., "
                     "reset_method=reset_subtract)"]


def test_snntorch_fires_nothing_at_dt_1_and_the_export_says_so(tiny):
    library("snntorch")
    trainer = trained(tiny, **HARD)
    graph, notes = exported(trainer, dt=1.0)
    x = sample_inputs(trainer)
    ours(trainer, x)
    assert snntorch_run(graph, x).sum() == 0
    assert any(note.startswith("snnTorch 1.0 reads every graph at dt = 0.0001, this one is at dt = 1")
               for note in notes)


def test_a_reset_to_v_reset_runs_as_a_reset_to_zero_in_snntorch_and_norse_and_spikingjelly_refuses_it(tiny):
    trainer = trained(tiny, threshold=0.3, reset="hard", **{"v-reset": -0.5})
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    to_zero = spikes_with(trainer, x, **{"v-reset": 0.0})
    assert not torch.equal(to_zero, ours(trainer, x))
    assert torch.equal(snntorch_run(graph, x), to_zero) and torch.equal(norse_run(graph, x), to_zero)
    with pytest.raises(ValueError, match="v_leak must equal v_reset"):
        spikingjelly_run(graph, x)
    assert ("snnTorch 1.0 and Norse 1.1 reset every LIF to 0, not to this graph's v_reset; SpikingJelly 2.0 refuses "
            "it (its LIF would leak toward v_reset)") in notes


def test_a_soft_reset_runs_as_a_reset_to_zero_in_every_library_and_the_export_says_so(tiny):
    trainer = trained(tiny, threshold=0.3, reset="soft")
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    hard = spikes_with(trainer, x, reset="hard", **{"v-reset": 0.0})
    assert not torch.equal(hard, ours(trainer, x))
    for name, run in RUNS.items():
        assert torch.equal(run(graph, x), hard), name
    assert any(note.startswith("snnTorch 1.0, Norse 1.1 and SpikingJelly 2.0 reset this graph's soft-reset LIF/IF")
               for note in notes)


def test_an_if_network_runs_in_norse_and_spikingjelly_and_snntorch_refuses_it(tiny):
    library("snntorch")
    trainer = trained(tiny, **HARD, decay=1.0)
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    here = ours(trainer, x)
    assert torch.equal(norse_run(graph, x), here) and torch.equal(spikingjelly_run(graph, x), here)
    with pytest.raises(AssertionError, match="r != 1 not supported"):
        snntorch_run(graph, x)
    assert notes[0].startswith("snnTorch 1.0 cannot run an IF node")


def test_norse_refuses_average_pooling_and_the_export_says_so(tiny):
    library("norse")
    cfg = tiny({"dataset": "events-shape", "arch": "conv", "channels": "4"})
    shape = (2, 32, 32)
    with pytest.warns(ReaderWarning, match="Norse 1.1 has no AvgPool2d"):
        graph = export_nir(build_model(cfg, shape, 10).eval(), cfg, shape)
    with pytest.raises(RuntimeError, match="must match the size"):                  # pooling left out
        norse_run(graph, torch.zeros(1, 1, *shape))


def imported_spikes(graph, x: torch.Tensor, **options) -> torch.Tensor:
    saved = import_nir(graph, **options)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    with torch.no_grad():
        return model.eval()(x).spikes[0]                                    # (T, B, n): the hidden layer


def native_inputs() -> torch.Tensor:
    generator = torch.Generator().manual_seed(5)
    return (torch.rand((10, 16, 64), generator=generator) < 0.3).float()        # (T, B, 64)


def hidden_spikes(net: torch.nn.Module, neuron: torch.nn.Module, x: torch.Tensor, stateful: bool) -> torch.Tensor:
    """The spikes of ``neuron`` while ``net`` runs over ``x[T, B, 64]`` from rest."""
    kept = []
    handle = neuron.register_forward_hook(lambda _m, _a, out: kept.append(out[0] if isinstance(out, tuple) else out))
    state = None
    with torch.no_grad():
        for x_t in x:
            if stateful:
                _, state = net(x_t, state)
            else:
                net(x_t)
    handle.remove()
    return torch.stack(kept)                                                     # (T, B, n)


def test_snntorch_leaky_that_resets_to_zero_at_once_imports_with_its_spikes():
    """``Leaky(reset_mechanism="zero", reset_delay=False)`` is this engine's hard-reset LIF; snnTorch's exporter
    writes r = tau/dt at its dt = 1e-4 (a per-neuron beta: a scalar one fails its exporter's type check)."""
    snntorch = library("snntorch")
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)
    leaky = snntorch.Leaky(beta=torch.full((32,), 0.75), threshold=torch.full((32,), 0.5), reset_mechanism="zero",
                           reset_delay=False, init_hidden=True)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), leaky, torch.nn.Linear(32, 10))
    x = native_inputs()
    graph = export_to_nir(net, x[0, 0])
    leaky.reset_hidden()
    theirs = hidden_spikes(net, leaky, x, stateful=False)
    assert 0.02 < theirs.mean() < 0.6
    assert torch.equal(imported_spikes(graph, x, dt=1e-4, reset="hard"), theirs)


def test_norse_lifboxcell_imports_with_its_spikes():
    """Norse's ``LIFBoxCell`` (r = 1: v += dt tau_mem_inv (I - v)) at dt = 1, exported by its ``to_nir``: the gain
    dt/tau = 0.25 goes into the synapse here."""
    norse = library("norse.torch")
    from norse.torch.utils.export_nir import to_nir

    torch.manual_seed(0)
    full = lambda value: torch.full((32,), value)                                  # noqa: E731
    cell = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=full(0.25), v_th=full(0.3), v_leak=full(0.0),
                                                   v_reset=full(0.0)), dt=1.0)
    net = norse.SequentialState(torch.nn.Linear(64, 32), cell, torch.nn.Linear(32, 10))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
    x = native_inputs()
    graph = to_nir(net, x[0, 0], dt=1.0)
    theirs = hidden_spikes(net, cell, x, stateful=True)
    assert 0.02 < theirs.mean() < 0.6
    assert torch.equal(imported_spikes(graph, x, dt=1.0, reset="hard"), theirs)
