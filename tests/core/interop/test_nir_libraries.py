"""Other libraries run our exported graph: the same output spikes on the same inputs where they read NIR as we do,
and, where they do not, the documented difference, announced by the export (``ReaderWarning``, naming the library).

The libraries come from requirements-bench.txt, which `make test` installs without their declared dependencies.
In CI (CI=true) a missing library fails these tests; elsewhere they skip, saying how to install it.
- snnTorch 1.0 (``snntorch.import_nir``) fixes dt = 1e-4, resets every LIF to zero and maps
  ``nir.Flatten(start_dim=0)`` onto ``torch.nn.Flatten(0, -1)``, which would flatten a batch axis too: samples go
  in one at a time.
- Norse 1.1 (``norse.torch.from_nir``) ignores r on a LIF node (v += dt/tau (I - v): the input scaled by 1 - beta),
  has no AvgPool2d, honours CubaLIF's w_in and r, and takes the reset as an argument (``reset_subtract`` for our
  CUBA neuron). It flattens the batch axis too.
- SpikingJelly 2.0 (``nir_exchange.from_nir``) takes dt as an argument and runs batches.
"""
import copy
import importlib
import os
import warnings

import pytest
import torch

from snn_core.interop.nir_graph import ReaderWarning, export_nir
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer

HARD = {"threshold": 0.3, "reset": "hard", "v-reset": 0.0}


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


