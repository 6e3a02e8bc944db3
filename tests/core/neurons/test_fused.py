"""The fused LIF/CUBA op against the reference loop (the oracle): spikes and membranes bit for bit, input
gradients allclose in float64 for every reset, cap and surrogate, on both loop backends; and the config's
``kernel`` reaching the layers."""
from __future__ import annotations

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_model
from snn_core.neurons import fused
from snn_core.neurons.cuba import CUBAParams, cuba_reference, cuba_sequence, cuba_spikes
from snn_core.neurons.lif import LIFParams, lif_reference, lif_sequence, lif_spikes

SURROGATES = ("atan", "fast-sigmoid", "rectangular")
SHAPES = ((17, 4, 9), (12, 2, 3, 4, 5), (25, 1, 6))             # (T, B, N) and conv-shaped (T, B, C, H, W)
CASES = [("lif", reset, cap, surrogate) for reset in ("hard", "soft") for cap in (0, 1, 3) for surrogate in SURROGATES]
CASES += [("cuba", None, cap, surrogate) for cap in (0, 1, 3) for surrogate in SURROGATES]


def params(model: str, reset: str | None, cap: int, surrogate: str, kernel: str = "fused"):
    if model == "lif":
        return LIFParams(decay=0.8, threshold=0.9, reset=reset, v_reset=-0.3, surrogate=surrogate,
                         surrogate_width=0.7, max_spikes=cap, kernel=kernel)
    return CUBAParams(tau_syn=2.0, threshold=0.6, surrogate=surrogate, surrogate_width=0.7, max_spikes=cap,
                      kernel=kernel)


def recordings(model: str):
    """(the kernel-dispatched recording, the reference loop) of ``model``."""
    return (lif_sequence, lif_reference) if model == "lif" else (cuba_sequence, cuba_reference)


def drive(shape, seed: int, dtype=torch.float64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator, dtype=dtype) * 0.8 + 0.45).requires_grad_()


def gradients(run, currents, p, upstream):
    """d/dI of sum(g_s s + g_post v_post + g_pre v_pre) for random upstream gradients ``g``."""
    currents.grad = None
    out = run(currents, p)
    loss = sum((g * value).sum() for g, value in zip(upstream, (out.spikes, out.v_post, out.v_pre)))
    loss.backward()
    return out, currents.grad.clone()


@pytest.fixture(params=["numba", "torch", "triton"])
def backend(request, monkeypatch):
    """Run each check on every loop implementation on CPU tensors: torch is the no-numba fallback; Triton's
    kernels run in Triton's interpreter (``TRITON_INTERPRET=1``, set by conftest on a machine without CUDA)."""
    if request.param == "numba" and fused.compiled_loops() is None:
        pytest.skip("numba is not installed: only the torch loops run")
    if request.param == "triton":
        skip_unless_triton_interprets()
    monkeypatch.setattr(fused, "backend_for", lambda tensor: request.param)
    return request.param


def skip_unless_triton_interprets() -> None:
    """Skip, with the reason, where the Triton kernels cannot run on CPU tensors."""
    if fused.compiled_triton() is None:
        pytest.skip("triton is not installed (it comes with CUDA builds of torch and the dev extra on Linux x86-64)")
    if not fused.compiled_triton().INTERPRETED:
        pytest.skip("TRITON_INTERPRET is not 1 (CUDA is present): the Triton kernels are checked on the GPU instead")


@pytest.mark.parametrize("model,reset,cap,surrogate", CASES)
def test_fused_equals_the_reference_loop_in_values_and_gradients(backend, model, reset, cap, surrogate):
    recording, reference = recordings(model)
    for index, shape in enumerate(SHAPES):
        currents = drive(shape, seed=index)
        upstream = [torch.randn(shape, generator=torch.Generator().manual_seed(10 + k), dtype=torch.float64)
                    for k in range(3)]
        want, want_grad = gradients(reference, currents, params(model, reset, cap, surrogate, "reference"), upstream)
        got, got_grad = gradients(recording, currents, params(model, reset, cap, surrogate), upstream)
        assert want.spikes.sum() > 0 and (cap == 0 or want.spikes.sum(0).max() <= cap)
        for name in ("spikes", "v_pre", "v_post"):
            assert torch.equal(getattr(got, name), getattr(want, name)), name
        torch.testing.assert_close(got_grad, want_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("model", ["lif", "cuba"])
def test_float32_forward_is_bit_exact_and_gradients_close(backend, model):
    recording, reference = recordings(model)
    currents = drive((40, 8, 3, 5, 5), seed=3, dtype=torch.float32)
    upstream = [torch.randn(currents.shape, generator=torch.Generator().manual_seed(k)) for k in range(3)]
    for reset in ("hard", "soft"):
        want, want_grad = gradients(reference, currents, params(model, reset, 2, "atan", "reference"), upstream)
        got, got_grad = gradients(recording, currents, params(model, reset, 2, "atan"), upstream)
        assert all(torch.equal(a, b) for a, b in zip(got, want))
        torch.testing.assert_close(got_grad, want_grad, rtol=1e-4, atol=1e-5)


CUDA_SHAPES = ((40, 8, 3, 5, 5), (17, 3, 300))       # conv-shaped; and T not a multiple of UNROLL over 8 blocks


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the Triton kernels ran in Triton's "
                    "interpreter on CPU tensors above instead")
