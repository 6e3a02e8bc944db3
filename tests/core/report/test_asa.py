"""The ASA report section on tiny runs: five arms tuned with one budget on a tuning seed, verdicts against the best
control (chosen on validation) and off, tuned, with Holm-adjusted p; and the tables' hand-made cases."""
from __future__ import annotations

from dataclasses import replace

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.report import asa as report_asa
from snn_core.report import asa_tables
from snn_core.report.budget import Budget
from snn_core.report.parts import RunCounter
from snn_core.report.verdict import holm_family
from snn_core.results import Comparison, MeanCI, PairedStat

TINY_BUDGET = Budget("test", trials=1, min_seeds=2)


def test_the_asa_section_tunes_five_arms_with_one_budget_and_judges_asa_against_its_best_control(monkeypatch):
    base = report_asa.ASA_BASE.with_values({"T": 4, "epochs": 2, "train-samples": 80, "test-samples": 40,
                                            "channels": "4", "hidden": "8"})
    monkeypatch.setattr(report_asa, "ASA_BASE", base)
    counter, logged = RunCounter(), []
    text = report_asa.asa_section([0, 1], 1, None, logged.append, counter, TINY_BUDGET)
    assert counter.runs == 5 * 1 + 5 * 2                          # one trial per arm on seed 100, then two seeds
    assert "tuning seed 100, never a reported seed" in text and "the test split chooses and calibrates nothing" in text
    for arm in ("| off, tuned | threshold in {0.3, 0.6, 1}; bn-gamma in {1, 0.5}; lr in {0.001, 0.003} | 1 |",
                "| clean ASA | asa-lambda in", "| learned gate | asa-constant-gate in", "| random gate | "
                "asa-random-fraction in"):
        assert arm in text
    assert "forward-identical to off with BatchNorm's γ started at g" in text
    assert "| clean ASA − random gate |" in text and "| faithful ASA − off, tuned |" in text
    assert text.count("Verdict, ") == 2 and "ASA's best control, chosen on that validation score: **" in text
    assert "converged in" in text or "convergence not judged" in text
    assert "| noise 0.2 | clean ASA |" in text and "| noise 0.2 | random gate |" in text
    assert "\n| constant gate" not in text and "\n| threshold " not in text and "test clips after" not in text


def level(mean):
    """An arm's mean over two runs (its CI does not matter here)."""
    return MeanCI(mean, None, None, None, 2, None)


def difference(mean, low, high, wins=1, p=0.01):
    """A paired difference over two seeds."""
    return PairedStat(mean, low, high, 0.001, 2, None, wins, 2 - wins, 0, p, 0.02)


def result(nasfr_base, nasfr_variant, accuracy_diff, ci=(-0.01, 0.01), nasfr_ci=None):
    """A comparison of two paired seeds with only its statistics."""
    diff = nasfr_variant - nasfr_base
    low, high = nasfr_ci or (diff - 0.001, diff + 0.001)
    return Comparison(
        RunConfig(), RunConfig(), (0, 1), (),
        paired={"nasfr": difference(diff, low, high),
                "test_accuracy": difference(accuracy_diff, accuracy_diff + ci[0], accuracy_diff + ci[1], p=0.5)},
        base_summary={"nasfr": level(nasfr_base), "test_accuracy": level(0.8)},
        variant_summary={"nasfr": level(nasfr_variant), "test_accuracy": level(0.8 + accuracy_diff)},
        failed_runs=0, unfinished_runs=0)


def test_the_verdict_names_the_control_it_beat_with_holm_p_and_credits_asa_only_beyond_its_best_control():
    beats = {"clean ASA − learned gate": result(0.10, 0.06, 0.0), "clean ASA − off, tuned": result(0.2, 0.06, 0.0)}
    adjusted = holm_family(asa_tables.family(beats))
    text = asa_tables.selection_verdict("clean ASA", beats, adjusted)
    assert text.startswith("Verdict, clean ASA — **reproduced against its best control (learned gate)**: it fires "
                           "less, and its accuracy is equivalent within ±1 point.")
    assert "Against the other controls: off, tuned: fires less, accuracy equivalent." in text
    assert "Against learned gate: the variant lowered NASFR by 0.0400" in text and "Holm-adjusted p = 0.040" in text
    assert "Against off, tuned:" in text and "no evidence of a difference" in text and "detect a difference of" in text
    ties = {"clean ASA − random gate": result(0.10, 0.10, 0.0, nasfr_ci=(-0.01, 0.01))}
    assert ("**not reproduced against its best control (random gate)**: it does not fire less, and its accuracy is "
            "equivalent") in asa_tables.selection_verdict("clean ASA", ties, holm_family(asa_tables.family(ties)))
    wide = result(0.2, 0.06, 0.0, ci=(-0.2, 0.2))                                   # fires less; accuracy wide
    wide = replace(wide, paired={**wide.paired, "test_accuracy": replace(wide.paired["test_accuracy"], sd=0.2)})
    unclear = {"clean ASA − off, tuned": wide}
    assert "**not shown against its best control (off, tuned)**: it fires less, but whether it keeps the accuracy " \
        "is not shown" in asa_tables.selection_verdict("clean ASA", unclear, holm_family(asa_tables.family(unclear)))


def test_comparison_rows_give_raw_and_adjusted_p_and_the_mde():
    rows = {"clean ASA − learned gate": result(0.2, 0.1, 0.0, nasfr_ci=(-0.12, -0.08))}
    adjusted = holm_family(asa_tables.family(rows))
    line = asa_tables.comparison_rows(rows, adjusted)[2]
    assert line == ("| clean ASA − learned gate | 0.2000 → 0.1000 | -50.0% [-60.0, -40.0] | 0.010 (0.020) | "
                    "+0.00 [-1.00, +1.00] | 0.500 (0.500) | ±2.0 points | 1/2 | met |")


def test_nasfr_change_is_in_percent_of_the_base_arm():
    change = asa_tables.nasfr_change(result(0.2, 0.1, 0.0, nasfr_ci=(-0.12, -0.08)))
    assert change == pytest.approx((-50.0, -60.0, -40.0))
    assert asa_tables.nasfr_change(result(0.0, 0.1, 0.0)) == (None, None, None)      # a base arm that never fired


def test_one_pair_shows_no_verdict_and_zero_variance_reads_no_change():
    one = Comparison(RunConfig(), RunConfig(), (0,), (),
                     paired={"nasfr": PairedStat(-0.1, None, None, None, 1, None, 0, 1, 0),
                             "test_accuracy": PairedStat(0.01, None, None, None, 1, None, 1, 0, 0)},
                     base_summary={"nasfr": level(0.2)}, variant_summary={"nasfr": level(0.1)}, failed_runs=0,
                     unfinished_runs=0)
    claims = asa_tables.paper_claims("clean ASA − off, tuned", one, {})
    assert claims[2].endswith("| accuracy no verdict (fewer than 2 paired seeds, or a base arm that never fired) |")
    flat = PairedStat(0.0, 0.0, 0.0, 0.0, 3, 0.0, 0, 0, 3)
    noise = Comparison(RunConfig(), RunConfig(), (0, 1, 2), (),
                       paired={"noise_channels": flat, "null_channels": flat},
                       base_summary={"noise_channels": level(0.02), "null_channels": level(0.0)},
                       variant_summary={"noise_channels": level(0.02), "null_channels": level(0.0)},
                       failed_runs=0, unfinished_runs=0)
    row = asa_tables.noise_rows({"noise 0.2": {"clean ASA": noise}})[-1]
    assert "noise no change in any of 3 runs: not reproduced" in row
