"""What NIR cannot express is refused with a message naming it; so are graphs this engine cannot run; and the CLI's
train --save-model / export / import round trip, with exit code 2 and one line on bad input."""
import json

import nir
import numpy as np
import pytest

from snn_core import cli
from snn_core.checkpoint import model_from_bytes
from snn_core.config.run_config import RunConfig
from snn_core.interop.nir_graph import export_nir, graph_from_bytes
from snn_core.interop.nir_import import import_nir
from snn_core.methods.registry import build_model


@pytest.mark.parametrize(("settings", "message"), [
    ({"max-spikes": 2}, r"the spike cap K=2 \(max-spikes\) cannot be exported to NIR"),
    ({"dataset": "events-shape", "arch": "conv", "channels": "4", "asa": "clean"},
     r"ASA's current gates on conv1 cannot be exported to NIR"),
    ({"engine": "exact", "neuron": "cuba", "readout": "first-spike", "encoding": "latency", "max-spikes": 1,
      "batch-norm": "false"}, r"model.engine='exact' cannot be exported to NIR"),
])
def test_what_nir_cannot_express_is_refused_by_name(tiny, settings, message):
    cfg = tiny(settings)
    shape = (2, 32, 32) if cfg.data.dataset == "events-shape" else (64,)
    with pytest.raises(ValueError, match=message):
        export_nir(build_model(cfg, shape, 10), cfg, shape)


def lif(n: int, **changes) -> nir.LIF:
    values = {"tau": 2.0, "r": 2.0, "v_leak": 0.0, "v_threshold": 1.0, **changes}
    return nir.LIF(**{key: np.full(n, value, dtype=float) for key, value in values.items()})


def graph(*nodes) -> nir.NIRGraph:
    return nir.NIRGraph.from_list(*nodes)


def affine(n_out: int, n_in: int) -> nir.Affine:
    return nir.Affine(weight=np.ones((n_out, n_in), dtype=np.float32), bias=np.zeros(n_out, dtype=np.float32))


def test_a_foreign_mlp_graph_imports_with_its_neuron_settings():
    saved = import_nir(graph(affine(16, 64), lif(16, tau=4.0, r=4.0), affine(10, 16)), reset="hard")
    assert saved.cfg.model.hidden == (16,) and saved.cfg.model.readout == "rate" and not saved.cfg.model.batch_norm
    assert saved.cfg.neuron.decay == 0.75 and saved.frame_shape == (64,) and saved.n_classes == 10


@pytest.mark.parametrize(("nodes", "message"), [
    (lambda: [affine(16, 64), lif(16, v_leak=0.5), affine(10, 16)], r"v_leak is not 0"),
    (lambda: [affine(16, 64), lif(16, r=0.0), affine(10, 16)],
     r"lif: the input gain dt\*r/tau is 0; allowed: a positive, finite number"),
    (lambda: [lif(64), affine(10, 64)], r"lif: a LIF with no Conv2d, Affine or Linear right before it"),
    (lambda: [affine(16, 64), nir.LIF(tau=np.linspace(2, 3, 16), r=np.linspace(2, 3, 16), v_leak=np.zeros(16),
                                      v_threshold=np.ones(16)), affine(10, 16)],
     r"lif: r differs between neurons \(2 to 3\)"),
    (lambda: [affine(16, 64), lif(16), affine(8, 16), lif(8, v_threshold=2.0), affine(10, 8)],
     r"differ from the first layer's"),
    (lambda: [affine(16, 64), nir.Threshold(threshold=np.ones(16)), affine(10, 16)], r"a Affine here"),
])
def test_graphs_this_engine_cannot_run_are_refused_by_name(nodes, message):
    with pytest.raises(ValueError, match=message):
        import_nir(graph(*nodes()))


def test_files_that_are_no_nir_graph_are_refused():
    with pytest.raises(ValueError, match="not a NIR file: it is no HDF5 file"):
        graph_from_bytes(b'{"config": 1}')
    with pytest.raises(ValueError, match="not a NIR graph that nir"):
        graph_from_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)


def cli_words(settings: dict) -> list[str]:
    return [word for key, value in settings.items() for word in (f"--{key}", value)]


def test_cli_train_save_model_export_and_import_round_trip(tiny_values, tmp_path, capsys):
    model, graph_file, back = tmp_path / "run.safetensors", tmp_path / "model.nir", tmp_path / "back.safetensors"
    assert cli.main(["train", *cli_words(tiny_values()), "--quiet", "--save-model", str(model)]) == 0
    capsys.readouterr()
    assert cli.main(["export", "--model", str(model), "--format", "nir", "--out", str(graph_file)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["nodes"]["fc1.neuron"] == "LIF" and exported["nodes"]["readout"] == "Affine"
    assert isinstance(nir.read(graph_file), nir.NIRGraph)
    assert cli.main(["import", "--model", str(graph_file), "--out", str(back)]) == 0
    imported = json.loads(capsys.readouterr().out)
    cfg, _ = model_from_bytes(back.read_bytes())
    original, _ = model_from_bytes(model.read_bytes())
    assert RunConfig.from_dict(imported["config"]) == cfg and not cfg.model.batch_norm
    assert cfg == original.with_values({"batch-norm": "false"})


def test_cli_export_of_what_nir_cannot_express_exits_2_with_one_line(tiny_values, tmp_path, capsys):
    model = tmp_path / "capped.safetensors"
    settings = cli_words(tiny_values({"max-spikes": 1}))
    assert cli.main(["train", *settings, "--quiet", "--save-model", str(model)]) == 0
    capsys.readouterr()
    assert cli.main(["export", "--model", str(model), "--out", str(tmp_path / "m.nir")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the spike cap K=1 (max-spikes) cannot be exported to NIR" in err
    assert cli.main(["import", "--model", str(model), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "not a NIR file" in capsys.readouterr().err
    assert cli.main(["export", "--model", str(tmp_path / "missing.safetensors"), "--out", "m.nir"]) == 2
    assert "--model" in capsys.readouterr().err
