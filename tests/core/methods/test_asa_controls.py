"""ASA's attenuation controls: hand-computed outputs, the learnable gate's range and gradient, the config's
checks, and the wiring through model, trainer and CLI (they are values of ``--asa`` like ASA itself)."""
import json
import math

import pytest
import torch

from snn_core.cli import main
from snn_core.config.run_config import RunConfig
from snn_core.methods.asa.controls import ConstantGate, RandomGate, ScalarGate, sub_important_fraction
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer

CONV = {"arch": "conv", "channels": "4,8", "T": 4, "test-samples": 20}


def test_constant_gate_multiplies_the_current_by_g_and_has_no_parameters():
    x = torch.tensor([[[[[2.0, -1.0]]]]])                                     # (T, B, C, H, W) = (1, 1, 1, 1, 2)
    gate = ConstantGate(0.7)
    assert torch.allclose(gate(x), torch.tensor([[[[[1.4, -0.7]]]]]))
    assert list(gate.parameters()) == [] and gate.value() == 0.7


def test_scalar_gate_starts_at_g_stays_in_0_1_and_learns():
    gate = ScalarGate(0.7)
    assert gate.logit.item() == pytest.approx(math.log(0.7 / 0.3))
    assert gate.value() == pytest.approx(0.7)
    x = torch.full((2, 1, 1, 1, 1), 3.0)
    gate(x).sum().backward()
    assert gate.logit.grad.item() == pytest.approx(6.0 * 0.7 * 0.3)          # d/dp sum σ(p) x = σ(1-σ) Σx
    with torch.no_grad():
        gate.logit.fill_(40.0)
    assert 0 < gate.value() <= 1 and (gate(x) <= x).all()


@pytest.mark.parametrize("make,value,needle", [
    (ConstantGate, 0.0, r"constant gate=0.0 is not allowed; allowed: 0 < gate <= 1"),
    (ConstantGate, 1.5, "allowed: 0 < gate <= 1"),
    (ScalarGate, 1.0, r"scalar gate=1.0 is not allowed; allowed: 0 < gate < 1 \(its logit must be finite\)"),
])
def test_bad_gates_are_refused_with_what_is_allowed(make, value, needle):
    with pytest.raises(ValueError, match=needle):
        make(value)


@pytest.mark.parametrize("values,needle", [
    ({"asa": "constant", "arch": "mlp"}, r"--asa\)='constant' gates conv layers, but arch='mlp' has none"),
    ({"asa": "scalar", "arch": "conv", "asa-layers": "3"}, r"names conv layer\(s\) \[3\], but the network has 2"),
    ({"asa": "scalar", "arch": "conv", "asa-constant-gate": 1.0}, r"asa-constant-gate\)=1 cannot start asa='scalar'"),
])
def test_config_problems_are_named(values, needle):
    with pytest.raises(ValueError, match=needle):
        build_model(RunConfig().with_values(values), (1, 8, 8), 10)


def test_controls_do_not_need_asa_s_top_k_settings():
    # lambda 0.05 marks no channel of 4 top-k: ASA refuses it, a control (no top-k) does not care
    cfg = RunConfig().with_values({"arch": "conv", "channels": "4", "asa-lambda": 0.05, "T": 2})
    with pytest.raises(ValueError, match="marks floor"):
        build_model(cfg.with_values({"asa": "clean"}), (1, 8, 8), 10)
    model = build_model(cfg.with_values({"asa": "constant", "asa-constant-gate": 0.5}), (1, 8, 8), 10)
    assert type(model.layers[0].gate).__name__ == "ConstantGate" and model.layers[0].gate.value() == 0.5


def test_a_scalar_gated_net_trains_its_gates_and_records_the_attenuated_current(tiny):
    trainer = Trainer(tiny(CONV, asa="scalar", asa_layers="2"), device="cpu")
    gates = [type(layer.gate).__name__ for layer in trainer.model.layers]
    assert gates == ["Identity", "ScalarGate", "Identity"]
    trainer.step()
    assert trainer.model.layers[1].gate.value() != pytest.approx(0.7, abs=1e-9)
    conv2 = trainer.evaluate(record=[0]).trace.layers[1]
    g = trainer.model.layers[1].gate.value()
    assert torch.allclose(conv2.current, g * conv2.ungated, atol=1e-6)


def test_cli_trains_with_the_constant_control(capsys):
    code = main(["train", "--arch", "conv", "--asa", "constant", "--asa-constant-gate", "0.6", "--T", "2",
                 "--epochs", "1", "--train-samples", "64", "--test-samples", "20", "--channels", "4",
                 "--hidden", "8", "--quiet"])
    assert code == 0
    methods = json.loads(capsys.readouterr().out)["config"]["methods"]
    assert methods["asa"] == "constant" and methods["asa_constant_gate"] == 0.6


def test_cli_refuses_a_bad_gate_in_one_line(capsys):
    assert main(["train", "--asa", "constant", "--asa-constant-gate", "0"]) == 2
    assert "asa-constant-gate" in capsys.readouterr().err


