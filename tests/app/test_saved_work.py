"""Open saved work: run/config JSONs set the sidebar, a saved model opens in the Spike explorer, and files that are
not ours, of another version or of another shape are refused with the reason while the session keeps its state."""
import json

import pytest
import torch
from safetensors.torch import save

from app_runner import open_script, shown_text
from snn_app import saved
from snn_app.training import model_file, result_json
from snn_core.checkpoint import FORMAT
from snn_core.training.trainer import Trainer


@pytest.fixture(scope="module")
def trained(tiny) -> Trainer:
    trainer = Trainer(tiny(hidden="24", T=4, seed=3))
    trainer.run_epoch()
    return trainer


@pytest.fixture(scope="module")
def files(trained, tmp_path_factory) -> dict:
    """The files Train & watch saves, plus a compare JSON, a file that is not ours, and two models we cannot open."""
    folder = tmp_path_factory.mktemp("saved")
    data = model_file(trained)
    header_length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_length])
    weights = {name: torch.zeros(header[name]["shape"]) for name in header if name != "__metadata__"}
    renamed = {name: (torch.zeros(3, 3) if name == "layers.0.synapse.weight" else t) for name, t in weights.items()}
    contents = {
        "model.safetensors": data,
        "run.json": result_json(trained).encode(),
        "config.json": trained.cfg.to_json().encode(),
        "compare.json": json.dumps({"base": trained.cfg.to_dict(), "variant": {}, "seeds": [0]}).encode(),
        "notes.txt": b"hello, not ours",
        "v2.safetensors": save(weights, metadata={**header["__metadata__"], "format": "snn-explorer/2"}),
        "other-shape.safetensors": save(renamed, metadata=header["__metadata__"]),
        "bad-config.json": json.dumps({"config": {"neuron": {"threshold": -1.0}}}).encode(),
    }
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in contents}


@pytest.mark.parametrize("name", ["run.json", "config.json", "compare.json"])
def test_every_json_the_app_writes_gives_back_its_config(files, trained, name):
    opened = saved.read(name, files[name].read_bytes())
    assert opened.kind == "settings" and opened.cfg == trained.cfg and opened.trainer is None


def test_a_saved_model_comes_back_with_its_weights(files, trained):
    opened = saved.read("model.safetensors", files["model.safetensors"].read_bytes())
    assert opened.kind == "model" and opened.cfg == trained.cfg
    for name, tensor in trained.model.state_dict().items():
        assert torch.equal(opened.trainer.model.state_dict()[name].cpu(), tensor.cpu())


@pytest.mark.parametrize(("name", "message"), [
    ("notes.txt", "not a file SNN Explorer saves: expected a run or config JSON"),
    ("v2.safetensors", r"another version \('snn-explorer/2'\); this version reads " + repr(FORMAT)),
    ("other-shape.safetensors", r"tensor 'layers.0.synapse.weight' has shape \[3, 3\] in the file, .* needs \[24, "),
    ("bad-config.json", "config does not validate: .*threshold"),
])
def test_files_we_cannot_open_are_refused_with_the_reason(files, name, message):
    with pytest.raises(ValueError, match=message):
        saved.read(name, files[name].read_bytes())


def test_json_without_a_config_and_oversized_files_are_refused(monkeypatch):
    with pytest.raises(ValueError, match="a JSON file without a config"):
        saved.read("x.json", b'{"history": []}')
    monkeypatch.setattr(saved, "MAX_UPLOAD_MB", 0)
    with pytest.raises(ValueError, match="saved files of at most 0 MB"):
        saved.read("x.json", b"{}")


def explorer_with(trainer: Trainer | None):
    app = open_script("app.py")
    app.session_state["trainer"] = trainer
    return app.switch_page("app_pages/explorer.py").run()


def test_opening_a_saved_model_shows_it_in_the_explorer(files, trained, tiny):
    app = explorer_with(None)
    app.text_input(key="saved_path").input(str(files["model.safetensors"])).run()
    assert not app.exception and not app.error
    assert "Opened **model.safetensors**" in shown_text(app.success[0].value)
    assert any("opened from **model.safetensors**" in caption.value for caption in app.caption)
    opened = app.session_state["trainer"]
    assert opened.cfg == trained.cfg and app.session_state["config"] == trained.cfg
    assert torch.equal(opened.model.state_dict()["layers.0.synapse.weight"].cpu(),
                       trained.model.state_dict()["layers.0.synapse.weight"].cpu())
    assert app.get("plotly_chart") and app.text_input(key="cfg:hidden").value == "24"


@pytest.mark.parametrize("name", ["notes.txt", "other-shape.safetensors"])
def test_a_bad_file_is_refused_visibly_and_the_session_keeps_its_model_and_settings(files, trained, name):
    app = explorer_with(trained)
    config = app.session_state["config"]
    app.text_input(key="saved_path").input(str(files[name])).run()
    assert not app.exception and f"Cannot open {name}" in shown_text(app.error[0].value)
    assert app.session_state["trainer"] is trained and app.session_state["config"] == config
    assert app.get("plotly_chart")                                   # the explorer still shows the model


def test_a_run_json_sets_the_sidebar(files, trained):
    app = explorer_with(None)
    app.text_input(key="saved_path").input(str(files["run.json"])).run()
    assert not app.exception and "sidebar has its settings" in app.success[0].value
    assert app.text_input(key="cfg:hidden").value == "24" and app.slider(key="cfg:T").value == 4
    assert app.number_input(key="cfg:seed").value == 3 and app.session_state["config"] == trained.cfg
    assert app.session_state["trainer"] is None                      # settings only: no model opened
