"""The reproduction report (snn_core.report.reproduce): the variability section on tiny runs, and the budget it
states (each paper's section has its own test: test_asa.py, test_ttfs.py, test_trt.py, test_real.py)."""
import pytest

from snn_core.report.budget import BUDGETS


def test_reproduce_report_measures_variability_and_states_its_budget(tiny, monkeypatch):
    from snn_core.report import reproduce

    digits = tiny(T=2, train_samples=80, hidden=8)
    monkeypatch.setattr(reproduce, "VARIABILITY_RUNS", {"tiny digits": digits})
    text = reproduce.report(seeds=2, workers=1, sections=["variability"], budget=BUDGETS["quick"])
    assert "| tiny digits | test accuracy |" in text and "| tiny digits | NASFR |" in text
    assert "profile `quick`: 2 tuning trials per arm, at least 3 paired seeds per verdict" in text
    assert "not measured yet" not in text
    assert text.count("Wall time of this section:") == 1 and "s for 2 runs" in text
    with pytest.raises(ValueError, match="sections=\\['nope'\\] is not valid; allowed: one or more of variability"):
        reproduce.report(seeds=2, workers=1, sections=["nope"])
