"""The reproduction report (snn_core.report.reproduce): the variability and ASA sections on tiny runs."""




def test_reproduce_report_measures_variability_and_lists_unbuilt_methods(tiny, monkeypatch):
    from snn_core.report import asa, reproduce

    digits = tiny(T=2, train_samples=80, hidden=8)
    monkeypatch.setattr(reproduce, "VARIABILITY_RUNS", {"tiny digits": digits})
    monkeypatch.setattr(asa, "ASA_BASE", digits.with_values({"dataset": "events-shape", "arch": "conv",
                                                           "channels": "4", "noise": 0.2}))
    monkeypatch.setattr(asa, "ASA_NOISE_KNOB", (0.5,))
    text = reproduce.report(seeds=2, workers=1, sections=["variability", "asa"])  # ttfs: report/test_ttfs.py
    assert "| tiny digits | test accuracy |" in text and "| tiny digits | NASFR |" in text
    assert "| clean vs off, noise 0.2 |" in text and "| faithful vs off, noise 0.2 |" in text
    assert "| clean vs off, noise 0.5 |" in text and "NASFR −78.4%" in text
    assert "not measured yet" not in text
    assert text.count("Wall time of this section:") == 2 and "s for 2 runs" in text