def test_mean_gate_reads_the_gate_from_the_recorded_currents(tiny):
    from snn_core.methods.asa.gate import mean_gate

    trainer = Trainer(tiny(CONV, asa="constant", asa_constant_gate=0.4, asa_layers="1"), device="cpu")
    assert mean_gate(trainer.trace_samples([0, 1]).trace.layers) == pytest.approx(0.4)
    assert mean_gate(Trainer(tiny(CONV), device="cpu").trace_samples([0]).trace.layers) is None
    clean = Trainer(tiny(CONV, asa="clean"), device="cpu")
    assert 0 < mean_gate(clean.trace_samples([0, 1]).trace.layers) < 1


def test_random_gate_gates_exactly_its_fraction_of_each_sample_s_slices_by_the_learnable_gate():
    gate = RandomGate(0.5, seed=3, fraction=0.25)
    x = torch.ones(4, 6, 8, 2, 2)                                              # (T, B, C, H, W): 32 slices
    out = gate(x)
    gated = (out[..., 0, 0] == 0.5)                                           # (T, B, C)
    assert gated.sum((0, 2)).tolist() == [8] * 6                              # round(0.25 * 32) per sample
    assert ((out == 1) | (out == 0.5)).all() and (out[..., 0, 0][:, :, :, None, None] == out).all()
    masks = [gated[:, b].flatten().tolist() for b in range(6)]
    assert len({tuple(m) for m in masks}) > 1                                 # drawn per sample


def test_random_gate_is_reproducible_with_its_seed_and_fixed_at_evaluation():
    x = torch.randn(4, 3, 8, 2, 2)
    first, second, other = RandomGate(0.7, seed=1), RandomGate(0.7, seed=1), RandomGate(0.7, seed=2)
    assert torch.equal(first(x), second(x)) and not torch.equal(first(x), other(x))
    assert not torch.equal(first.mask(4, 3, 8), first.mask(4, 3, 8))        # training: the generator advances
    first.eval()
    assert torch.equal(first(x), first(x)) and torch.equal(first(x), RandomGate(0.7, seed=1).eval()(x))


def test_random_gate_defaults_to_asa_s_sub_important_fraction():
    assert sub_important_fraction(0.5, "xor", 8, 16) == 0.5                   # 1 - (a + b - 2ab), a = b = 1/2
    assert sub_important_fraction(0.25, "and", 8, 16) == pytest.approx(1 - 1 / 16)
    assert RandomGate(0.7, seed=0, lam=0.25, rule="or").gated_count(8, 16) == round((1 - 7 / 16) * 128)
    with pytest.raises(ValueError, match=r"random gate fraction=1.5 is not allowed; allowed: 0 < fraction < 1"):
        RandomGate(0.7, seed=0, fraction=1.5)
    with pytest.raises(ValueError, match=r"random gate=1 is not allowed; allowed: 0 < gate < 1"):
        RandomGate(1, seed=0)


@pytest.mark.parametrize("values,needle", [
    ({"asa": "random", "arch": "conv", "asa-constant-gate": 1.0}, r"asa-constant-gate\)=1 cannot start asa='random'"),
    ({"asa": "random", "arch": "conv", "channels": "4", "asa-lambda": 0.05},
     r"asa-lambda\)=0.05 marks floor\(lambda\*T\) = 0"),
    ({"asa": "random", "arch": "mlp"}, r"--asa\)='random' gates conv layers, but arch='mlp' has none"),
])
def test_random_gate_config_problems_are_named(values, needle):
    with pytest.raises(ValueError, match=needle):
        build_model(RunConfig().with_values(values), (1, 8, 8), 10)


def test_random_gate_with_its_own_fraction_needs_no_top_k_and_is_seeded_per_layer():
    cfg = RunConfig().with_values({"arch": "conv", "channels": "4,4", "asa-lambda": 0.05, "T": 2, "asa": "random",
                                   "asa-random-fraction": 0.3})
    first, second = build_model(cfg, (1, 8, 8), 10).layers[:2]
    assert type(first.gate).__name__ == "RandomGate" and first.gate.fraction == 0.3
    assert first.gate.seed != second.gate.seed


def test_bn_gamma_starts_every_batchnorm_there_and_changes_no_other_weight():
    cfg = RunConfig().with_values({"arch": "conv", "channels": "4", "hidden": "8", "T": 2})
    torch.manual_seed(0)
    plain = build_model(cfg, (1, 8, 8), 10)
    torch.manual_seed(0)
    scaled = build_model(cfg.with_values({"bn-gamma": 0.4}), (1, 8, 8), 10)
    for name, value in scaled.state_dict().items():
        if name.endswith("norm.weight"):
            assert torch.all(value == 0.4) and torch.all(plain.state_dict()[name] == 1)
        else:
            assert torch.equal(value, plain.state_dict()[name]), name
    with pytest.raises(ValueError, match="bn-gamma"):
        RunConfig().with_values({"bn-gamma": 0.0})
