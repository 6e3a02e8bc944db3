"""The TTFS report section: every claim checked on a tiny preset with both arms tuned, and the verdict rules
(Holm, TOST, zero variance, censored epochs to target)."""
from __future__ import annotations

from types import SimpleNamespace

TINY = {"T": 6, "latency-window": 4, "hidden": "8", "epochs": 2, "train-samples": 60, "test-samples": 30,
        "tau-syn": 2}


def test_reproduce_ttfs_section_tunes_both_arms_and_checks_every_claim(monkeypatch):
    from snn_core.methods.ttfs.weight_bump import DEVIATIONS
    from snn_core.report import reproduce, ttfs_exact
    from snn_core.report import ttfs as reproduce_ttfs
    from snn_core.report.budget import Budget
    monkeypatch.setattr(reproduce_ttfs, "TTFS_BASE", reproduce_ttfs.TTFS_BASE.with_values(TINY))
    monkeypatch.setattr(ttfs_exact, "EXACT_BASE", ttfs_exact.EXACT_BASE.with_values(TINY))
    text = reproduce.report(seeds=1, workers=1, sections=["ttfs"], budget=Budget("tiny", trials=1, min_seeds=2))
    assert "## TTFS versus relaxed multi-spike" in text and "with 1 trials on seed 100" in text
    assert text.count("| arm | tuned over | trials | chosen | validation accuracy (tuning seeds) |") == 2
    assert "Then 2 paired seeds" in text and "Holm's correction over every tested row" in text
    for claim in ("higher accuracy", "faster convergence", "similar sparsity", "comparable latency",
                  "better noise robustness"):
        assert f"| {claim} |" in text
    for measure in ("input spike jitter sigma = 2 steps", "input spike deletion p = 0.3", "epochs to 90%",
                    "mean decision step", "spikes per sample"):
        assert measure in text
    table = text.split("| paper's claim (relaxed vs TTFS) |")[1].split("\n\n")[0].splitlines()[2:]
    assert len(table) == 13                                     # 6 claim rows + 7 noise levels
    verdicts = [line.split("|")[-2].strip() for line in table]
    assert all(v.startswith(("up", "down", "mixed", "similar", "not similar", "not shown similar", "no claim",
                             "no change", "not tested", "too few")) for v in verdicts), verdicts
    assert "runs" in table[1] and "not tested (censored)" in table[1]         # reached by epoch E in m of n runs
    assert text.count("Convergence (validation accuracy rose by at most 1%") == 2
    assert text.count("Accuracy: test accuracy") == 2 and "within ±2.0 points" in text
    assert "Where we disagree with the paper (after Holm's correction):" in text
    exact = text.split("### The exact event-based engine, each arm tuned on validation")[1]
    assert "TTFS K = 1, first-spike readout (tau_loss" in exact and "relaxed K = 10, count readout" in exact
    assert "Fast & Deep's point (tau_loss 0.8 = 0.2 tau_s" in exact
    assert "| higher accuracy | test accuracy |" in exact and "| similar sparsity |" in exact
    assert all(deviation in exact for deviation in DEVIATIONS)
    assert "| fc1 |" in exact and "| out |" in exact and "Predictions agree on" in exact
    assert "Not built yet" not in text and "not measured yet" not in text


def test_similar_claims_use_tost_and_up_claims_the_ci_and_holm():
    from snn_core.report.ttfs_claims import Claim, apply_holm
    fmt = "{:.1f}".format                                        # any float -> str formatter
    similar = Claim("similar sparsity", "spikes", [100, 102, 98, 101, 99], [101, 102, 99, 101, 100], "similar",
                    "lower", fmt, fmt)
    assert similar.verdict.startswith("similar: relaxed +1% of TTFS; equivalent within ±25.0") and \
        similar.verdict.endswith("reproduced") and not similar.disagrees
    apart = Claim("similar sparsity", "spikes", [100, 102, 98, 101], [160, 170, 150, 166], "similar", "lower", fmt, fmt)
    assert apart.verdict.startswith("not similar: relaxed +61% of TTFS") and apart.disagrees
    unsure = Claim("similar sparsity", "spikes", [100, 102, 98], [110, 140, 100], "similar", "lower", fmt, fmt)
    assert unsure.verdict.startswith("not shown similar") and not unsure.disagrees
    up = Claim("higher accuracy", "accuracy", [0.90, 0.91, 0.92], [0.80, 0.82, 0.81], "up", "higher", fmt, fmt)
    assert up.verdict == "down: not reproduced" and up.disagrees
    assert "| 0/3 |" in up.row() and f"{up.diff.p_value:.3f} |" in up.row()
    weak = Claim("higher accuracy", "accuracy", [0.90, 0.91, 0.92], [0.91, 0.93, 0.935], "up", "higher", fmt, fmt)
    assert weak.verdict.startswith("up")
    apply_holm([weak] + [Claim("x", "y", [0, 1, 2], [0.5, 0.8, 2.6], "up", "higher", fmt, fmt) for _ in range(9)])
    assert weak.adjusted_p > weak.diff.p_value and weak.verdict.startswith("mixed")
    assert f"{weak.diff.p_value:.3f} ({weak.adjusted_p:.3f})" in weak.row()
    assert "±" in weak.row()                                   # the MDE column


def test_rows_without_any_change_say_so():
    from snn_core.report.ttfs_claims import Claim
    fmt = "{:.1f}".format
    for claimed, start in (("up", "no change in any of 3 runs"), ("none", "no claim; no change in any of 3 runs"),
                           ("similar", "similar: no change in any of 3 runs")):
        row = Claim("c", "m", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], claimed, "lower", fmt, fmt)
        assert row.verdict.startswith(start), row.verdict


def run(reached: int | None, ok: bool = True) -> SimpleNamespace:
    return SimpleNamespace(ok=ok, metrics=SimpleNamespace(epochs_to_target=reached))


def test_epochs_to_target_reads_reached_by_with_censoring_explicit():
    from snn_core.report.ttfs_claims import reached_row
    pairs = [SimpleNamespace(base=run(None), variant=run(3)), SimpleNamespace(base=run(5), variant=run(4)),
             SimpleNamespace(base=run(None), variant=run(None)), SimpleNamespace(base=run(2, ok=False), variant=run(1))]
    row = reached_row(SimpleNamespace(per_seed=pairs), 0.9, 10)
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[2] == "reached by epoch 5 in 1 of 3 runs (the other 2 not within 10 epochs)"
    assert cells[3] == "reached by epoch 4 in 2 of 3 runs (the other 1 not within 10 epochs)"
    assert cells[7] == "2/3" and "relaxed first on 2, TTFS first on 0 of 3 seeds" in cells[8]
