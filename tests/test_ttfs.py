"""TTFS groundwork: the CUBA neuron, first-spike / count readouts and the decision metrics."""
from __future__ import annotations

import json
import math

import pytest
import torch

from snn_core.cli import main
from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig, cli_index
from snn_core.neurons.cuba import CUBAParams, cuba_sequence, cuba_spikes, membrane_tau
from snn_core.methods.registry import build_model
from snn_core.neurons.lif import LIFParams, lif_sequence, lif_spikes
from snn_core.neurons.registry import NEURON_MODELS
from snn_core.methods.ttfs.regulariser import first_spike_regulariser
from snn_core.metrics.decisions import DecisionTally
from snn_core.network.readout import (first_spike_predictions, first_spike_times, running_first_spike_times,
                                      spiking_readout)
from snn_core.training.trainer import Trainer


def test_cuba_constant_input_matches_hand_computed_values():
    # tau_s = 1: alpha = e^-1 = 0.367879, beta = e^-1/2 = 0.606531, 1 - beta = 0.393469; x = 1, V_th = 1
    # t=0: I = 1.000000, V_pre = 0.393469 * 1          = 0.393469
    # t=1: I = 1.367879, V_pre = 0.606531 * 0.393469 + 0.393469 * 1.367879 = 0.776870
    # t=2: I = 1.503215, V_pre = 0.606531 * 0.776870 + 0.393469 * 1.503215 = 1.062664 -> spike, V = 0.062664
    # t=3: I = 1.553002, V_pre = 0.606531 * 0.062664 + 0.393469 * 1.553002 = 0.649066
    # t=4: I = 1.571317, V_pre = 0.606531 * 0.649066 + 0.393469 * 1.571317 = 1.011944 -> spike, V = 0.011944
    out = cuba_sequence(torch.ones(5, 1), CUBAParams(tau_syn=1.0, threshold=1.0))
    assert out.v_pre[:, 0].tolist() == pytest.approx([0.393469, 0.776870, 1.062664, 0.649066, 1.011944], abs=1e-6)
    assert out.spikes[:, 0].tolist() == [0, 0, 1, 0, 1]
    assert out.v_post[:, 0].tolist() == pytest.approx([0.393469, 0.776870, 0.062664, 0.649066, 0.011944], abs=1e-6)
    capped = cuba_spikes(torch.ones(5, 1), CUBAParams(tau_syn=1.0, threshold=1.0, max_spikes=1))
    assert capped[:, 0].tolist() == [0, 0, 1, 0, 0]
    assert CUBAParams(tau_syn=1.0).alpha == pytest.approx(math.exp(-1))
    assert CUBAParams(tau_syn=1.0).beta == pytest.approx(math.exp(-0.5))
    assert membrane_tau(4.0) == 8.0 and CUBAParams(tau_syn=4.0).beta == math.exp(-1 / 8)


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_cuba_never_exceeds_the_spike_cap(cap):
    gen = torch.Generator().manual_seed(cap)
    currents = 3 * torch.rand(40, 16, 12, generator=gen)                     # (T, B, N)
    params = CUBAParams(tau_syn=2.0, threshold=0.5, max_spikes=cap)
    spikes = cuba_spikes(currents, params)
    assert torch.equal(spikes, cuba_sequence(currents, params).spikes)
    counts = spikes.sum(0)
    assert counts.max() <= cap and counts.max() == cap


def test_the_registry_keeps_lif_unchanged():
    assert NEURON_MODELS["lif"].sequence is lif_sequence and NEURON_MODELS["lif"].spikes is lif_spikes
    assert NEURON_MODELS["cuba"].sequence is cuba_sequence and NEURON_MODELS["cuba"].spikes is cuba_spikes
    assert NEURON_MODELS["lif"].params_from_config(RunConfig().neuron) == LIFParams.from_config(RunConfig().neuron)
    assert isinstance(NEURON_MODELS["cuba"].params_from_config(RunConfig().neuron), CUBAParams)


def test_config_choices_are_the_registry_names():
    assert cli_index()["neuron"][1].metadata["choices"] == tuple(NEURON_MODELS) == ("lif", "cuba")
    assert cli_index()["surrogate"][1].metadata["choices"] == ("atan", "fast-sigmoid", "rectangular")


