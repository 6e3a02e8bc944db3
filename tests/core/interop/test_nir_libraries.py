"""Another library runs our exported graph and fires the same output spikes on the same inputs, where it is
installed (requirements-bench.txt); skipped with the reason when it is not.

Where their readings of NIR differ from ours, the comparison is made where both are defined to agree, and said:
- snnTorch 1.0 (``snntorch.import_nir``) assumes dt = 1e-4 (so the graph is exported with dt = 1e-4), builds
  every LIF with reset to zero (so: hard reset, V_reset = 0) and maps ``nir.Flatten(start_dim=0)`` onto
  ``torch.nn.Flatten(0, -1)``, which would flatten a batch axis too: samples go in one at a time, unbatched.
- Norse 1.1 (``norse.torch.from_nir``) ignores r on a LIF node (it warns), so our LIF (r = tau/dt) is not run as
  NIR says; its CubaLIF honours w_in and r, and takes the reset as an argument: our CUBA neuron (reset by
  subtraction, recorded in the node's metadata) is compared with ``reset_method=reset_subtract``.
"""
import pytest
import torch

from snn_core.interop.nir_graph import export_nir
from snn_core.training.trainer import Trainer


def trained(tiny, **settings) -> Trainer:
    trainer = Trainer(tiny({"readout": "count", "batch-size": 32, "T": 6}, **settings))
    for _ in range(3):
        trainer.step()
    trainer.model.eval()
    return trainer


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


def test_snntorch_reproduces_our_output_spikes_for_a_hard_reset_lif_mlp(tiny):
    pytest.importorskip("snntorch", reason="snnTorch is not installed (requirements-bench.txt installs it)")
    import snntorch
    from snntorch.import_nir import import_from_nir

    trainer = trained(tiny, threshold=0.3, reset="hard", **{"v-reset": 0.0})
    net = import_from_nir(export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape), dt=1e-4))
    neurons = [m for m in net.modules() if isinstance(m, snntorch.SpikingNeuron)]

    def step(x_t, state):
        if state is None:
            for neuron in neurons:
                neuron.reset_hidden()                                       # each sample from rest
        return net(x_t)[0], True

    x = trainer.inputs(trainer.dataset.test_x[:8], None)                     # (T, 8, 1, 8, 8)
    with torch.no_grad():
        ours, theirs = trainer.model(x).spikes[-1], run_per_sample(step, x)
    assert ours.sum() >= 5 and torch.equal(theirs, ours)


def test_norse_reproduces_our_output_spikes_for_a_cuba_mlp(tiny):
    pytest.importorskip("norse", reason="Norse is not installed (requirements-bench.txt installs it)")
    import norse.torch as norse
    from norse.torch.functional import reset

    trainer = trained(tiny, neuron="cuba", threshold=0.2)
    net = norse.from_nir(export_nir(trainer.model, trainer.cfg, tuple(trainer.dataset.frame_shape)),
                         reset_method=reset.reset_subtract, dt=1.0)
    x = trainer.inputs(trainer.dataset.test_x[:8], None)
    with torch.no_grad():
        ours, theirs = trainer.model(x).spikes[-1], run_per_sample(net, x)
    assert ours.sum() >= 5 and torch.equal(theirs, ours)
