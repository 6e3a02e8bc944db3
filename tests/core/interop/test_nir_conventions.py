"""Graphs in other libraries' conventions, built by hand with ``nir``: r = 1 LIFs and CubaLIFs with their input
gain folded into the synapse run spike for spike as a direct simulation of the graph's equations (forward Euler,
as ``nir_neurons`` documents), what does not map is refused by name, and the reset NIR does not record is never
assumed silently."""
import warnings

import nir
import numpy as np
import pytest
import torch

from snn_core.checkpoint import load_weights, model_from_bytes
from snn_core.interop.nir_files import model_bytes_of_nir
from snn_core.interop.nir_graph import graph_to_bytes
from snn_core.interop.nir_import import ResetAssumed, chain, import_nir
from snn_core.methods.registry import build_model

T, BATCH = 12, 16


def full(shape, value) -> np.ndarray:
    return np.full(shape, value, dtype=np.float64)


def lif(shape, tau: float, r: float, threshold: float = 1.0, **metadata) -> nir.LIF:
    return nir.LIF(tau=full(shape, tau), r=full(shape, r), v_leak=full(shape, 0.0),
                   v_threshold=full(shape, threshold), v_reset=full(shape, 0.0), metadata=metadata)


def cuba(shape, alpha: float, beta: float, dt: float, r: float, w_in: float, threshold: float = 1.0,
         **changes) -> nir.CubaLIF:
    values = {"tau_syn": dt / (1 - alpha), "tau_mem": dt / (1 - beta), "r": r, "w_in": w_in, "v_leak": 0.0,
              "v_threshold": threshold, "v_reset": 0.0, **changes}
    return nir.CubaLIF(**{key: full(shape, value) for key, value in values.items()})


def affine(n_out: int, n_in: int, seed: int, scale: float = 1.0) -> nir.Affine:
    rng = np.random.default_rng(seed)
    return nir.Affine(weight=(rng.normal(size=(n_out, n_in)) * scale / np.sqrt(n_in)).astype(np.float32),
                      bias=(rng.normal(size=n_out) * 0.1).astype(np.float32))


def conv(n_out: int, n_in: int, seed: int) -> nir.Conv2d:
    rng = np.random.default_rng(seed)
    weight = (rng.normal(size=(n_out, n_in, 3, 3)) * 2 / np.sqrt(9 * n_in)).astype(np.float32)
    return nir.Conv2d(input_shape=(8, 8), weight=weight, stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(n_out, dtype=np.float32))


def with_dt(graph: nir.NIRGraph, dt: float) -> nir.NIRGraph:
    graph.metadata = {"dt": dt}
    return graph


def euler(graph: nir.NIRGraph, x: torch.Tensor, dt: float, reset: str) -> list[torch.Tensor]:
    """Every neuron node's spikes ``[T, B, ...]`` from the graph's own equations in float64: forward Euler with
    ``dt``, the input held over the step, the current updated before the membrane, a spike at ``v >= v_threshold``
    and ``reset`` ("hard": v = v_reset, "subtract": v -= v_threshold)."""
    state, spikes = {}, {}
    for step in x.double():                                                      # (B, ...)
        h = step
        for name, node in chain(graph):
            p = {key: torch.as_tensor(np.asarray(value, dtype=np.float64)) for key, value in vars(node).items()
                 if isinstance(value, np.ndarray)}
            if isinstance(node, nir.Affine):
                h = h @ p["weight"].T + p["bias"]
            elif isinstance(node, nir.Conv2d):
                h = torch.nn.functional.conv2d(h, p["weight"], p["bias"], padding=1)
            elif isinstance(node, nir.Flatten):
                h = h.flatten(1)
            else:
                i, v = state.get(name, (torch.zeros_like(h), torch.zeros_like(h)))
                if isinstance(node, nir.CubaLIF):
                    i = (1 - dt / p["tau_syn"]) * i + dt * p["w_in"] / p["tau_syn"] * h
                    v = (1 - dt / p["tau_mem"]) * v + dt * p["v_leak"] / p["tau_mem"] + dt * p["r"] / p["tau_mem"] * i
                else:
                    v = (1 - dt / p["tau"]) * v + dt * p["v_leak"] / p["tau"] + dt * p["r"] / p["tau"] * h
                h = (v >= p["v_threshold"]).double()
                v = v - p["v_threshold"] * h if reset == "subtract" else torch.where(h > 0, p["v_reset"], v)
                state[name] = (i, v)
                spikes.setdefault(name, []).append(h)
    return [torch.stack(steps) for steps in spikes.values()]


def run_imported(graph: nir.NIRGraph, x: torch.Tensor, **options) -> list[torch.Tensor]:
    saved = import_nir(graph, **options)
    model = build_model(saved.cfg, saved.frame_shape, saved.n_classes)
    load_weights(model, saved.tensors)
    with torch.no_grad():
        return [s.double() for s in model.eval()(x.float()).spikes]


