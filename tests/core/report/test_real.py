"""The real-data report section: ASA, TRT and the spike cap measured on real N-MNIST recordings, each judged."""
from __future__ import annotations

from snn_core.report import real as reproduce_real
from snn_core.report import reproduce
from snn_core.report.parts import RunCounter


def test_the_real_data_section_measures_three_comparisons_on_real_recordings(real_data, monkeypatch):
    tiny = {"data-dir": str(real_data / "nmnist"), "T": "4", "epochs": "1", "channels": "4,8",
            "train-samples": "60", "test-samples": "30"}
    monkeypatch.setattr(reproduce_real, "NMNIST", reproduce_real.NMNIST.with_values(tiny))
    monkeypatch.setattr(reproduce_real, "NMNIST_TTFS", reproduce_real.NMNIST_TTFS.with_values(tiny))
    counter, logged = RunCounter(), []
    text = reproduce.SECTIONS["real"]([0, 1], 1, None, logged.append, counter)
    assert counter.runs == 3 * 2 * 2 and len(logged) == 3
    assert "60 training and 30 test recordings (no test split on disk" in text
    assert "conv 4-8 + fc 128, rate readout, T = 4 time bins per recording" in text
    for row in ("| clean vs off |", "| off → TRT (frames reversed at the input) |", "| unlimited → K = 1 |"):
        assert row in text
    verdicts = [line for line in text.splitlines() if "reproduced" in line or "mixed" in line]
    assert len(verdicts) == 3 and "issue #16" in text
