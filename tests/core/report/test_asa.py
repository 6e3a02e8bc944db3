"""The ASA report section on tiny runs: six paired arms, the controls' calibrated gate, verdicts against the
best control, the noise-pattern rows; and the tables' hand-made cases."""
from __future__ import annotations

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.report import asa as report_asa
from snn_core.report import asa_tables, reproduce
from snn_core.report.parts import RunCounter
from snn_core.results import Comparison, MeanCI, PairedStat


def test_the_asa_section_pits_asa_against_off_and_three_controls(tiny, monkeypatch):
    base = report_asa.ASA_BASE.with_values({"T": 2, "epochs": 2, "train-samples": 80, "test-samples": 40,
                                            "channels": "4", "hidden": "8"})
    monkeypatch.setattr(report_asa, "ASA_BASE", base)
    monkeypatch.setattr(report_asa, "ASA_NOISE_KNOB", (0.5,))
    monkeypatch.setattr(report_asa, "ASA_MIN_SEEDS", 2)
    counter, logged = RunCounter(), []
    text = reproduce.SECTIONS["asa"]([0, 1], 1, None, logged.append, counter)
    assert counter.runs == 6 * 2 + 2 * 2                          # six arms, and off/clean on noisier clips
    gate = report_asa.calibrated_gate(base, 0)
    assert 0.05 <= gate <= 0.95 and f"controls at gate {gate:g}" in logged[1]
    for arm in ("| off |", "| clean |", "| faithful |", f"| constant gate {gate:g} |",
                f"| learned gate (from {gate:g}) |", f"| threshold {0.3 / gate:.3g} |"):
        assert arm in text
    assert "| faithful vs off, noise 0.2 |" in text and "| clean vs off, noise 0.2 |" in text
    assert f"| clean − constant gate {gate:g} |" in text and f"| faithful − threshold {0.3 / gate:.3g} |" in text
    assert "Verdict on \"ASA removes redundant spikes\"" in text and "against the sparsest control (" in text
    assert "| noise 0.5 | clean |" in text and "| noise 0.2 | clean |" in text
    assert "paper neuron preset: neuron lif, decay 0.3, threshold 0.3, reset hard" in text
    assert "2 paired seeds" in text and "topped up to at least 2" in text
    assert "evaluated on batches of its training size" in text


def level(mean):
    """An arm's mean over two runs (its CI does not matter here)."""
    return MeanCI(mean, None, None, None, 2, None)


def difference(mean, low, high, wins=1):
    """A paired difference over two seeds."""
    return PairedStat(mean, low, high, None, 2, None, wins, 2 - wins, 0)


def result(nasfr_base, nasfr_variant, accuracy_diff, ci=(-0.01, 0.01), nasfr_ci=None, validation=None):
    """A comparison of two paired seeds with only its statistics (the variant's mean validation accuracy
    ``validation``, else its test accuracy)."""
    diff = nasfr_variant - nasfr_base
    low, high = nasfr_ci or (diff - 0.001, diff + 0.001)
    return Comparison(
        RunConfig(), RunConfig(), (0, 1), (),
        paired={"nasfr": difference(diff, low, high),
                "test_accuracy": difference(accuracy_diff, accuracy_diff + ci[0], accuracy_diff + ci[1])},
        base_summary={"nasfr": level(nasfr_base), "test_accuracy": level(0.8)},
        variant_summary={"nasfr": level(nasfr_variant), "test_accuracy": level(0.8 + accuracy_diff),
                         "validation_accuracy": level(validation or 0.8 + accuracy_diff)},
        failed_runs=0, unfinished_runs=0)


def test_the_verdict_names_the_best_controls_and_credits_asa_only_beyond_them():
    # threshold has the higher test accuracy, constant the higher validation accuracy: the pick reads validation
    against_off = {"constant": result(0.2, 0.10, 0.02, validation=0.9), "threshold": result(0.2, 0.08, 0.05,
                                                                                             validation=0.7)}
    # clean - control: 25% fewer spikes than the sparsest (threshold), accuracy equal to the one validating best
    beats = {"constant": result(0.10, 0.06, 0.0), "threshold": result(0.08, 0.06, 0.05)}
    text = asa_tables.redundancy_verdict(against_off, beats)[0]
    assert "sparsest control (threshold) -25.0% [" in text and "control that validates best (constant) +0.00" in text
    assert "**Reproduced beyond attenuation**" in text
    ties = {"constant": result(0.10, 0.06, 0.0), "threshold": result(0.08, 0.08, 0.0, nasfr_ci=(-0.01, 0.01))}
    text = asa_tables.redundancy_verdict(against_off, ties)[0]
    assert "**Not isolated**: ASA does not fire measurably less than threshold, so" in text and "mixed" in text
    loses = {"constant": result(0.10, 0.06, -0.05), "threshold": result(0.08, 0.06, 0.0)}
    text = asa_tables.redundancy_verdict(against_off, loses)[0]
    assert "**Not isolated**: ASA loses accuracy against constant, so" in text


def test_nasfr_change_is_in_percent_of_the_base_arm():
    change = asa_tables.nasfr_change(result(0.2, 0.1, 0.0, nasfr_ci=(-0.12, -0.08)))
    assert change == pytest.approx((-50.0, -60.0, -40.0))
    assert asa_tables.nasfr_change(result(0.0, 0.1, 0.0)) == (None, None, None)      # a base arm that never fired


def test_one_pair_shows_its_difference_without_an_interval_or_a_verdict():
    one = Comparison(RunConfig(), RunConfig(), (0,), (),
                     paired={"nasfr": PairedStat(-0.1, None, None, None, 1, None, 0, 1, 0),
                             "test_accuracy": PairedStat(0.01, None, None, None, 1, None, 1, 0, 0)},
                     base_summary={"nasfr": level(0.2)}, variant_summary={"nasfr": level(0.1)}, failed_runs=0,
                     unfinished_runs=0)
    row, numbers = asa_tables.asa_row("clean vs off", one)
    assert row == "| clean vs off | 0.2000 → 0.1000 | -50.0% (one pair, no CI) | +1.00 (one pair, no CI) | 1/1 | met |"
    claims = asa_tables.paper_claims(numbers, 0.2)
    assert claims[2].endswith("| accuracy no verdict (fewer than 2 paired seeds, or a base arm that never fired) |")
    assert claims[3].endswith("no verdict (fewer than 2 paired seeds, or a base arm that never fired), magnitude 50% "
                              "against 78% |")