def exported(trainer: Trainer, dt: float = 1.0) -> tuple[object, list[str]]:
    """The graph of ``trainer``'s model at ``dt`` and the ReaderWarnings its export gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape), dt=dt)
    return graph, [str(w.message) for w in caught if issubclass(w.category, ReaderWarning)]


def sample_inputs(trainer: Trainer) -> torch.Tensor:
    return trainer.inputs(trainer.dataset.test_x[:8], None)                   # (T, 8, 1, 8, 8)


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


def test_snntorch_reproduces_our_output_spikes_for_a_hard_reset_lif_mlp_exported_at_its_dt(tiny):
    library("snntorch")
    trainer = trained(tiny, **HARD)
    graph, notes = exported(trainer, dt=1e-4)
    x = sample_inputs(trainer)
    with torch.no_grad():
        ours = trainer.model(x).spikes[-1]                                  # (T, 8, classes)
    assert ours.sum() >= 5 and torch.equal(snntorch_run(graph, x), ours)
    assert not [note for note in notes if note.startswith("snnTorch")]


def test_snntorch_fires_nothing_at_dt_1_and_the_export_says_so(tiny):
    library("snntorch")
    trainer = trained(tiny, **HARD)
    graph, notes = exported(trainer, dt=1.0)
    x = sample_inputs(trainer)
    with torch.no_grad():
        ours = trainer.model(x).spikes[-1]
    assert ours.sum() >= 5 and snntorch_run(graph, x).sum() == 0
    assert any(note.startswith("snnTorch 1.0 reads every graph at dt = 0.0001, this one is at dt = 1")
               for note in notes)


def test_snntorch_resets_to_zero_whatever_the_graph_says_and_the_export_says_so(tiny):
    library("snntorch")
    trainer = trained(tiny, threshold=0.3, reset="hard", **{"v-reset": -0.5})
    graph, notes = exported(trainer, dt=1e-4)
    x = sample_inputs(trainer)
    theirs, to_zero = snntorch_run(graph, x), spikes_with(trainer, x, **{"v-reset": 0.0})
    assert torch.equal(theirs, to_zero) and not torch.equal(theirs, spikes_with(trainer, x))
    assert "snnTorch 1.0 resets every LIF to 0, not to this graph's v_reset" in notes


def norse_run(graph, x: torch.Tensor, **options) -> torch.Tensor:
    norse = library("norse.torch")
    net = norse.from_nir(graph, dt=1.0, **options)
    with torch.no_grad():
        return run_per_sample(net, x)


def test_norse_reproduces_our_output_spikes_for_a_cuba_mlp(tiny):
    library("norse")
    from norse.torch.functional import reset

    trainer = trained(tiny, neuron="cuba", threshold=0.2)
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    with torch.no_grad():
        ours = trainer.model(x).spikes[-1]
    assert ours.sum() >= 5 and torch.equal(norse_run(graph, x, reset_method=reset.reset_subtract), ours)
    assert not [note for note in notes if note.startswith("Norse")]


def test_norse_runs_our_lif_with_its_input_scaled_by_1_minus_beta_and_the_export_says_so(tiny):
    library("norse")
    trainer = trained(tiny, **HARD, **{"batch-norm": "false"})
    graph, notes = exported(trainer)
    x = sample_inputs(trainer)
    beta = trainer.cfg.neuron.decay
    scaled = copy.deepcopy(trainer.model)                    # Norse's reading: v = beta v + (1 - beta) (W s + b)
    with torch.no_grad():
        for layer in scaled.layers:
            layer.synapse.weight.mul_(1 - beta)
            layer.synapse.bias.mul_(1 - beta)
        ours, norse_reading = trainer.model(x).spikes[-1], scaled(x).spikes[-1]
    theirs = norse_run(graph, x)
    assert torch.equal(theirs, norse_reading) and theirs.sum() < ours.sum()
    assert any(note.startswith("Norse 1.1 ignores r on LIF nodes") for note in notes)


def test_norse_refuses_average_pooling_and_the_export_says_so(tiny):
    library("norse")
    cfg = tiny({"dataset": "events-shape", "arch": "conv", "channels": "4"})
    shape = (2, 32, 32)
    with pytest.warns(ReaderWarning, match="Norse 1.1 has no AvgPool2d"):
        graph = export_nir(build_model(cfg, shape, 10).eval(), cfg, shape)
    with pytest.raises(RuntimeError, match="must match the size"):                  # pooling left out
        norse_run(graph, torch.zeros(1, 1, *shape))


def test_spikingjelly_reproduces_our_output_spikes_in_batches(tiny):
    library("spikingjelly")
    from spikingjelly.activation_based.nir_exchange.from_nir import import_from_nir

    trainer = trained(tiny, **HARD)
    graph, notes = exported(trainer, dt=1e-4)
    net = import_from_nir(graph, dt=1e-4)
    x = sample_inputs(trainer)
    with torch.no_grad():
        ours, state, theirs = trainer.model(x).spikes[-1], None, []
        for x_t in x:                                                       # (8, 1, 8, 8): the whole batch
            spikes, state = net(x_t, state)
            theirs.append(spikes)
    assert ours.sum() >= 5 and torch.equal(torch.stack(theirs), ours)
    assert notes == ["Norse 1.1 ignores r on LIF nodes (it runs v += dt/tau (I - v)): each LIF's input is scaled by "
                     "1 - beta there, so it fires fewer spikes; Norse runs this engine's CUBA neuron exactly"]


def test_spikingjelly_resets_a_soft_reset_neuron_to_v_reset_and_the_export_says_so(tiny):
    library("spikingjelly")
    from spikingjelly.activation_based.nir_exchange.from_nir import import_from_nir

    trainer = trained(tiny, threshold=0.3, reset="soft")
    graph, notes = exported(trainer, dt=1e-4)
    net, state, theirs = import_from_nir(graph, dt=1e-4), None, []
    x = sample_inputs(trainer)
    with torch.no_grad():
        for x_t in x:
            spikes, state = net(x_t, state)
            theirs.append(spikes)
    hard = spikes_with(trainer, x, reset="hard", **{"v-reset": 0.0})
    assert torch.equal(torch.stack(theirs), hard) and not torch.equal(hard, spikes_with(trainer, x))
    assert any("SpikingJelly 2.0 ignore the neurons' metadata reset = subtract" in note for note in notes)
