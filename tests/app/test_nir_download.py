"""NIR in the app: Train & watch offers the model as NIR, or says visibly why it cannot; a ``.nir`` file opens
where saved models open, and the opened network fires the spikes of the one that was exported."""
import pytest
import torch

from app_runner import open_script, shown_text, wait_for_training
from snn_app import saved
from snn_app.downloads import nir_file, nir_problem
from snn_core.training.trainer import Trainer

PAGE = {"epochs": 1, "train-samples": 100, "test-samples": 40, "hidden": 16, "threshold": 0.3}


def trained_page(settings: dict):
    at = open_script("app_pages/train.py", settings)
    at.button(key="play_pause").click().run()
    return wait_for_training(at)


def test_the_model_downloads_as_nir_beside_the_safetensors(tiny_values):
    at = trained_page(tiny_values(PAGE))
    labels = [button.label for button in at.get("download_button")]
    assert "model (NIR)" in labels and not at.warning


def test_a_model_nir_cannot_express_shows_why_instead_of_the_button(tiny_values):
    at = trained_page(tiny_values(PAGE, **{"max-spikes": 1}))
    assert "model (NIR)" not in [button.label for button in at.get("download_button")]
    assert any("No NIR download: the spike cap K=1 (max-spikes)" in warning.value for warning in at.warning)


@pytest.fixture(scope="module")
def trained(tiny) -> Trainer:
    trainer = Trainer(tiny(hidden="24", T=4, threshold=0.3, seed=3))
    trainer.run_epoch()
    return trainer


def test_a_nir_file_opens_as_a_model_that_fires_the_same_spikes(trained):
    assert nir_problem(trained) is None
    opened = saved.read("model.nir", nir_file(trained))
    assert opened.kind == "model" and not opened.trainer.cfg.model.batch_norm
    assert opened.cfg == trained.cfg.with_values({"batch-norm": "false"})
    x = trained.inputs(trained.dataset.test_x[:8], None)
    trained.model.eval(), opened.trainer.model.eval()
    with torch.no_grad():
        for ours, theirs in zip(trained.model(x).spikes, opened.trainer.model(x.to(opened.trainer.device)).spikes):
            assert ours.sum() > 0 and torch.equal(ours.cpu(), theirs.cpu())


def test_opening_a_nir_file_in_the_explorer_shows_it(trained, tmp_path):
    path = tmp_path / "model.nir"
    path.write_bytes(nir_file(trained))
    app = open_script("app.py")
    app = app.switch_page("app_pages/explorer.py").run()
    app.text_input(key="saved_path").input(str(path)).run()
    assert not app.exception and not app.error
    assert "Opened **model.nir**" in shown_text(app.success[0].value)
    assert app.session_state["trainer"].cfg.model.hidden == (24,)


def test_a_broken_nir_file_is_refused_with_the_reason(trained):
    with pytest.raises(ValueError, match="not a NIR graph that nir"):
        saved.read("model.nir", nir_file(trained)[:200])


def test_a_graph_from_elsewhere_that_does_not_say_its_reset_opens_with_a_visible_note(trained, tmp_path):
    """NIR 1.0 has no reset field: a graph without this engine's markers is imported as reset to v_reset, and the
    explorer says so (the import's ResetAssumed warning), instead of a plain success."""
    from snn_core.interop.nir_graph import export_nir, graph_to_bytes

    graph = export_nir(trained.model, trained.cfg, tuple(trained.dataset.frame_shape))
    graph.metadata = {"dt": graph.metadata["dt"]}          # another library's: no source, no reset markers (an
    #                                                        r = 1 graph's input gain needs its dt, so dt stays)
    path = tmp_path / "elsewhere.nir"
    path.write_bytes(graph_to_bytes(graph))
    app = open_script("app.py")
    app = app.switch_page("app_pages/explorer.py").run()
    app.text_input(key="saved_path").input(str(path)).run()
    assert not app.exception and not app.error and not app.success
    note = shown_text(app.warning[0].value)
    assert "Opened **elsewhere.nir**" in note and "Note:" in note and "reset" in note
