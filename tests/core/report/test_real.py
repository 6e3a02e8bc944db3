"""The real-data report section: ASA (tuned, against its controls), TRT against a compute-matched baseline and the
spike cap, measured on real N-MNIST recordings, each judged; nothing calibrated on the test split."""
from __future__ import annotations

from snn_core.report import real as reproduce_real
from snn_core.report.budget import Budget
from snn_core.report.parts import RunCounter


def test_the_real_data_section_measures_tuned_asa_compute_matched_trt_and_ttfs_on_real_recordings(real_data,
                                                                                                   monkeypatch):
    tiny = {"data-dir": str(real_data / "nmnist"), "T": "4", "epochs": "1", "channels": "4,8",
            "train-samples": "60", "test-samples": "30"}
    monkeypatch.setattr(reproduce_real, "NMNIST", reproduce_real.NMNIST.with_values(tiny))
    monkeypatch.setattr(reproduce_real, "NMNIST_TTFS", reproduce_real.NMNIST_TTFS.with_values(tiny))
    monkeypatch.setattr(reproduce_real, "NMNIST_ASA", reproduce_real.NMNIST_ASA.with_values(tiny))
    counter, logged = RunCounter(), []
    text = reproduce_real.real_section([0, 1], 1, None, logged.append, counter, Budget("test", 1, 2))
    assert counter.runs == 4 * 1 + 4 * 2 + 2 * 2 + 2 * 2    # ASA: 4 arms tuned (1 trial) then 2 seeds; TRT; TTFS
    assert len(logged) == 3 and "tuned (1 trials per arm)" in logged[0]
    assert "54 training, 6 validation and 30 test recordings (no test split on disk" in text
    assert "conv 4-8 + fc 128, rate readout, T = 4 time bins per recording" in text
    for row in ("| clean ASA − off, tuned |", "| clean ASA − learned gate |", "| clean ASA − random gate |",
                "| off at 2 epochs → TRT at 1 (frames reversed at the input) |", "| unlimited → K = 1 |"):
        assert row in text
    assert "paper neuron preset: neuron lif, decay 0.3, threshold 0.3" in text and "faithful ASA" not in text
    assert "tuning seed 100, never a reported seed" in text and "test recordings after" not in text
    assert "compute-matched" in text and text.count("Verdict, clean ASA") == 1
