"""TRT: the time perturbation, the cut for static data, the loss terms, inference unchanged, metrics, CLI keys."""
from __future__ import annotations

import json
import math

import pytest
import torch

from snn_core.checkpoint import model_from_bytes, model_to_bytes
from snn_core.cli import main
from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_model
from snn_core.methods.trt import branches as trt
from snn_core.training.trainer import Trainer

TRT = {"hidden": "8,6", "batch-size": 32}                  # changes from the tiny base: two hidden layers


EVENTS = {**TRT, "dataset": "events-shape", "hidden": "8"}


@pytest.fixture
def new_trainer(tiny):
    """``new_trainer(**changes)``: a CPU trainer of the tiny base with ``TRT`` and ``changes``."""
    return lambda **changes: Trainer(tiny(TRT, **changes), device="cpu")


def test_reversal_flips_time_only_and_twice_is_identity():
    x = torch.arange(4 * 2 * 3, dtype=torch.float32).reshape(4, 2, 3)       # (T, B, C)
    flipped = trt.perturb_time(x, "reverse")
    for t in range(4):
        assert torch.equal(flipped[t], x[3 - t])                            # batch and channels untouched
    assert torch.equal(trt.perturb_time(flipped, "reverse"), x)
    assert trt.perturb_time(x, "none") is x


def test_playback_is_the_frames_of_the_recording_played_backwards():
    from snn_core.data import events as ev

    samples = ev.generate_event_samples(3, noise_level=0.2, seed=5)
    frames = torch.stack([torch.from_numpy(ev.events_to_frames(e, 6)) for e in samples.events], 1)  # (T, B, P, H, W)
    backwards = torch.stack([torch.from_numpy(ev.events_to_frames(ev.reverse_events(e), 6))
                             for e in samples.events], 1)
    played = trt.perturb_time(frames, "playback")
    assert torch.equal(played, backwards)                                  # T flipped and ON <-> OFF swapped
    assert not torch.equal(played, trt.perturb_time(frames, "reverse"))    # the paper's flip keeps polarity
    assert torch.equal(trt.perturb_time(played, "playback"), frames)
    with pytest.raises(ValueError, match=r"playback needs event input \[T, B, 2, H, W\]"):
        trt.perturb_time(torch.zeros(4, 2, 3), "playback")