def assert_same_spikes(ours: list[torch.Tensor], reference: list[torch.Tensor]) -> None:
    assert len(ours) == len(reference)
    for layer, (a, b) in enumerate(zip(ours, reference)):
        assert 0.02 < b.mean() < 0.6, f"layer {layer} fires {b.mean():.3f} of the time: the test would prove little"
        assert torch.equal(a.reshape(b.shape), b), f"layer {layer}: {(a.reshape(b.shape) != b).sum()} spikes differ"


def inputs(shape, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand((T, BATCH, *shape), generator=generator) < 0.4).double()          # (T, B, ...)


R1_GRAPHS = {    # r = 1 (Norse's LIFBoxCell, SpikingJelly's LIFNode): input gain dt/tau, folded into the synapse
    "mlp-dt1": (1.0, lambda dt: nir.NIRGraph.from_list(affine(32, 64, 1, 3.0), lif(32, 2 * dt, 1.0, 0.5),
                                                       affine(10, 32, 2, 3.0), lif(10, 2 * dt, 1.0, 0.5))),
    "mlp-dt1e-4": (1e-4, lambda dt: nir.NIRGraph.from_list(affine(32, 64, 3, 3.0), lif(32, 2 * dt, 1.0, 0.5),
                                                           affine(10, 32, 4, 3.0))),
    "conv": (1.0, lambda dt: nir.NIRGraph.from_list(conv(4, 2, 5), lif((4, 8, 8), 3 * dt, 1.0, 0.4),
                                                    nir.Flatten(input_type={"input": np.array([4, 8, 8])}, start_dim=0),
                                                    affine(10, 256, 6, 3.0), lif(10, 3 * dt, 1.0, 0.4))),
}


@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("case", list(R1_GRAPHS))
def test_r1_lif_graphs_import_with_the_gain_folded_and_match_the_euler_equations(case, reset):
    dt, make = R1_GRAPHS[case]
    graph = with_dt(make(dt), dt)
    x = inputs(tuple(np.ravel(graph.nodes["input"].input_type["input"])), seed=len(case))
    assert_same_spikes(run_imported(graph, x, reset=reset), euler(graph, x, dt, reset))


def test_the_r1_gain_goes_into_the_weight_and_bias_not_the_neuron():
    """tau = 4 at dt = 1, r = 1: decay 1 - 1/4 = 0.75 and gain dt*r/tau = 0.25 on W and b."""
    graph = nir.NIRGraph.from_list(affine(8, 4, 0), lif(8, 4.0, 1.0), affine(3, 8, 1))
    with pytest.raises(ValueError, match=r"lif: the input gain is 0.25 at dt=1, and the graph does not record its "
                                         r"time step.*allowed: the dt it was written at"):
        import_nir(graph, reset="hard")                  # a gain other than r = tau/dt depends on dt: no default
    saved = import_nir(graph, dt=1.0, reset="hard")
    synapse = graph.nodes["affine"]
    assert saved.cfg.neuron.decay == 0.75 and saved.cfg.model.readout == "rate"
    np.testing.assert_allclose(saved.tensors["layers.0.synapse.weight"], 0.25 * synapse.weight, rtol=1e-7)
    np.testing.assert_allclose(saved.tensors["layers.0.synapse.bias"], 0.25 * synapse.bias, rtol=1e-7)
    np.testing.assert_array_equal(saved.tensors["readout.weight"], graph.nodes["affine_1"].weight)


CUBA_GRAPHS = {    # alpha = beta^2 = 0.64, the ratio of this engine's CUBA neuron
    "snntorch-synaptic": lambda dt: cuba(32, 0.64, 0.8, dt, r=1 / 0.2, w_in=1 / 0.36, threshold=1.0),
    "norse-r1": lambda dt: cuba(32, 0.64, 0.8, dt, r=1.0, w_in=1.0, threshold=0.15),
}


@pytest.mark.parametrize("dt", [1.0, 1e-4])
@pytest.mark.parametrize("case", list(CUBA_GRAPHS))
def test_cubalif_of_other_libraries_imports_when_it_maps_and_matches_the_euler_equations(case, dt):
    neuron = CUBA_GRAPHS[case](dt)
    graph = with_dt(nir.NIRGraph.from_list(affine(32, 64, 7, 2.0), neuron, affine(10, 32, 8)), dt)
    saved = import_nir(graph, reset="subtract")
    assert saved.cfg.neuron.model == "cuba" and saved.cfg.neuron.tau_syn == pytest.approx(-1 / np.log(0.64))
    x = inputs((64,), seed=9)
    assert_same_spikes(run_imported(graph, x, reset="subtract"), euler(graph, x, dt, "subtract"))