@pytest.mark.parametrize("model,reset,cap,surrogate", CASES)
def test_on_cuda_the_triton_kernels_equal_the_reference_loop(model, reset, cap, surrogate):
    recording, reference = recordings(model)
    assert fused.backend_for(torch.zeros(1, device="cuda")) == "triton"
    for shape in CUDA_SHAPES:
        for dtype, tolerance in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
            currents = drive(shape, seed=6, dtype=dtype)
            upstream = [torch.randn(shape, generator=torch.Generator().manual_seed(k), dtype=dtype) for k in range(3)]
            want, want_grad = gradients(reference, currents, params(model, reset, cap, surrogate, "reference"),
                                        upstream)
            on_gpu = currents.detach().cuda().requires_grad_()
            got, got_grad = gradients(recording, on_gpu, params(model, reset, cap, surrogate),
                                      [g.cuda() for g in upstream])
            assert all(torch.equal(a.cpu(), b) for a, b in zip(got, want)), (shape, dtype)
            torch.testing.assert_close(got_grad.cpu(), want_grad, rtol=tolerance, atol=tolerance / 10)


def test_spikes_only_paths_use_the_kernel_and_agree():
    currents = drive((30, 5, 7), seed=4)
    cases = ((lif_spikes, params("lif", "soft", 0, "atan")), (cuba_spikes, params("cuba", None, 1, "atan")))
    for spikes_of, p in cases:
        grads = []
        for kernel in ("fused", "reference"):
            currents.grad = None
            out = spikes_of(currents, p._replace(kernel=kernel))
            (out * torch.linspace(-1, 1, 7, dtype=torch.float64)).sum().backward()
            nodes = [out.grad_fn.name()] + [node.name() for node, _ in out.grad_fn.next_functions if node]
            grads.append((out.detach(), currents.grad.clone(), " ".join(nodes)))
        assert torch.equal(grads[0][0], grads[1][0])
        torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-10, atol=1e-12)
        assert "Fused" in grads[0][2] and "Fused" not in grads[1][2]


def test_same_inputs_give_the_same_gradients_twice():
    currents = drive((20, 6, 11), seed=5, dtype=torch.float32)
    runs = []
    for _ in range(2):
        currents.grad = None
        lif_spikes(currents, params("lif", "hard", 3, "fast-sigmoid")).sum().backward()
        runs.append(currents.grad.clone())
    assert torch.equal(runs[0], runs[1])


def test_unknown_kernel_or_reset_is_refused_with_the_allowed_values():
    currents = torch.rand(3, 2, 4)
    with pytest.raises(ValueError, match="kernel='triton' is not known; allowed: fused, reference"):
        lif_spikes(currents, LIFParams(kernel="triton"))
    with pytest.raises(ValueError, match="reset='zero' is not known; allowed: hard, soft"):
        lif_spikes(currents, LIFParams(reset="zero"))
    with pytest.raises(ValueError, match=r"allowed: \[T, B, ...\]"):
        lif_spikes(torch.rand(5), LIFParams())


def test_the_config_kernel_reaches_every_layer():
    for kernel in ("fused", "reference"):
        for neuron in ("lif", "cuba"):
            cfg = RunConfig().with_values({"kernel": kernel, "neuron": neuron, "hidden": "8"})
            model = build_model(cfg, (16,), 3)
            assert [layer.neuron.kernel for layer in model.layers] == [kernel] * len(model.layers)
    assert RunConfig().neuron.kernel == "fused"


def tiny_training(kernel: str, values: dict, frame_shape: tuple[int, ...]):
    """Losses and final weights of a few SGD steps of a tiny network, float64 so the paths compare tightly."""
    torch.manual_seed(0)
    model = build_model(RunConfig().with_values({**values, "kernel": kernel}), frame_shape, 3).double()
    generator = torch.Generator().manual_seed(1)
    inputs = (torch.rand(8, 6, *frame_shape, generator=generator, dtype=torch.float64) < 0.4).double()
    labels = torch.randint(0, 3, (6,), generator=generator)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(4):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs).logits, labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses, [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("values,frame_shape", [
    ({"hidden": "12", "reset": "soft", "v-reset": 0.0}, (16,)),
    ({"hidden": "12", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1, "threshold": 0.3}, (16,)),
    ({"arch": "conv", "channels": "4", "hidden": "8"}, (1, 8, 8)),
])
def test_a_tiny_network_trains_the_same_with_either_kernel(values, frame_shape):
    fused_losses, fused_weights = tiny_training("fused", values, frame_shape)
    reference_losses, reference_weights = tiny_training("reference", values, frame_shape)
    assert fused_losses == pytest.approx(reference_losses, rel=1e-9)
    assert len(set(fused_losses)) > 1                                   # it did learn something
    for got, want in zip(fused_weights, reference_weights):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


def test_recorded_traces_equal_the_reference_loops():
    values = {"hidden": "12", "reset": "hard", "v-reset": -0.2}
    traces = []
    for kernel in ("fused", "reference"):
        torch.manual_seed(0)
        model = build_model(RunConfig().with_values({**values, "kernel": kernel}), (16,), 3)
        x = (torch.rand(10, 5, 16, generator=torch.Generator().manual_seed(2)) < 0.5).float()
        traces.append(model(x, record=torch.tensor([0, 3])).trace)
    for got, want in zip(traces[0].layers, traces[1].layers):
        assert got.name == want.name
        assert all(torch.equal(a, b) for a, b in zip(got[1:], want[1:]))