def test_permutation_reorders_each_samples_time_steps_reproducibly():
    x = torch.arange(6 * 5 * 2, dtype=torch.float32).reshape(6, 5, 2)       # (T, B, C)
    permuted = trt.perturb_time(x, "permute", torch.Generator().manual_seed(3))
    again = trt.perturb_time(x, "permute", torch.Generator().manual_seed(3))
    assert torch.equal(permuted, again)
    for b in range(5):
        order = [int(v) // 10 for v in permuted[:, b, 0]]        # x[t, b, 0] = 10 t + 2 b: recover t
        assert sorted(order) == list(range(6))                   # a permutation of this sample's own steps
        assert torch.equal(permuted[:, b, 1], permuted[:, b, 0] + 1)   # the same permutation for every channel
    orders = {tuple(int(v) // 10 for v in permuted[:, b, 0]) for b in range(5)}
    assert len(orders) > 1                                       # drawn per sample


def test_bad_perturbation_and_temperature_are_rejected():
    with pytest.raises(ValueError, match="kind='shuffle' is not known; allowed: reverse, permute, none, playback"):
        trt.perturb_time(torch.zeros(2, 1), "shuffle")
    with pytest.raises(ValueError, match="tau=0.0 is not valid"):
        trt.consistency_kl(torch.zeros(1, 2), torch.zeros(1, 2), 0.0)


def test_kl_is_zero_for_identical_outputs_and_matches_hand_values():
    logits = torch.tensor([[0.3, -1.0, 2.0], [1.0, 1.0, 0.0]])
    assert float(trt.consistency_kl(logits, logits.clone(), 2.0)) == pytest.approx(0.0, abs=1e-7)
    # p = softmax([0, ln 3]) = (1/4, 3/4), q = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812
    p, q = torch.tensor([[0.0, math.log(3)]]), torch.zeros(1, 2)
    assert float(trt.consistency_kl(p, q, 1.0)) == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    # tau = 2: p = softmax([0, ln(3)/2]) = (1, sqrt 3) / (1 + sqrt 3); times tau^2 = 4
    a = 1 / (1 + math.sqrt(3))
    expected = 4 * (a * math.log(2 * a) + (1 - a) * math.log(2 * (1 - a)))
    assert float(trt.consistency_kl(p, q, 2.0)) == pytest.approx(expected)
    batch = torch.cat([p, torch.zeros(1, 2)])                    # batch mean: the second row adds 0
    assert float(trt.consistency_kl(batch, torch.zeros(2, 2), 2.0)) == pytest.approx(expected / 2)


def test_resuming_after_the_cut_continues_the_plain_forward_pass():
    model = build_model(RunConfig().with_values({"hidden": "8,6"}), (64,), 10).eval()
    x = torch.rand(4, 5, 64)
    first, plain = trt.cut_spikes(model, x), model(x)
    assert torch.equal(first, plain.spikes[0])
    resumed = model.resume((first,))
    assert torch.equal(resumed.logits, plain.logits) and torch.equal(resumed.predictions, plain.predictions)
    assert len(resumed.spikes) == 2 and resumed.spikes[0] is first               # every layer, the given one first
    assert torch.equal(resumed.spikes[1], plain.spikes[1])


def test_static_data_is_reversed_after_the_first_spiking_layer(new_trainer):
    trainer = new_trainer()
    model = trainer.model.eval()
    x = trainer.inputs(trainer.dataset.test_x[:16], None)        # direct encoding: the same frame T times
    assert torch.equal(x, x.flip(0))                             # so reversing the input would change nothing
    out, rev = trt.branches(model, x, "reverse", has_time_axis=False)
    assert torch.equal(rev.spikes[0], out.spikes[0].flip(0))      # the cut: the first layer's spike train
    assert not torch.equal(rev.spikes[0], out.spikes[0])          # (which does vary in time)
    assert torch.equal(rev.logits, model.resume((out.spikes[0].flip(0),)).logits)
    assert torch.equal(out.logits, model(x).logits)


def test_event_data_is_reversed_at_the_input(tiny):
    trainer = Trainer(tiny(EVENTS), device="cpu")
    model = trainer.model.eval()
    x = trainer.inputs(trainer.dataset.test_x[:16], None)
    out, rev = trt.branches(model, x, "reverse", has_time_axis=True)
    assert torch.equal(rev.logits, model(x.flip(0)).logits)
    assert torch.equal(out.logits, model(x).logits)


def test_each_loss_switch_changes_the_loss_and_total_is_the_weighted_sum(new_trainer):
    trainer = new_trainer(**{"trt": "on"})
    x = trainer.inputs(trainer.dataset.train_x[:32], None)
    y = trainer.dataset.train_y[:32]

    def terms(**weights):
        methods = trainer.cfg.with_values({"trt": "on", **weights}).methods
        found, _ = trt.trt_loss(trainer.model, trainer.hooks[0].head, x, y, methods, False)
        return {name: value.item() for name, value in found.items()}

    full = terms(**{"trt-kl-weight": 0.5, "trt-ce-reversed": 2.0, "trt-star": 3.0})
    assert set(full) == {"ce", "ce_perturbed", "kl", "star", "total"}
    assert full["total"] == pytest.approx(full["ce"] + 2 * full["ce_perturbed"] + 0.5 * full["kl"] + 3 * full["star"])
    for switch, term in (("trt-ce-reversed", "ce_perturbed"), ("trt-kl-weight", "kl"), ("trt-star", "star")):
        off = terms(**{"trt-kl-weight": 0.5, "trt-ce-reversed": 2.0, "trt-star": 3.0, switch: 0.0})
        assert term not in off and off["total"] != pytest.approx(full["total"])
    plain = terms(**{"trt-kl-weight": 0.0, "trt-ce-reversed": 0.0, "trt-star": 0.0})
    assert plain == {"ce": full["ce"], "total": full["ce"]}


def test_star_head_is_trained_but_absent_from_the_inference_model(new_trainer):
    plain, with_trt = new_trainer(), new_trainer(trt="on")
    for key, value in plain.model.state_dict().items():          # same initial weights, same keys
        assert torch.equal(value, with_trt.model.state_dict()[key])
    assert plain.model.state_dict().keys() == with_trt.model.state_dict().keys()
    head = with_trt.hooks[0].head
    assert head.in_features == 6 and head.out_features == 10       # last hidden layer -> classes
    optimised = {id(p) for group in with_trt.optimizer.param_groups for p in group["params"]}
    assert {id(p) for p in head.parameters()} <= optimised
    before = head.weight.detach().clone()
    with_trt.run_epoch()
    assert not torch.equal(before, head.weight)
    # the saved model is the plain network: a trt=off model with these weights gives the same outputs
    _, loaded = model_from_bytes(model_to_bytes(with_trt.model, with_trt.cfg, with_trt.dataset.frame_shape, 10))
    plain.model.load_state_dict(loaded.state_dict())
    x = plain.inputs(plain.dataset.test_x, None)
    assert torch.equal(plain.model.eval()(x).logits, with_trt.model.eval()(x).logits)
    assert plain.evaluate().accuracy == with_trt.evaluate().accuracy


def test_trt_with_every_term_off_trains_exactly_like_no_trt(new_trainer):
    zero = {"trt-kl-weight": 0, "trt-ce-reversed": 0, "trt-star": 0}
    plain, with_trt = new_trainer(), new_trainer(trt="on", **zero)
    plain.run_epoch()
    with_trt.run_epoch()
    for key, value in plain.model.state_dict().items():
        assert torch.equal(value, with_trt.model.state_dict()[key])


def test_epoch_records_hold_each_loss_term(new_trainer):
    with_trt, plain = new_trainer(trt="on", **{"trt-perturbation": "permute"}), new_trainer()
    record, base = with_trt.run_epoch(), plain.run_epoch()
    assert set(record.loss_terms) == {"ce", "ce_perturbed", "kl", "star", "total"}
    assert record.loss_terms["total"] == pytest.approx(record.train_loss)
    assert record.loss_terms["kl"] >= 0 and base.loss_terms == {}


def test_generalisation_metrics_pair_with_evaluate(new_trainer, tiny):
    trainer = new_trainer()
    trainer.run_epoch()
    found = trainer.generalisation()
    assert found["train_eval_accuracy"] - found["train_test_gap"] == pytest.approx(trainer.evaluate().accuracy)
    assert 0.0 <= found["reversal_agreement"] <= 1.0 and found["reversal_kl"] >= 0.0
    # with one time step the reversal is the identity: full agreement, zero KL
    single = Trainer(tiny(EVENTS, T=1), device="cpu")
    single.run_epoch()
    assert single.generalisation()["reversal_agreement"] == 1.0
    assert single.generalisation()["reversal_kl"] == pytest.approx(0.0, abs=1e-7)


def test_impossible_setups_are_rejected(new_trainer, tiny):
    with pytest.raises(ValueError, match=r"1 spiking layer\(s\) and the time-averaged rate readout"):
        new_trainer(trt="on", hidden="8")
    new_trainer(trt="on", hidden="8", readout="count")                 # a spiking output layer sees the order
    Trainer(tiny(EVENTS, trt="on"), device="cpu")   # event data: the input is cut
    with pytest.raises(ValueError, match=r"'playback' plays event clips backwards .* has no events"):
        new_trainer(trt="on", **{"trt-perturbation": "playback"})
    Trainer(tiny(EVENTS, {"trt": "on", "trt-perturbation": "playback"}), device="cpu")
    with pytest.raises(ValueError, match=r"needs model.engine \(--engine\)='discrete'; got 'exact'"):
        new_trainer(trt="on", engine="exact")


def test_cli_result_json_has_the_trt_keys(tmp_path, capsys):
    out = tmp_path / "trt.json"
    code = main(["train", "--dataset", "events-shape", "--T", "2", "--epochs", "1", "--train-samples", "40",
                 "--test-samples", "20", "--hidden", "8", "--trt", "on", "--trt-perturbation", "permute",
                 "--trt-kl-weight", "0.5", "--trt-tau", "3", "--trt-ce-reversed", "0", "--trt-star", "2",
                 "--trt-bn-stats", "clean", "--quiet", "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    methods = result["config"]["methods"]
    assert (methods["trt"], methods["trt_perturbation"], methods["trt_kl_weight"], methods["trt_tau"],
            methods["trt_ce_reversed"], methods["trt_star"], methods["trt_bn_stats"]) == ("on", "permute", 0.5, 3.0,
                                                                                          0.0, 2.0, "clean")
    assert {"reversal_agreement", "reversal_kl", "train_test_gap"} <= set(result["metrics"])
    assert set(result["history"][0]["loss_terms"]) == {"ce", "kl", "star", "total"}
    capsys.readouterr()
    assert main(["train", "--trt", "sideways"]) == 2
    assert "sideways" in capsys.readouterr().err


def _norm_buffers(model) -> dict[str, torch.Tensor]:
    """Every BatchNorm buffer (running mean and variance, batch count) by name, copied."""
    return {name: value.clone() for name, value in model.named_buffers()
            if name.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")}


@pytest.mark.parametrize("changes", [{}, EVENTS], ids=["static", "events"])
def test_clean_bn_stats_leave_the_running_statistics_of_a_single_branch_step(tiny, changes):
    import copy

    trainer = Trainer(tiny(TRT, changes, trt="on"), device="cpu")
    x = trainer.inputs(trainer.dataset.train_x[:32], None)
    y = trainer.dataset.train_y[:32]
    single = copy.deepcopy(trainer.model).train()
    single(x)                                                     # one plain training forward pass
    expected = _norm_buffers(single)
    assert expected and any(name.endswith("running_mean") for name in expected)
    found = {}
    for mode in trt.BN_STATS:
        model = copy.deepcopy(trainer.model).train()
        methods = trainer.cfg.with_values({"trt-bn-stats": mode}).methods
        terms, out = trt.trt_loss(model, trainer.hooks[0].head, x, y, methods, trainer.dataset.has_time_axis)
        found[mode] = (_norm_buffers(model), terms["total"].item(), out.logits)
        assert all(norm.track_running_stats for norm in model.modules() if isinstance(norm, trt.BATCH_NORMS))
    clean, both = found["clean"][0], found["both"][0]
    for name, value in expected.items():
        assert torch.equal(clean[name], value), name
    tracked = [name for name in both if name.endswith("num_batches_tracked")]
    assert max(int(both[name]) for name in tracked) == 2 and all(int(clean[name]) == 1 for name in tracked)
    assert any(not torch.equal(both[name], value) for name, value in expected.items())   # today's default moves them
    # the loss and the original branch are the same either way: the perturbed branch still uses batch statistics
    assert found["clean"][1] == pytest.approx(found["both"][1])
    assert torch.equal(found["clean"][2], found["both"][2])


def test_bn_stats_must_be_known():
    model = build_model(RunConfig().with_values({"hidden": "8,6"}), (64,), 10)
    with pytest.raises(ValueError, match="bn_stats='none' is not known; allowed: both, clean"):
        trt.branches(model, torch.rand(2, 3, 64), "reverse", False, bn_stats="none")
    with pytest.raises(ValueError, match="trt-bn-stats"):
        RunConfig().with_values({"trt-bn-stats": "none"})


def test_the_star_head_comes_from_its_own_generator_seeded_by_the_run_seed():
    model = build_model(RunConfig().with_values({"hidden": "8,6"}), (64,), 10)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    head = trt.star_head(model, 10, seed=4)
    assert torch.equal(torch.get_rng_state(), state)                    # the global stream did not move
    again, other = trt.star_head(model, 10, seed=4), trt.star_head(model, 10, seed=5)
    assert torch.equal(head.weight, again.weight) and torch.equal(head.bias, again.bias)
    assert not torch.equal(head.weight, other.weight)
    bound = 1 / math.sqrt(6)                                           # nn.Linear's default range, fan_in = 6
    assert head.weight.abs().max() <= bound and head.bias.abs().max() <= bound
    assert head.weight.std() > bound / 4                                # filled, not left empty or zero
