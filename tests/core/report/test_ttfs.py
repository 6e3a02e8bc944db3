"""The TTFS report section: every claim checked on a tiny preset, and the similar/up verdict rules."""
from __future__ import annotations


def test_reproduce_ttfs_section_checks_every_claim_on_a_tiny_preset(monkeypatch):
    from snn_core.report import reproduce
    from snn_core.report import ttfs as reproduce_ttfs
    tiny = {"T": 6, "latency-window": 4, "hidden": "8", "epochs": 2, "train-samples": 60, "test-samples": 30,
            "tau-syn": 2, "threshold": 0.3}
    monkeypatch.setattr(reproduce_ttfs, "TTFS_BASE", reproduce_ttfs.TTFS_BASE.with_values(tiny))
    from snn_core.report import ttfs_exact
    monkeypatch.setattr(ttfs_exact, "EXACT_BASE", ttfs_exact.EXACT_BASE.with_values(tiny))
    monkeypatch.setattr(ttfs_exact, "GRID", ttfs_exact.GRID[:2])
    text = reproduce.report(seeds=2, workers=1, sections=["ttfs"])
    assert "## TTFS versus relaxed multi-spike" in text and "2 paired seeds" in text
    for claim in ("higher accuracy", "faster convergence", "similar sparsity", "comparable latency",
                  "better noise robustness"):
        assert f"| {claim} |" in text
    for measure in ("input spike jitter sigma = 2 steps", "input spike deletion p = 0.3", "epochs to 90%",
                    "mean decision step", "spikes per sample"):
        assert measure in text
    table = text.split("| paper's claim (relaxed vs TTFS) |")[1].split("\n\n")[0].splitlines()[2:]
    assert len(table) == 13                                     # 6 claim rows + 7 noise levels
    verdicts = [line.split("|")[-2].strip() for line in table]
    assert all(v.startswith(("up", "down", "mixed", "similar", "not similar", "undecided", "no claim"))
               for v in verdicts)
    assert "Where we disagree with the paper:" in text
    exact = text.split("### The exact event-based engine, each arm tuned on validation")[1]
    assert "TTFS: K = 1, first-spike readout" in exact and "relaxed: K = 10, count readout" in exact
    assert exact.count("| 0.003 | ") == 2                       # the two grid points, validation accuracy per arm
    assert "| higher accuracy | test accuracy |" in exact and "| similar sparsity |" in exact
    assert "| fc1 |" in exact and "| out |" in exact and "Predictions agree on" in exact
    assert "Not built yet" not in text and "not measured yet" not in text


def test_similar_claims_use_the_margin_and_up_claims_the_ci():
    from snn_core.report.ttfs import Claim
    fmt = "{:.1f}".format                                        # any float -> str formatter
    similar = Claim("similar sparsity", "spikes", [100, 102, 98, 101], [103, 104, 99, 102], "similar", "lower",
                    fmt, fmt)
    assert similar.verdict.startswith("similar") and not similar.disagrees
    apart = Claim("similar sparsity", "spikes", [100, 102, 98, 101], [160, 170, 150, 166], "similar", "lower", fmt, fmt)
    assert apart.verdict.startswith("not similar: relaxed more") and apart.disagrees
    up = Claim("higher accuracy", "accuracy", [0.90, 0.91, 0.92], [0.80, 0.82, 0.81], "up", "higher", fmt, fmt)
    assert up.verdict == "down: not reproduced" and up.disagrees
    assert "| 0/3 |" in up.row()
