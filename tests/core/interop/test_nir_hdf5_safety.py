"""A .nir file is HDF5: one that points outside itself (external storage, a virtual dataset, an external link)
or declares more than it may decode is refused before nir reads it, by ``model_bytes_of_nir`` (the app's way in)
and by ``python -m snn_core import``; nodes that no network can be made of (bytes, compound or complex data,
tau = 0, a bad dt) are refused by name. The legitimate file still imports."""
import resource
import tracemalloc

import nir
import numpy as np
import pytest

import hostile_hdf5 as hostile
from snn_core import cli
from snn_core.interop.nir_files import model_bytes_of_nir
from snn_core.interop.nir_graph import graph_from_bytes
from snn_core.interop.nir_import import import_nir
from snn_core.interop.nir_neurons import from_node


@pytest.fixture
def canaries(tmp_path):
    return hostile.write_canaries(tmp_path)


def test_the_legitimate_graph_imports(tmp_path):
    data = model_bytes_of_nir(hostile.legit_nir(tmp_path / "g.nir").read_bytes())
    assert data[8:9] == b"{" and not hostile.leaked(data)


@pytest.mark.parametrize(("name", "rule"), [
    ("external storage", r"keeps its data in another file \('.*canary.bin', HDF5 external storage\); allowed: data "
                         "stored inside the file"),
    ("virtual dataset", r"is a virtual dataset \(data mapped from '.*canary.h5'\); allowed: data stored inside"),
    ("external link", r"is an external link to '.*canary.h5':'/secret'; allowed: hard links inside the file only"),
])
def test_a_nir_file_pointing_at_another_file_is_refused_and_nothing_of_it_leaks(tmp_path, canaries, capsys, name,
                                                                               rule):
    path = hostile.NAMED["nir"][name](tmp_path / "model.nir", canaries)
    with pytest.raises(ValueError, match=rf"^not a NIR graph that nir {nir.version} reads: "
                                         rf"'/node/nodes/fc1.synapse/weight' {rule}") as caught:
        model_bytes_of_nir(path.read_bytes())
    assert "\n" not in str(caught.value)
    out = tmp_path / "out.safetensors"
    assert cli.main(["import", "--model", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "'/node/nodes/fc1.synapse/weight'" in captured.err
    assert not out.exists() and not hostile.leaked((captured.out + captured.err).encode())


def test_a_55_kb_nir_file_declaring_8_gb_is_refused_before_anything_is_allocated(tmp_path):
    data = hostile.nir_huge_declared(tmp_path / "huge.nir").read_bytes()
    assert len(data) < 60_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"'/node/nodes/fc1.synapse/weight' declares 1,000,000,000 elements of 8 "
                                             r"bytes: 7,629.4 MB decoded; the limit is 512 MB "
                                             r"\(SNN_MAX_NIR_DECODE_MB\)"):
            graph_from_bytes(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20 and (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100


def test_the_nir_limit_is_a_setting_read_at_each_call(tmp_path, monkeypatch):
    data = hostile.legit_nir(tmp_path / "g.nir").read_bytes()
    monkeypatch.setenv("SNN_MAX_NIR_DECODE_MB", "0.001")               # 1 KB: the 16 x 64 float32 weight is 4 KB
    with pytest.raises(ValueError, match=r"'/node/nodes/[^']+' brings the file's decoded size to 1,\d\d\d bytes; the "
                                         r"limit is 0.001 MB \(SNN_MAX_NIR_DECODE_MB\)"):
        graph_from_bytes(data)
    monkeypatch.setenv("SNN_MAX_NIR_DECODE_MB", "-3")
    with pytest.raises(ValueError, match=r"SNN_MAX_NIR_DECODE_MB='-3' is not a size"):
        graph_from_bytes(data)
    monkeypatch.delenv("SNN_MAX_NIR_DECODE_MB")
    assert isinstance(graph_from_bytes(data), nir.NIRGraph)


def test_tau_zero_in_a_file_is_refused_by_name_and_the_cli_exits_2(tmp_path, capsys):
    path = hostile.nir_tau_zero(tmp_path / "tau0.nir")
    with pytest.raises(ValueError, match=r"^fc1.neuron: tau=0 at dt=1 gives the decay 1 - dt/tau outside \[0, 1\]; "
                                         r"allowed: tau >= dt"):
        model_bytes_of_nir(path.read_bytes())
    assert cli.main(["import", "--model", str(path), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def graph(weight=None, **lif) -> nir.NIRGraph:
    built = hostile.nir_graph(**lif)
    if weight is not None:
        built.nodes["fc1.synapse"].weight = weight
    return built


@pytest.mark.parametrize(("make", "message"), [
    (lambda: graph(np.ones((16, 64), np.complex64)),
     r"node 'fc1.synapse': weight holds complex numbers \(complex64\); allowed: real numbers"),
    (lambda: graph(np.full((16, 64), b"1.0")), r"node 'fc1.synapse': weight holds bytes \(\|S3\); allowed: real"),
    (lambda: graph(np.zeros((16, 64), dtype=[("a", "<f4"), ("b", "<i4")])),
     r"node 'fc1.synapse': weight holds compound or opaque data"),
    (lambda: graph(np.full((16, 64), None, dtype=object)), r"node 'fc1.synapse': weight holds Python objects"),
    (lambda: graph(np.full((16, 64), np.nan, np.float32)), r"node 'fc1.synapse': weight holds NaN or infinite"),
    (lambda: graph(tau=0.0, r=0.0), r"fc1.neuron: tau=0 at dt=1 gives the decay 1 - dt/tau outside \[0, 1\]"),
    (lambda: graph(tau=0.5, r=0.5), r"fc1.neuron: tau=0.5 at dt=1 gives the decay"),
    (lambda: graph(tau=np.inf), r"node 'fc1.neuron': tau holds NaN or infinite values"),
])
def test_nodes_of_data_no_network_is_made_of_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        import_nir(make())


@pytest.mark.parametrize("dt", [0.0, -1.0, float("nan"), b"1", np.array([1.0, 2.0])])
def test_a_bad_time_step_is_refused(dt):
    with pytest.raises(ValueError, match=r"the graph's time step dt=.* is not valid; allowed: one positive, finite"):
        import_nir(graph(), dt=dt)


def test_cuba_time_constants_of_zero_are_refused_not_divided_by():
    node = nir.CubaLIF(tau_syn=np.zeros(4), tau_mem=np.zeros(4), r=np.ones(4), v_leak=np.zeros(4),
                       v_threshold=np.ones(4), w_in=np.ones(4))
    with pytest.raises(ValueError, match=r"n: tau_syn=0, tau_mem=0 are not valid at dt=1; allowed: both above dt"):
        from_node(node, 1.0, "n")
