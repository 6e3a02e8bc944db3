"""The Cost & energy page and its glue (snn_app.energy): it renders, and a tiny Pareto study runs as a background job
to the fronts figure and the verdict table (the study's statistics: tests/core/experiments/test_pareto.py)."""
from types import SimpleNamespace

import pytest

from app_runner import open_script
from snn_app import energy as glue
from snn_app import jobs
from snn_app.pages import page

TINY = {"train-samples": 64, "test-samples": 40, "epochs": 1}


def test_page_renders_with_its_equations_and_tiny_defaults():
    at = open_script("app_pages/energy.py")
    assert not at.exception and not at.error
    assert page("app_pages/energy.py").title == "Cost & energy"
    assert at.multiselect(key="energy_families").value == list(glue.DEFAULT_FAMILIES)
    assert len(at.latex) == 2
    assert any("Run the fronts" in info.value for info in at.info)
    assert any("memory access" in caption.value for caption in at.caption)
    runs = at.button(key="energy_run").label
    assert runs == "Run the fronts (18 runs)"           # 2 families x 3 points x (1 trial + 2 seeds)


def test_a_family_without_its_control_is_drawn_but_not_tested():
    at = open_script("app_pages/energy.py")
    at.multiselect(key="energy_families").set_value(["asa-lambda"]).run()
    assert not at.exception
    assert any("has none of its controls" in caption.value for caption in at.caption)
    assert glue.untested(["asa-lambda", "threshold"]) == []


@pytest.fixture
def tiny_page(monkeypatch, tmp_path):
    monkeypatch.setattr(glue, "WORKERS", 1)                 # one process: no worker start-up in a test
    monkeypatch.setattr(glue, "SCALES", {"test size": TINY})
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    at = open_script("app_pages/energy.py", timeout=180)
    assert not at.exception
    return at


def test_a_tiny_study_runs_to_the_fronts_and_the_verdicts(tiny_page):
    at = tiny_page
    at.button(key="energy_run").click().run()
    assert not at.exception and not at.error
    snap = at.session_state[jobs.state_key(glue.JOB)].wait(180)
    assert snap.state == jobs.FINISHED, snap.error
    at.run()
    assert not at.exception and not at.error
    study = at.session_state.energy_study["study"]
    assert [front.family for front in study.fronts] == list(glue.DEFAULT_FAMILIES)
    assert study.seeds == (0, 1) and study.failed_runs == 0 and study.unfinished_runs == 0
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("Test accuracy against energy" in spec and '"type":"log"' in spec for spec in specs)
    assert any("Dominated area" in spec for spec in specs)
    table = at.dataframe[0].value
    assert list(table["method − control"]) == ["asa-gate − threshold"] and table["verdict"][0]
    at.radio(key="energy_axis").set_value("sops").run()
    assert not at.exception
    assert any("synaptic operations" in chart.proto.spec for chart in at.get("plotly_chart"))


def test_a_front_whose_best_point_stays_near_chance_is_named_as_not_learned():
    from snn_core.experiments.pareto import Front, FrontPoint, SeedPoint

    def front(name: str, accuracies: list[float]) -> Front:
        runs = [(SeedPoint(0, accuracy, 10.0, 5.0), SeedPoint(1, accuracy, 12.0, 6.0)) for accuracy in accuracies]
        points = tuple(FrontPoint(value, {}, None, seeds, 0) for value, seeds in enumerate(runs))
        return Front(name, "threshold", "", 0.1, points)

    study = SimpleNamespace(fronts=(front("threshold", [0.12, 0.29]), front("asa-gate", [0.2, 0.31])))
    assert glue.barely_learned(study) == ["threshold (best 29% against 10% chance)"]     # 0.31 is > chance + 0.2