@pytest.mark.parametrize(("changes", "options", "message"), [
    ({"alpha": 0.6}, {"reset": "subtract"},
     r"tau_mem=5 and tau_syn=2.5 give beta\^2 = 0.64 and alpha = 0.6; allowed: beta\^2 = alpha"),
    ({"v_leak": 0.2}, {"reset": "subtract"}, r"v_leak is not 0; allowed: 0"),
    ({"v_reset": -0.5}, {"reset": "subtract"}, r"v_reset=-0.5 with reset by subtraction .* allowed: v_reset = 0"),
    ({}, {}, r"a CubaLIF that resets to v_reset .* allowed: reset by subtraction.* reset='subtract'"),
    ({}, {"reset": "hard"}, r"a CubaLIF that resets to v_reset"),
    ({"r": 0.0}, {"reset": "subtract"}, r"the input gain dt\*w_in\*r/tau_syn is 0; allowed: a positive"),
    ({"alpha": 1.5}, {"reset": "subtract"}, r"tau_syn=-2, tau_mem=5 are not valid at dt=1; allowed: both above dt"),
])
def test_cubalif_that_does_not_map_is_refused_naming_the_parameter(changes, options, message):
    values = {"alpha": 0.64, "beta": 0.8, "dt": 1.0, "r": 5.0, "w_in": 1 / 0.36, **changes}
    neuron = cuba(16, **values)
    for key in ("v_leak", "v_reset"):
        if key in changes:
            setattr(neuron, key, full(16, changes[key]))
    with pytest.raises(ValueError, match=message):
        import_nir(nir.NIRGraph.from_list(affine(16, 64, 0), neuron, affine(10, 16, 1)), **options)


def foreign_lif_graph(**metadata) -> nir.NIRGraph:
    return nir.NIRGraph.from_list(affine(16, 64, 0), lif(16, 2.0, 2.0, **metadata), affine(10, 16, 1))


def test_an_unstated_reset_is_imported_as_hard_with_a_warning_naming_the_option():
    with pytest.warns(ResetAssumed, match=r"NIR does not record how a neuron resets, and nodes 'lif' do not say: "
                                          r"imported with NIR's reset to v_reset .* reset='subtract'"):
        saved = import_nir(foreign_lif_graph())
    assert saved.cfg.neuron.reset == "hard"


@pytest.mark.parametrize(("options", "reset"), [({"reset": "subtract"}, "soft"), ({"reset": "hard"}, "hard")])
def test_an_import_that_states_the_reset_gets_it_without_a_warning(options, reset):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResetAssumed)
        saved = import_nir(foreign_lif_graph(), **options)
        data = model_bytes_of_nir(graph_to_bytes(foreign_lif_graph()), **options)     # the CLI's and app's way in
    assert saved.cfg.neuron.reset == reset and model_from_bytes(data)[0].neuron.reset == reset


def test_a_node_that_states_its_reset_is_read_so_and_a_contrary_option_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResetAssumed)
        assert import_nir(foreign_lif_graph(reset="subtract")).cfg.neuron.reset == "soft"
        assert import_nir(foreign_lif_graph(reset="hard")).cfg.neuron.reset == "hard"
    with pytest.raises(ValueError, match=r"lif: its metadata says reset='subtract', the import was asked for "
                                         r"reset='hard'"):
        import_nir(foreign_lif_graph(reset="subtract"), reset="hard")
    with pytest.raises(ValueError, match=r"lif: metadata reset='zero' is not known; allowed: hard, subtract"):
        import_nir(foreign_lif_graph(reset="zero"))
    with pytest.raises(ValueError, match=r"reset='zero' is not known; allowed: hard, subtract"):
        import_nir(foreign_lif_graph(), reset="zero")


def test_spikingjelly_default_lifnode_runs_here_as_it_runs_there():
    """SpikingJelly's default ``LIFNode(tau=2)`` (decay_input: H = V + (X - V) / tau, so r = 1) exported by its own
    ``export_to_nir`` at its dt = 1e-4: imported with the gain 1/tau folded, the same spikes in both layers."""
    pytest.importorskip("spikingjelly", reason="SpikingJelly is not installed (requirements-bench.txt has it)")
    from spikingjelly.activation_based import functional, neuron
    from spikingjelly.activation_based.nir_exchange.to_nir import export_to_nir

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), neuron.LIFNode(tau=2.0), torch.nn.Linear(32, 10),
                              neuron.LIFNode(tau=2.0))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
        net[2].weight.mul_(8.0)
    x = inputs((64,), seed=11).float()                                             # (T, B, 64)
    recorded = []
    for node in (net[1], net[3]):
        node.register_forward_hook(lambda module, args, out: recorded.append(out))
    functional.reset_net(net)
    with torch.no_grad():
        for step in x:
            net(step)
    theirs = [torch.stack(recorded[0::2]).double(), torch.stack(recorded[1::2]).double()]   # (T, B, n) each
    graph = export_to_nir(net, x[0], dt=1e-4)
    assert_same_spikes(run_imported(graph, x.double(), dt=1e-4, reset="hard"), theirs)
