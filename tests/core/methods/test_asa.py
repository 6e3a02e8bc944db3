"""ASA: the gate only shrinks, the parameter count matches the paper's module, hand-computed masks,
the faithful/clean differences, and the wiring through config, model, trainer and CLI."""
import json

import pytest
import torch

from snn_core.cli import main
from snn_core.config.run_config import RunConfig
from snn_core.methods.asa.gate import ASA, gate_factory, parameter_count
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer

CONV = {"arch": "conv", "channels": "4,8", "T": 4, "test-samples": 20}     # changes from the tiny base


def random_current(steps=8, batch=3, channels=6, size=5, seed=0):
    return torch.randn(steps, batch, channels, size, size, generator=torch.Generator().manual_seed(seed))


def counted(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("variant", ["faithful", "clean"])
def test_gates_lie_in_0_1_and_only_shrink_the_current(variant):
    torch.manual_seed(0)
    asa, x = ASA(8, variant=variant), random_current()
    out = asa(x)
    maps = asa.explain(x)
    assert out.shape == x.shape
    assert (out.abs() <= x.abs()).all()
    for gate in (maps.gate_important, maps.gate_sub_important):
        assert gate.shape == (3, 5, 5) and (gate > 0).all() and (gate < 1).all()
    assert maps.important.shape == (3, 8, 6) and maps.important.dtype == torch.bool
    # each element is multiplied by its group's gate: out = A_g x
    gate = torch.where(maps.important.transpose(0, 1)[..., None, None],
                       maps.gate_important[None, :, None], maps.gate_sub_important[None, :, None])
    torch.testing.assert_close(out, gate * x)


@pytest.mark.parametrize("steps,reduction,expected", [(60, 1, 3638), (60, 4, 1838), (20, 1, 438), (8, 1, 102),
                                                      (8, 2, 102 - 64 + 2 * 8 * 4)])
def test_parameter_count_matches_the_official_module(steps, reduction, expected):
    assert counted(ASA(steps, reduction=reduction)) == parameter_count(steps, reduction) == expected


def constructed_batch() -> torch.Tensor:
    """T = 2, C = 2, spatially constant values v[b, t, c]; sample 0 favours channel 0, sample 1 channel 1."""
    values = torch.tensor([[[4.0, 1.0], [3.0, 2.0]],
                           [[1.0, 4.0], [2.0, 3.0]]])                      # (B, T, C)
    return values.transpose(0, 1)[..., None, None].expand(2, 2, 2, 3, 3).contiguous()   # (T, B, C, H, W)


def identity_score(asa: ASA) -> ASA:
    """FC_T = identity, so the score is (1+1)·v and the top-k masks follow v."""
    with torch.no_grad():
        asa.fc_time.weight.copy_(torch.eye(2))
    return asa


def test_faithful_pools_the_top_k_over_the_batch_and_uses_xor():
    # per sample: M_C marks c0 (s0) / c1 (s1) at both t; M_T marks (t0,c0),(t1,c1) for s0 and (t1,c0),(t0,c1) for s1.
    # Batch union: both channels and both steps are marked everywhere, so XOR leaves nothing important.
    x = constructed_batch()
    faithful = identity_score(ASA(2, variant="faithful"))
    assert not faithful.explain(x).important.any()
    # the same sample next to a copy of itself gets the per-sample answer: its mask depends on its batch
    alone = faithful.explain(x[:, [0, 0]]).important[0]
    assert alone.tolist() == [[False, False], [True, True]]


@pytest.mark.parametrize("rule,expected", [
    ("xor", [[[False, False], [True, True]], [[False, False], [True, True]]]),
    ("and", [[[True, False], [False, False]], [[False, True], [False, False]]]),
    ("or", [[[True, False], [True, True]], [[False, True], [True, True]]]),
])
def test_clean_masks_are_per_sample_and_follow_the_rule(rule, expected):
    x = constructed_batch()
    clean = identity_score(ASA(2, variant="clean", rule=rule))
    assert clean.explain(x).important.tolist() == expected
    assert clean.explain(x[:, [1]]).important.tolist() == expected[1:]      # batch size 1, same answer


def test_faithful_refuses_batch_size_1_with_a_clear_message():
    with pytest.raises(ValueError, match="published ASA code fails at batch size 1.*use asa=clean"):
        ASA(8, variant="faithful")(random_current(batch=1))


def test_only_clean_trains_the_score_path():
    torch.manual_seed(0)
    clean, faithful = ASA(8, variant="clean", reduction=2), ASA(8, variant="faithful")
    clean(random_current(batch=1)).square().sum().backward()
    faithful(random_current(batch=2)).square().sum().backward()
    for name in ("alpha", "beta", "fc_time.0.weight", "fc_time.2.weight", "conv_important.weight"):
        grad = clean.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert faithful.alpha.grad is None and faithful.beta.grad is None and faithful.fc_time.weight.grad is None
    assert faithful.conv_important.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("variant", ["faithful", "clean"])
def test_an_ungated_group_passes_through_unchanged(variant):
    torch.manual_seed(0)
    x = random_current()
    asa = ASA(8, variant=variant, gate_important=False)
    out, important = asa(x), asa.explain(x).important.transpose(0, 1)        # (T, B, C)
    assert important.any() and (~important).any()
    torch.testing.assert_close(out[important], x[important], rtol=0, atol=0)
    assert (out[~important].abs() < x[~important].abs()).all()


@pytest.mark.parametrize("kwargs,needle", [
    ({"time_steps": 1}, "time_steps=1 is not allowed"),
    ({"lam": 1.0}, "lam=1.0 is not allowed"),
    ({"lam": 0.1}, r"lam=0.1 is not allowed; allowed: .*lam >= 0.125"),
    ({"reduction": 9}, r"reduction=9 is not allowed; allowed: an integer 1..8"),
    ({"variant": "paper"}, "allowed: faithful, clean"),
    ({"variant": "faithful", "rule": "and"}, "rule='and' is not allowed; allowed: xor"),
])
def test_bad_arguments_name_the_argument_and_what_is_allowed(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ASA(**{"time_steps": 8, **kwargs})


@pytest.mark.parametrize("values,needle", [
    ({"asa": "clean", "arch": "mlp"}, r"--asa\)='clean' gates conv layers, but arch='mlp' has none"),
    ({"asa": "clean", "arch": "conv", "asa-layers": "1,3"}, r"names conv layer\(s\) \[3\], but the network has 2"),
])
def test_config_problems_are_named(values, needle):
    with pytest.raises(ValueError, match=needle):
        build_model(RunConfig().with_values(values), (1, 8, 8), 10)


def test_asa_layers_pick_the_gated_conv_layers():
    cfg = RunConfig().with_values({"arch": "conv", "asa": "clean", "asa-reduction": "2"})
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
    every = build_model(cfg, (1, 8, 8), 10)
    second = build_model(cfg.with_values({"asa-layers": "2"}), (1, 8, 8), 10)
    assert [type(layer.gate).__name__ for layer in every.layers] == ["ASA", "ASA", "Identity"]
    assert [type(layer.gate).__name__ for layer in second.layers] == ["Identity", "ASA", "Identity"]
    assert every.layers[0].gate.time_steps == 8 and every.layers[0].gate.reduction == 2
    gate_for = gate_factory(cfg.with_values({"asa-layers": "2"}))               # what the network is handed
    assert gate_for(1) is None and isinstance(gate_for(2), ASA) and gate_for(2) is not gate_for(2)
    assert gate_factory(RunConfig())(1) is None                                 # asa=off gates nothing


def test_a_clean_asa_conv_net_trains_a_step_and_records_the_ungated_current(tiny):
    trainer = Trainer(tiny(CONV, asa="clean"), device="cpu")
    before = trainer.model.layers[0].gate.alpha.detach().clone()
    assert torch.isfinite(torch.tensor(trainer.step().loss))
    assert trainer.model.layers[0].gate.alpha.detach() != before
    trace = trainer.evaluate(record=[0, 19]).trace
    conv1, fc1 = trace.layers[0], trace.layers[-1]
    assert conv1.ungated.shape == conv1.current.shape == (4, 2, 4, 8, 8)
    assert not torch.equal(conv1.ungated, conv1.current)
    assert (conv1.current.abs() <= conv1.ungated.abs()).all()
    assert fc1.ungated is fc1.current                                          # no gate: the same tensor


def test_cli_trains_with_clean_asa(capsys):
    code = main(["train", "--arch", "conv", "--asa", "clean", "--asa-lambda", "0.5", "--asa-reduction", "2",
                 "--asa-layers", "1", "--T", "4", "--epochs", "1", "--train-samples", "64", "--test-samples", "20",
                 "--channels", "4,8", "--hidden", "16", "--quiet"])
    assert code == 0
    config = json.loads(capsys.readouterr().out)["config"]["methods"]
    assert config["asa"] == "clean" and config["asa_layers"] == [1] and config["asa_reduction"] == 2


def test_faithful_samples_are_traced_inside_their_evaluation_batch(tiny):
    cfg = tiny(CONV, asa="faithful")
    trainer = Trainer(cfg)
    trainer.step()
    full = trainer.evaluate(record=[3])
    one = trainer.trace_samples([3])                     # a batch of one would fail under faithful ASA
    assert one.predictions == (int(full.predictions[3]),)
    assert torch.equal(one.trace.layers[0].spikes, full.trace.layers[0].spikes)


def test_faithful_is_evaluated_on_batches_of_its_training_size(tiny):
    """Its masks are pooled over the batch: evaluated at the size it trained on (64), not at EVAL_BATCH (256)."""
    from snn_core.training.evaluate import EVAL_BATCH, eval_batch_size, eval_batches

    cfg = tiny(CONV, test_samples=50, batch_size=16)
    faithful, clean = Trainer(cfg.with_values({"asa": "faithful"})), Trainer(cfg.with_values({"asa": "clean"}))
    assert eval_batch_size(faithful) == 16 and eval_batch_size(clean) == EVAL_BATCH
    assert [len(batch.labels) for batch in eval_batches(faithful)] == [16, 16, 16, 2]
    assert [len(batch.labels) for batch in eval_batches(clean)] == [50]