def test_first_spike_time_hand_cases_and_gradient():
    spikes = torch.zeros(5, 1, 3)               # (T, B, C): silent, first spike at 2, spikes at 0 and 3
    spikes[2, 0, 1] = 1
    spikes[0, 0, 2] = spikes[3, 0, 2] = 1
    assert first_spike_times(spikes)[0].tolist() == [5, 2, 0]
    running = running_first_spike_times(spikes)[:, 0]          # (T, C), silent-so-far counts as T
    assert running.tolist() == [[5, 5, 0], [5, 5, 0], [5, 2, 0], [5, 2, 0], [5, 2, 0]]

    drive = torch.ones(5, 1, 2, requires_grad=True)               # (T, B, C); the second output stays silent
    scale = torch.tensor([1.0, 0.1])
    spikes_out = cuba_spikes(drive * scale, CUBAParams(tau_syn=1.0, threshold=1.0, max_spikes=1))
    t_first = first_spike_times(spikes_out)                       # first spike at step 2 (see the CUBA test)
    assert t_first[0].tolist() == [2.0, 5.0]
    t_first.sum().backward()
    assert torch.isfinite(drive.grad).all()
    assert drive.grad[:, 0, 0].abs().sum() > 0 and drive.grad[:, 0, 1].abs().sum() > 0


def test_tie_break_picks_the_higher_membrane():
    t_first = torch.tensor([[2.0, 2.0, 5.0], [5.0, 5.0, 5.0], [3.0, 1.0, 1.0]])
    v_max = torch.tensor([[1.1, 1.4, 9.0], [0.2, 0.7, 0.1], [5.0, 1.2, 1.0]])
    assert first_spike_predictions(t_first, v_max).tolist() == [1, 1, 1]


def test_spiking_readouts_logits_and_predictions():
    spikes = torch.zeros(4, 2, 3)                                 # (T, B, C)
    spikes[1, 0, 0] = spikes[1, 0, 2] = spikes[3, 0, 2] = 1       # sample 0: tie at step 1
    spikes[0, 1, 1] = spikes[2, 1, 0] = spikes[3, 1, 0] = 1
    v_pre = torch.zeros(4, 2, 3)
    v_pre[1, 0, 2] = 2.0
    v_pre[1, 0, 0] = 1.5
    count = spiking_readout("count", spikes, v_pre, 4.0)
    assert count.logits.tolist() == spikes.sum(0).tolist() == [[1, 0, 2], [2, 1, 0]]
    first = spiking_readout("first-spike", spikes, v_pre, 2.0)
    assert first.logits.tolist() == [[-0.5, -2.0, -0.5], [-1.0, 0.0, -2.0]]
    assert first.predictions.tolist() == [2, 1]
    assert first.step_logits[-1].tolist() == first.logits.tolist()


def test_decision_tally_by_hand():
    spikes = torch.zeros(3, 3, 2)                                 # (T, B, C), labels 0, 1, 0
    spikes[0, 0, 0] = 1                                           # decides at 0, right
    spikes[2, 1, 0] = 1                                           # decides at 2, wrong
    tally = DecisionTally()                                       # sample 2 never decides
    tally.add(spikes, torch.zeros(3, 3, 2), torch.tensor([0, 1, 0]))
    summary = tally.summary()
    assert summary.decision_step_mean == 1.0 and summary.decision_step_median == 1.0
    assert summary.no_decision_fraction == pytest.approx(1 / 3)
    assert summary.accuracy_vs_tcut == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def tiny_first_spike() -> RunConfig:
    return RunConfig().with_values({"readout": "first-spike", "encoding": "latency", "max-spikes": 1,
                                    "neuron": "cuba", "T": 6, "hidden": "16", "epochs": 2,
                                    "train-samples": 60, "test-samples": 40, "threshold": 0.3})


def test_first_spike_model_has_a_spiking_output_layer():
    cfg = tiny_first_spike()
    model = build_model(cfg, (1, 8, 8), 10)
    assert model.layer_names == ["fc1", "out"] and model.readout is None
    out = model(torch.rand(6, 3, 1, 8, 8), record=torch.tensor([0]))
    assert out.logits.shape == (3, 10) and out.predictions.shape == (3,)
    assert out.spikes[-1].shape == (6, 3, 10) and out.output_potential.shape == (6, 3, 10)
    assert out.trace.logits.shape == (6, 1, 10) and [t.name for t in out.trace.layers] == ["fc1", "out"]
    rate = build_model(RunConfig(), (1, 8, 8), 10)(torch.rand(6, 3, 1, 8, 8))
    assert torch.equal(rate.predictions, rate.logits.argmax(1))


