"""The real-data report section: ASA, TRT and the spike cap measured on real N-MNIST recordings, each judged."""
from __future__ import annotations

from snn_core.report import real as reproduce_real
from snn_core.report import reproduce
from snn_core.report.parts import RunCounter


def test_the_real_data_section_measures_asa_with_its_controls_trt_and_ttfs_on_real_recordings(real_data, monkeypatch):
    tiny = {"data-dir": str(real_data / "nmnist"), "T": "4", "epochs": "1", "channels": "4,8",
            "train-samples": "60", "test-samples": "30"}
    monkeypatch.setattr(reproduce_real, "NMNIST", reproduce_real.NMNIST.with_values(tiny))
    monkeypatch.setattr(reproduce_real, "NMNIST_TTFS", reproduce_real.NMNIST_TTFS.with_values(tiny))
    monkeypatch.setattr(reproduce_real, "NMNIST_ASA", reproduce_real.NMNIST_ASA.with_values(tiny))
    counter, logged = RunCounter(), []
    text = reproduce.SECTIONS["real"]([0, 1], 1, None, logged.append, counter)
    assert counter.runs == (5 + 2 + 2) * 2 and len(logged) == 4       # ASA: off, clean and three controls
    gate = reproduce_real.calibrated_gate(reproduce_real.NMNIST_ASA, 0)  # the controls' gate: clean ASA's mean gate
    assert f"controls at gate {gate:g}" in logged[1] and f"g = {gate:g}, clean ASA's mean gate on N-MNIST" in text
    assert "54 training, 6 validation and 30 test recordings (no test split on disk" in text
    assert "conv 4-8 + fc 128, rate readout, T = 4 time bins per recording" in text
    for row in ("| clean vs off |", f"| constant gate {gate:g} vs off |", f"| clean − learned gate (from {gate:g}) |",
                f"| clean − threshold {0.3 / gate:.3g} |", "| off → TRT (frames reversed at the input) |",
                "| unlimited → K = 1 |"):
        assert row in text
    assert "paper neuron preset: neuron lif, decay 0.3, threshold 0.3" in text and "| faithful" not in text
    verdicts = [line for line in text.splitlines() if "reproduced" in line or "mixed" in line]
    assert len(verdicts) == 4 and "Verdict on \"ASA removes redundant spikes\"" in text
