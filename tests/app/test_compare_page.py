"""Comparison figures, the Compare page's glue and the page itself on a tiny config."""
import csv
import io

import pytest

from app_runner import open_script
from snn_app import comparison, jobs
from snn_core.config.run_config import RunConfig
from snn_viz import compare_figures

PAGE = {"T": 2, "train-samples": 80, "hidden": 8}     # changes from the tiny base


@pytest.fixture(scope="module")
def result(tiny):
    base, variant = comparison.arms(tiny(PAGE), "max-spikes=1", 1.0)
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
    assert float(rows[0]["test_accuracy"]) == result.per_seed[0].base.metrics.test_accuracy
    assert rows[0]["max-spikes"] == "0" and rows[1]["max-spikes"] == "1"      # each run's config, by CLI name


def test_arms_reject_empty_identical_and_invalid_variants():
    base = RunConfig()
    with pytest.raises(ValueError, match="at least one change"):
        comparison.arms(base, " ", 1.0)
    with pytest.raises(ValueError, match="identical"):
        comparison.arms(base, "T=8", 1.0)
    with pytest.raises(ValueError, match="allowed: integer 1..64"):
        comparison.arms(base, "T=0", 1.0)
    with pytest.raises(ValueError, match=r"variant arm: methods.asa \(--asa\)='clean' gates conv layers"):
        comparison.arms(base, "asa=clean", 1.0)                   # every field valid, the combination not
    matched, _ = comparison.arms(base, "T=4", 2.0)
    assert matched.training.epochs == 2 * base.training.epochs


def test_compare_page_runs_a_tiny_comparison_and_shows_the_verdict(tiny_values, monkeypatch, tmp_path):
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    at = open_script("app_pages/compare.py", tiny_values(PAGE), timeout=120)
    assert not at.exception and "Run comparison" in at.info[0].value
    at.number_input(key="cmp_seeds").set_value(2)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state[jobs.state_key(comparison.JOB)].wait(120).state == jobs.FINISHED
    at.run()
    assert not at.exception and not at.error
    assert at.session_state.comparison.seeds == (0, 1)
    assert len(at.get("plotly_chart")) == 3
    assert "test accuracy" in at.markdown[-1].value or any("test accuracy" in m.value for m in at.markdown)
    assert {b.label for b in at.get("download_button")} == {"per-seed metrics (CSV)", "comparison (JSON)"}


def test_compare_page_shows_a_bad_variant_as_an_error():
    at = open_script("app_pages/compare.py")
    at.text_input(key="cmp_changes").set_value("colour=red")
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert "unknown option 'colour'" in at.error[0].value
    at.text_input(key="cmp_changes").set_value("asa=clean")
    at.button(key="cmp_run").click().run()
    assert not at.exception and "variant arm: methods.asa (--asa)='clean'" in at.error[0].value


def test_tuning_gives_both_arms_one_space_and_refuses_what_it_would_undo(tiny):
    cfg = tiny(PAGE)
    assert comparison.tuning_space(cfg) == {"lr": [0.001, 0.003, 0.009], "threshold": [0.5, 1.0, 2.0]}
    base, _ = comparison.arms(cfg, "max-spikes=1", 2.0)
    plan = comparison.tuning_plan(cfg, base, "max-spikes=1", 3, [0, 1])
    assert plan.points["base"] == plan.points["variant"] and len(plan.points["base"]) == 3     # the same budget
    assert {c.training.epochs for c in plan.configs[:3]} == {2} and {c.training.epochs for c in plan.configs[3:]} == {1}
    assert {c.neuron.max_spikes for c in plan.configs[3:]} == {1} and {c.training.seed for c in plan.configs} == {100}
    with pytest.raises(ValueError, match="the variant changes lr, which tuning chooses for both arms; allowed:"):
        comparison.tuning_plan(cfg, base, "lr=0.01 max-spikes=1", 3, [0, 1])
    with pytest.raises(ValueError, match=r"have none \(validation=0\); allowed: validation > 0"):
        comparison.tuning_plan(tiny(PAGE, validation=0), base, "max-spikes=1", 3, [0, 1])
    with pytest.raises(ValueError, match=r"tuning seed\(s\) \[100\] also report"):
        comparison.tuning_plan(cfg, base, "max-spikes=1", 3, [99, 100])
    assert "3 settings of lr in [0.001, 0.003, 0.009] and V_th in [0.5, 1.0, 2.0]" in comparison.budget_text(3, cfg)


def test_compare_page_tunes_both_arms_then_compares_the_tuned_configs(tiny_values, monkeypatch, tmp_path):
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    at = open_script("app_pages/compare.py", tiny_values(PAGE), timeout=120)
    at.toggle(key="cmp_tune").set_value(True).run()
    assert "Each arm gets the same budget: 3 settings" in at.caption[-1].value
    at.number_input(key="cmp_trials").set_value(2)
    at.number_input(key="cmp_seeds").set_value(2)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state[jobs.state_key(comparison.TUNE_JOB)].wait(120).state == jobs.FINISHED
    at.run()                                          # the tuning finished: the page starts the comparison
    assert not at.exception and not at.error
    tuned = at.session_state.cmp_tuned
    assert {name: len(arm.trials) for name, arm in tuned.items()} == {"base": 2, "variant": 2}
    assert at.session_state[jobs.state_key(comparison.JOB)].wait(120).state == jobs.FINISHED
    at.run()
    assert not at.exception and not at.error
    result = at.session_state.comparison
    assert result.base == tuned["base"].config and result.variant == tuned["variant"].config
    assert any(m.value.startswith("| arm | tuned over |") for m in at.markdown)
    verdict = next(m.value for m in at.markdown if "test accuracy" in m.value and m.value.startswith("- "))
    assert "Holm-adjusted p" in verdict or "no change in any of 2 runs" in verdict


def test_no_evidence_on_the_page_carries_the_detectable_effect(result):
    for sentence in comparison.sentences(result):
        assert "no evidence" not in sentence or "with 80% power" in sentence
    shown = [metric for metric in ("test_accuracy", "nasfr") if metric in result.paired]
    assert len(comparison.sentences(result)) >= len(shown)
