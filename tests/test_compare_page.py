"""Verdict sentences, comparison figures and the Compare page on a tiny config."""
import csv
import io

import pytest
from app_runner import open_script

from snn_app import comparison
from snn_core.config.run_config import RunConfig
from snn_core.report.verdict import describe, verdict
from snn_viz import compare_figures

TINY = {"T": "2", "epochs": "1", "train-samples": "80", "test-samples": "40", "hidden": "8"}


def stats(mean, low, high, wins=0, losses=0, n=5):
    return {"mean": mean, "ci_low": low, "ci_high": high, "sd": 0.1, "n": n, "wins": wins, "losses": losses,
            "ties": n - wins - losses}


def test_a_clear_drop_is_reported_with_its_interval_and_seed_count():
    text = describe("nasfr", stats(-0.08, -0.10, -0.06, losses=5))
    assert text == "the variant lowered NASFR by 0.0800 [0.0600, 0.1000], 5/5 seeds"


def test_an_interval_across_zero_is_no_evidence_and_accuracy_reads_in_points():
    text = describe("test_accuracy", stats(-0.003, -0.011, 0.005, wins=2, losses=3))
    assert text == "test accuracy change -0.3 points [-1.1, +0.5]: no evidence of a difference (5 seeds)"


def test_one_seed_gives_no_interval():
    one = {"mean": 0.1, "ci_low": None, "ci_high": None, "sd": None, "n": 1, "wins": 1, "losses": 0, "ties": 0}
    assert "too few for a confidence interval" in describe("test_accuracy", one)
    assert verdict({"test_accuracy": one, "other": one}) == [describe("test_accuracy", one)]


@pytest.fixture(scope="module")
def result():
    base, variant = comparison.arms(RunConfig().with_values(TINY), "max-spikes=1", 1.0)
    from snn_core.experiments.compare import compare
    return compare(base, variant, [0, 1], workers=1)


def test_comparison_figures_draw_both_arms_and_every_seed(result):
    bars = compare_figures.arm_bars(result)
    assert {trace.name for trace in bars.data} == {"base", "variant"}
    paired = compare_figures.paired_differences(result)
    assert "test accuracy" in paired.data[0].y
    scatter = compare_figures.tradeoff_scatter(result)
    assert sum(len(t.x) for t in scatter.data if t.mode == "markers") == 4          # 2 seeds x 2 arms


def test_per_seed_csv_has_a_row_per_seed_and_arm(result):
    rows = list(csv.DictReader(io.StringIO(comparison.per_seed_csv(result))))
    assert [(r["seed"], r["arm"]) for r in rows] == [("0", "base"), ("0", "variant"), ("1", "base"), ("1", "variant")]
    assert float(rows[0]["test_accuracy"]) == result["per_seed"][0]["base"]["metrics"]["test_accuracy"]


def test_arms_reject_empty_identical_and_invalid_variants():
    base = RunConfig()
    with pytest.raises(ValueError, match="at least one change"):
        comparison.arms(base, " ", 1.0)
    with pytest.raises(ValueError, match="identical"):
        comparison.arms(base, "T=8", 1.0)
    with pytest.raises(ValueError, match="allowed: integer 1..64"):
        comparison.arms(base, "T=0", 1.0)
    matched, _ = comparison.arms(base, "T=4", 2.0)
    assert matched.training.epochs == 2 * base.training.epochs


def test_compare_page_runs_a_tiny_comparison_and_shows_the_verdict():
    at = open_script("app_pages/compare.py", TINY, timeout=120)
    assert not at.exception and "Run comparison" in at.info[0].value
    at.number_input(key="cmp_seeds").set_value(2)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state.comparison["seeds"] == [0, 1]
    assert len(at.get("plotly_chart")) == 3
    assert "test accuracy" in at.markdown[-1].value or any("test accuracy" in m.value for m in at.markdown)
    assert {b.label for b in at.get("download_button")} == {"per-seed metrics (CSV)", "comparison (JSON)"}


def test_compare_page_shows_a_bad_variant_as_an_error():
    at = open_script("app_pages/compare.py")
    at.text_input(key="cmp_changes").set_value("colour=red")
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert "unknown option 'colour'" in at.error[0].value


def test_reproduce_report_measures_variability_and_lists_unbuilt_methods(monkeypatch):
    from snn_core.report import asa, reproduce

    tiny = RunConfig().with_values(TINY)
    monkeypatch.setattr(reproduce, "VARIABILITY_RUNS", {"tiny digits": tiny})
    monkeypatch.setattr(asa, "ASA_BASE", tiny.with_values({"dataset": "events-shape", "arch": "conv",
                                                           "channels": "4", "noise": 0.2}))
    monkeypatch.setattr(asa, "ASA_NOISE_KNOB", (0.5,))
    text = reproduce.report(seeds=2, workers=1, sections=["variability", "asa"])     # ttfs: tests/test_ttfs.py
    assert "| tiny digits | test accuracy |" in text and "| tiny digits | NASFR |" in text
    assert "| clean vs off, noise 0.2 |" in text and "| faithful vs off, noise 0.2 |" in text
    assert "| clean vs off, noise 0.5 |" in text and "NASFR −78.4%" in text
    assert "not measured yet" not in text
    assert text.count("Wall time of this section:") == 2 and "s for 2 runs" in text
