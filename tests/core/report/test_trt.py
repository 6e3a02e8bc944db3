"""The TRT report section: its rows come from the experiment table, and every row is measured and judged."""
from __future__ import annotations

from snn_core.experiments import trt_sign, trt_table
from snn_core.experiments.trt_table import COMPUTE_FACTOR, EVENTS, EXPERIMENTS


def test_the_reports_rows_are_the_tables_report_entries_against_the_compute_matched_baseline():
    from snn_core.report.trt import rows

    shown = [e for e in EXPERIMENTS if e.report_label]
    assert [row.label for row in rows()] == [e.report_label for e in shown]
    doubled = EVENTS.with_values({"epochs": COMPUTE_FACTOR * EVENTS.training.epochs})
    assert rows()[0].base == doubled and rows()[0].variant == EVENTS.with_values({"trt": "on"})
    for row in rows():                          # every baseline without TRT trains twice TRT's epochs
        factor = COMPUTE_FACTOR if row.base.methods.trt == "off" else 1
        assert row.base.training.epochs == factor * row.variant.training.epochs, row.label
    reversal, permutation = (EVENTS.with_values({"trt": "on", "trt-perturbation": p}) for p in ("reverse", "permute"))
    assert rows()[6] == ("events-shape, T=4: reversal vs permutation", permutation, reversal)
    ablations = [row for row in rows() if "only vs off" in row.label]
    assert [row.label.split(": ")[1] for row in ablations] == [f"{t} only vs off (2× epochs)"
                                                                for t in ("KL", "reversed CE", "star head")]
    assert all(row.base == rows()[0].base for row in ablations)        # the same off arm as the main row


def test_tuned_points_reach_every_row_of_their_setting_and_only_the_arm_they_belong_to():
    from snn_core.experiments.tuning import Arm, TunedArm
    from snn_core.report.trt import rows, settings

    assert settings() == [("events-shape", 4), ("events-shape", 2), ("digits", 4), ("events-direction", 4)]
    chosen = {setting: {trt_table.ARM_NAMES[0]: TunedArm(Arm("b"), EVENTS, {"lr": 3e-4}, ()),
                        trt_table.ARM_NAMES[1]: TunedArm(Arm("t"), EVENTS, {"lr": 1e-2, "trt-tau": 4.0}, ())}
              for setting in settings()}
    for row in rows(chosen):
        trt_arms = [arm for arm in (row.base, row.variant) if arm.methods.trt == "on"]
        assert all((arm.training.lr, arm.methods.trt_tau) == (1e-2, 4.0) for arm in trt_arms), row.label
        if row.base.methods.trt == "off":
            assert row.base.training.lr == 3e-4
    ablation = next(row for row in rows(chosen) if "KL only" in row.label)
    assert (ablation.variant.methods.trt_star, ablation.variant.methods.trt_tau) == (0.0, 4.0)


def test_the_sign_study_takes_as_many_pairs_as_the_budget_allows():
    from snn_core.report.budget import BUDGETS
    from snn_core.report.trt_study import sign_pairs

    assert sign_pairs(BUDGETS["full"]) == (trt_sign.SEEDS, trt_sign.DATA_SEEDS)       # 3 x 3 = 9 pairs
    assert sign_pairs(BUDGETS["quick"]) == (trt_sign.SEEDS, trt_sign.DATA_SEEDS[:1])  # 3 pairs


TRT = {"hidden": "8,6", "batch-size": 32}                  # changes from the tiny base: two hidden layers


TRT_EVENTS = {**TRT, "dataset": "events-shape", "hidden": "8"}


def test_reproduction_section_tunes_measures_every_row_and_gives_verdicts(tiny, monkeypatch):
    from snn_core.report import trt as reproduce_trt
    from snn_core.report.budget import Budget
    from snn_core.report.parts import RunCounter

    monkeypatch.setattr(trt_table, "EVENTS", tiny(TRT_EVENTS, T=2, robustness="false"))
    monkeypatch.setattr(trt_table, "DIGITS", tiny(TRT, T=2, robustness="false"))
    monkeypatch.setattr(trt_sign, "BASE", tiny(TRT_EVENTS, T=2, robustness="false"))
    monkeypatch.setattr(trt_sign, "FACTORS", trt_sign.FACTORS[1:2])     # BN running stats: both / clean only
    monkeypatch.setattr(trt_sign, "SEEDS", (0,))
    monkeypatch.setattr(trt_sign, "DATA_SEEDS", (0, 1))
    counter, logged = RunCounter(), []
    text = reproduce_trt.trt_section([0, 1], 1, None, logged.append, counter, Budget("test", 1, 2))
    assert "2 paired seeds (the report's seeds topped up to at least 2, profile test)" in text
    assert "paper neuron preset: neuron lif, decay 0.5, threshold 1.0, reset soft, surrogate rectangular" in text
    assert "every baseline without TRT trains 2× the epochs" in text
    assert text.count("| arm | tuned over | trials | chosen |") == 4          # a tuning table per setting
    assert "| no TRT, 2× epochs | lr in {0.0003, 0.001, 0.003, 0.01} | 1 |" in text
    assert "| TRT | lr in {0.001, 0.003, 0.01}; trt-kl-weight in {0.5, 1, 2}; trt-tau in {1, 2, 4} | 1 |" in text
    for row in reproduce_trt.rows():
        assert f"| {row.label} |" in text
    # tuning: 4 settings x 2 arms x 1 trial; rows: 13 distinct arms x 2 seeds; the study: 1 off + 2 on, 2 pairs
    assert len(logged) == 3 and counter.runs == 8 + 13 * 2 + 3 * 2
    assert "| fc1 |" in text                                       # per-layer firing rates of the main row
    assert "18 tests in this section's Holm family." in text       # 10 rows, 4 NASFR, gap, 1 layer, 2 cells
    verdicts = [line for line in text.splitlines()
                if line.startswith("| ") and ("reproduced" in line or "mixed" in line)]
    assert len(verdicts) == 12, verdicts                           # every measured claim gets a verdict
    assert "reversal vs permutation" in text and "| KL only improves accuracy on its own" in text
    assert "Holm-adjusted" in text and "80% power" in text
    assert "equivalent within ±1.0 points (TOST" in text
    assert "(tuned, 2 seeds)" in text
    assert "converged in" in text or "convergence not judged" in text
    assert "TRT's sign" not in text and "hurts" not in text         # the size of its effect varies, not its sign
    study = text[text.index("### What the size of TRT's effect depends on"):]
    assert "1 seeds × 2 data seeds = 2 pairs per cell" in study
    cells = [line for line in study.splitlines() if line.startswith(("| both branches |", "| clean only |"))]
    assert len(cells) == 2 and all(line.count("/2 |") == 1 for line in cells)     # wins out of 2 pairs
    assert "| BN running stats | both branches → clean only |" in study
