"""The TRT report section: its rows come from the experiment table, and every row is measured and judged."""
from __future__ import annotations

from snn_core.experiments import trt_table
from snn_core.experiments.trt_table import COMPUTE_FACTOR, EVENTS, EXPERIMENTS


def test_the_reports_rows_are_the_tables_report_entries_in_order():
    from snn_core.report.trt import rows

    shown = [e for e in EXPERIMENTS if e.report_label]
    assert [row.label for row in rows()] == [e.report_label for e in shown]
    matched = next(row for row in rows() if "epochs" in row.label)
    assert matched.base == EVENTS.with_values({"epochs": COMPUTE_FACTOR * EVENTS.training.epochs})
    reversal, permutation = (EVENTS.with_values({"trt": "on", "trt-perturbation": p}) for p in ("reverse", "permute"))
    assert rows()[-2] == ("events-shape, T=4: reversal vs permutation", permutation, reversal)


TRT = {"hidden": "8,6", "batch-size": 32}                  # changes from the tiny base: two hidden layers


TRT_EVENTS = {**TRT, "dataset": "events-shape", "hidden": "8"}


def test_reproduction_section_measures_every_row_and_gives_verdicts(tiny, monkeypatch):
    from snn_core.report import reproduce
    from snn_core.report import trt as reproduce_trt
    from snn_core.report.parts import RunCounter

    monkeypatch.setattr(trt_table, "EVENTS", tiny(TRT_EVENTS, T=2))
    monkeypatch.setattr(trt_table, "DIGITS", tiny(TRT, T=2))
    monkeypatch.setattr(reproduce_trt, "MIN_SEEDS", 3)
    counter, logged = RunCounter(), []
    text = reproduce.SECTIONS["trt"]([0, 1], 1, None, logged.append, counter)
    assert "3 paired seeds (the report's seeds topped up to at least 3" in text
    for row in reproduce_trt.rows():
        assert f"| {row.label} |" in text
    assert len(logged) == 8 and counter.runs == 8 * 2 * 3
    assert "| fc1 |" in text                                       # per-layer firing rates of the main row
    verdicts = [line for line in text.splitlines()
                if line.startswith("| ") and ("reproduced" in line or "mixed" in line)]
    assert len(verdicts) == 7                                      # every measured claim gets a verdict
    assert "TRT vs off with 2x epochs" in text and "reversal vs permutation" in text
