"""The TRT report section: its rows come from the experiment table, and every row is measured and judged."""
from __future__ import annotations

from snn_core.experiments import trt_sign, trt_table
from snn_core.experiments.trt_table import COMPUTE_FACTOR, EVENTS, EXPERIMENTS


def test_the_reports_rows_are_the_tables_report_entries_in_order():
    from snn_core.report.trt import rows

    shown = [e for e in EXPERIMENTS if e.report_label]
    assert [row.label for row in rows()] == [e.report_label for e in shown]
    matched = next(row for row in rows() if "epochs" in row.label)
    assert matched.base == EVENTS.with_values({"epochs": COMPUTE_FACTOR * EVENTS.training.epochs})
    reversal, permutation = (EVENTS.with_values({"trt": "on", "trt-perturbation": p}) for p in ("reverse", "permute"))
    assert rows()[6] == ("events-shape, T=4: reversal vs permutation", permutation, reversal)
    ablations = [row for row in rows() if row.label.endswith("only vs off")]
    assert [row.label.split(": ")[1] for row in ablations] == ["KL only vs off", "reversed CE only vs off",
                                                                "star head only vs off"]
    assert all(row.base == rows()[0].base for row in ablations)        # the same off arm as the main row


TRT = {"hidden": "8,6", "batch-size": 32}                  # changes from the tiny base: two hidden layers


TRT_EVENTS = {**TRT, "dataset": "events-shape", "hidden": "8"}


def test_reproduction_section_measures_every_row_and_gives_verdicts(tiny, monkeypatch):
    from snn_core.report import reproduce
    from snn_core.report import trt as reproduce_trt
    from snn_core.report.parts import RunCounter

    monkeypatch.setattr(trt_table, "EVENTS", tiny(TRT_EVENTS, T=2))
    monkeypatch.setattr(trt_table, "DIGITS", tiny(TRT, T=2))
    monkeypatch.setattr(reproduce_trt, "MIN_SEEDS", 3)
    monkeypatch.setattr(trt_sign, "BASE", tiny(TRT_EVENTS, T=2, robustness="false"))
    monkeypatch.setattr(trt_sign, "FACTORS", trt_sign.FACTORS[1:2])     # BN running stats: both / clean only
    monkeypatch.setattr(trt_sign, "SEEDS", (0,))
    monkeypatch.setattr(trt_sign, "DATA_SEEDS", (0, 1))
    counter, logged = RunCounter(), []
    text = reproduce.SECTIONS["trt"]([0, 1], 1, None, logged.append, counter)
    assert "3 paired seeds (the report's seeds topped up to at least 3" in text
    assert "paper neuron preset: neuron lif, decay 0.5, threshold 1.0, reset soft, surrogate rectangular" in text
    for row in reproduce_trt.rows():
        assert f"| {row.label} |" in text
    assert len(logged) == 12 and counter.runs == 11 * 2 * 3 + 3 * 2     # the study: 1 off + 2 on arms, 2 pairs
    assert "| fc1 |" in text                                       # per-layer firing rates of the main row
    verdicts = [line for line in text.splitlines()
                if line.startswith("| ") and ("reproduced" in line or "mixed" in line)]
    assert len(verdicts) == 10                                     # every measured claim gets a verdict
    assert "TRT vs off with 2x epochs" in text and "reversal vs permutation" in text
    assert "| KL only improves accuracy on its own" in text
    study = text[text.index("### What decides TRT's sign"):]
    assert "1 seeds × 2 data seeds = 2 pairs per cell" in study
    cells = [line for line in study.splitlines() if line.startswith(("| both branches |", "| clean only |"))]
    assert len(cells) == 2 and all(line.count("/2 |") == 1 for line in cells)     # wins out of 2 pairs
    assert "| BN running stats | both branches → clean only |" in study