def test_tiny_first_spike_run_reports_decision_metrics():
    from snn_core.experiments.run import result_dict
    trainer = Trainer(tiny_first_spike(), device="cpu")
    trainer.fit()
    metrics = result_dict(trainer)["metrics"]
    assert 0.0 <= metrics["no_decision_fraction"] <= 1.0
    assert len(metrics["accuracy_vs_tcut"]) == 6
    assert all(0.0 <= a <= 1.0 for a in metrics["accuracy_vs_tcut"])
    assert "decision_step_mean" in metrics and "decision_step_median" in metrics
    rate = Trainer(RunConfig().with_values({"T": 2, "hidden": "8", "epochs": 1, "train-samples": 40,
                                            "test-samples": 20}), device="cpu")
    rate.fit()
    assert "accuracy_vs_tcut" not in result_dict(rate)["metrics"]


def test_cli_accepts_and_reports_the_new_options(capsys):
    assert main(["train", "--readout", "count", "--neuron", "cuba", "--tau-syn", "2", "--tau-loss", "3",
                 "--T", "2", "--hidden", "8", "--epochs", "1", "--train-samples", "40", "--test-samples", "20",
                 "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["neuron"]["model"] == "cuba" and result["config"]["neuron"]["tau_syn"] == 2.0
    assert result["config"]["model"]["readout"] == "count" and result["config"]["model"]["tau_loss"] == 3.0
    assert "out" in result["metrics"]["layer_firing_rates"]
    assert "no_decision_fraction" not in result["metrics"]


# --- metrics of issue #6: convergence, robustness, decisions per epoch, the latency window -------------

ISSUE_KEYS = ("decision_step_mean", "decision_step_median", "no_decision_fraction", "accuracy_vs_tcut",
              "robustness", "epochs_to_target")


def test_epochs_to_target_is_the_first_epoch_at_or_above_the_target():
    from snn_core.experiments.run import epochs_to_target
    from snn_core.training.trainer import EpochRecord
    history = [EpochRecord(epoch, epoch, 0.0, 0.0, 0.0, accuracy, 0.0, 0.0, 0.0, {})
               for epoch, accuracy in enumerate([0.5, 0.89, 0.9, 0.95, 0.85], start=1)]
    assert epochs_to_target(history, 0.9) == 3
    assert epochs_to_target(history, 0.5) == 1
    assert epochs_to_target(history, 0.96) is None
    assert epochs_to_target([], 0.1) is None


def test_cli_train_json_has_every_key_of_the_issue(capsys):
    assert main(["train", "--readout", "first-spike", "--encoding", "latency", "--neuron", "cuba", "--max-spikes", "1",
                 "--T", "6", "--latency-window", "4", "--hidden", "8", "--epochs", "2", "--train-samples", "60",
                 "--test-samples", "30", "--target-accuracy", "0.05", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = result["metrics"]
    assert all(key in metrics for key in ISSUE_KEYS)
    reached = [record["epoch"] for record in result["history"] if record["test_accuracy"] >= 0.05]
    assert metrics["epochs_to_target"] == (reached[0] if reached else None)
    assert set(metrics["robustness"]) == {"jitter", "deletion", "weight_noise"}
    assert metrics["robustness"]["jitter"]["0"] == metrics["test_accuracy"]
    assert len(metrics["accuracy_vs_tcut"]) == 6
    assert [set(record) >= {"decision_step_mean", "no_decision_fraction"} for record in result["history"]] == [True] * 2
    assert result["history"][-1]["no_decision_fraction"] == metrics["no_decision_fraction"]
    assert result["timing"]["robustness_seconds"] >= 0


def test_robustness_off_leaves_it_null_and_rate_readouts_have_no_decisions(capsys):
    assert main(["train", "--T", "2", "--hidden", "8", "--epochs", "1", "--train-samples", "40",
                 "--test-samples", "20", "--robustness", "false", "--target-accuracy", "1", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["robustness"] is None and result["metrics"]["epochs_to_target"] is None
    assert result["history"][0]["decision_step_mean"] is None and result["history"][0]["no_decision_fraction"] is None


def test_latency_window_packs_the_spikes_into_the_first_steps():
    from snn_core.network.encoders import encode
    x = torch.tensor([[1.0, 0.5, 0.1, 0.0]])
    seq = encode(x, "latency", 10, latency_window=5)             # t = round((1 - x) * 4) = 0, 2, 4 (3.6)
    assert seq.shape == (10, 1, 4) and seq[5:].sum() == 0
    assert seq.sum(0).flatten().tolist() == [1, 1, 1, 0]
    assert seq.argmax(0).flatten().tolist()[:3] == [0, 2, 4]
    assert torch.equal(encode(x, "latency", 10, latency_window=0), encode(x, "latency", 10))
    assert torch.equal(encode(x, "latency", 10, latency_window=10), encode(x, "latency", 10))
    assert torch.equal(encode(x, "direct", 10, latency_window=5), encode(x, "direct", 10))   # latency only
    with pytest.raises(ValueError, match="latency_window=11 is not valid"):
        encode(x, "latency", 10, latency_window=11)


def test_a_latency_window_longer_than_t_is_refused_by_name():
    with pytest.raises(ValueError, match=r"data.latency_window \(--latency-window\)=9 is longer than T=8; "
                                         r"allowed: 0 \(all T steps\) to 8"):
        require_valid(RunConfig().with_values({"encoding": "latency", "latency-window": 9, "T": 8}))
    assert RunConfig().with_values({"encoding": "direct", "latency-window": 9}).data.latency_window == 9


def test_reproduce_ttfs_section_checks_every_claim_on_a_tiny_preset(monkeypatch):
    from snn_core.report import reproduce, ttfs as reproduce_ttfs
    tiny = {"T": 6, "latency-window": 4, "hidden": "8", "epochs": 2, "train-samples": 60, "test-samples": 30,
            "tau-syn": 2, "threshold": 0.3}
    monkeypatch.setattr(reproduce_ttfs, "TTFS_BASE", reproduce_ttfs.TTFS_BASE.with_values(tiny))
    monkeypatch.setattr(reproduce_ttfs, "EXACT_BASE", reproduce_ttfs.EXACT_BASE.with_values({**tiny, "epochs": 1}))
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
    assert "| K = 1 |" in text and "| K = 3 |" in text
    assert "Not built yet" not in text and "not measured yet" not in text


def test_similar_claims_use_the_margin_and_up_claims_the_ci():
    from snn_core.report.ttfs import Claim, _number
    fmt = _number(1)
    similar = Claim("similar sparsity", "spikes", [100, 102, 98, 101], [103, 104, 99, 102], "similar", "lower",
                    fmt, fmt)
    assert similar.verdict.startswith("similar") and not similar.disagrees
    apart = Claim("similar sparsity", "spikes", [100, 102, 98, 101], [160, 170, 150, 166], "similar", "lower", fmt, fmt)
    assert apart.verdict.startswith("not similar: relaxed more") and apart.disagrees
    up = Claim("higher accuracy", "accuracy", [0.90, 0.91, 0.92], [0.80, 0.82, 0.81], "up", "higher", fmt, fmt)
    assert up.verdict == "down: not reproduced" and up.disagrees
    assert "| 0/3 |" in up.row()


def test_fast_and_deep_regulariser_hand_value_and_effect_on_training():
    logits = torch.tensor([[-1.0, -2.0], [-0.5, -3.0]])          # -t_first / tau_loss with tau_loss = 2
    labels = torch.tensor([1, 0])                                 # t_label = 4 and 1
    expected = 0.01 * (math.exp(4 / 2) + math.exp(1 / 2)) / 2     # alpha mean exp(t_label / tau_syn), tau_syn = 2
    assert float(first_spike_regulariser(logits, labels, 2.0, 2.0, 0.01)) == pytest.approx(expected)
    assert float(first_spike_regulariser(logits, labels, 2.0, 2.0, 0.0)) == 0.0
    tiny = {"encoding": "latency", "neuron": "cuba", "readout": "first-spike", "T": 6, "hidden": "8",
            "train-samples": 64, "test-samples": 20, "threshold": 0.3}
    plain = Trainer(RunConfig().with_values(tiny), device="cpu")
    regularised = Trainer(RunConfig().with_values({**tiny, "first-spike-reg": 0.5}), device="cpu")
    assert plain.step().loss < regularised.step().loss               # same seed and batch: only the term differs
    with pytest.raises(ValueError, match=r"first_spike_reg \(--first-spike-reg\)=0.5 needs first-spike times, "
                                         r"but readout='rate'; allowed: --readout first-spike, or 0"):
        require_valid(RunConfig().with_values({"first-spike-reg": 0.5}))
