"""The memory budget: the estimate follows the network the config builds, the budget comes from the environment or
the machine, and a config over it is refused (one message) while the defaults and the report's configs pass."""
import os

import pytest
import torch

from snn_core.config import budget
from snn_core.config.budget import BUDGET_ENV, MB, budget_bytes, estimate, layer_sizes, machine_memory, memory_rule
from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS
from snn_core.experiments.trt_table import DIGITS, EVENTS
from snn_core.methods.registry import build_model
from snn_core.network.discrete import POOL_ABOVE_WIDTH
from snn_core.report.asa import ASA_BASE
from snn_core.report.real import NMNIST, NMNIST_TTFS
from snn_core.report.reproduce import VARIABILITY_RUNS
from snn_core.report.ttfs import TTFS_BASE
from snn_core.report.ttfs_exact import ARMS, EXACT_BASE
from snn_core.training.evaluate import EVAL_BATCH

HUGE = {"hidden": "2048,2048,2048,2048", "T": 64, "batch-size": 1024, "epochs": 500}     # the issue's link
REPORT = [*VARIABILITY_RUNS.values(), ASA_BASE, ASA_BASE.with_values({"asa": "faithful"}),
          *(EXACT_BASE.with_values(arm.changes) for arm in ARMS), TTFS_BASE,
          NMNIST, NMNIST_TTFS, NMNIST.with_values({"trt": "on"}), EVENTS, DIGITS]


def test_the_constants_copied_from_rooms_above_config_are_theirs():
    assert budget.EVAL_BATCH == EVAL_BATCH and budget.POOL_ABOVE_WIDTH == POOL_ABOVE_WIDTH


@pytest.mark.parametrize("settings", [
    {},
    {"arch": "conv", "dataset": "events-shape", "channels": "4,8,8", "hidden": "16", "readout": "count"},
    {"arch": "conv", "channels": "4", "hidden": "", "batch-norm": "false"},
    {"hidden": "32,16", "readout": "first-spike", "batch-norm": "false"},
], ids=["mlp", "conv events pooled", "conv digits", "mlp spiking readout"])
def test_the_estimate_counts_the_neurons_and_weights_of_the_network_built(settings):
    cfg = RunConfig().with_values({"T": 2, **settings})
    info = DATASETS[cfg.data.dataset]
    inputs, neurons, weights = layer_sizes(cfg, info)
    model = build_model(cfg, info.frame_shape, info.n_classes)
    x = torch.zeros(2, 3, *info.frame_shape)
    out = model(x)
    assert inputs == x[0, 0].numel()
    assert neurons == [spikes[0, 0].numel() for spikes in out.spikes]
    assert weights == sum(p.numel() for p in model.parameters())


def test_each_part_grows_with_the_fields_named_to_lower_it():
    base = RunConfig().with_values({"dataset": "events-shape", "arch": "conv"})
    info = DATASETS["events-shape"]
    before = estimate(base, info)
    assert estimate(base.with_values({"batch-size": 128}), info).activations == 2 * before.activations
    assert estimate(base.with_values({"T": 16}), info).activations == 2 * before.activations
    assert estimate(base.with_values({"train-samples": 4500}), info).dataset == 2 * before.dataset
    assert estimate(base.with_values({"trt": "on"}), info).activations == 2 * before.activations
    assert estimate(base.with_values({"channels": "32,64"}), info).parameters > before.parameters


def test_the_issues_link_is_refused_naming_estimate_budget_and_fields(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "8000")
    cfg = RunConfig().with_values(HUGE)
    problems = memory_rule(cfg, DATASETS["digits"])
    assert len(problems) == 1
    text = problems[0]
    assert "needs about 17," in text and "over the budget of 8,000 MB (SNN_MEMORY_BUDGET_MB" in text
    for cli in ("--batch-size", "--T", "--hidden", "--train-samples", "--test-samples"):
        assert cli in text
    assert "the activations, its largest part" in text


def test_the_defaults_and_the_reports_configs_fit_a_small_machine(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "2000")            # a machine of 4 GB: half of it
    for cfg in [RunConfig(), *REPORT]:
        assert memory_rule(cfg, DATASETS[cfg.data.dataset]) == [], cfg.to_json()
        assert estimate(cfg, DATASETS[cfg.data.dataset]).total < 1024 * MB


def test_the_budget_is_the_setting_or_half_the_machine(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "1500")
    assert budget_bytes() == 1500 * MB
    monkeypatch.delenv(BUDGET_ENV)
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert machine_memory() == total and budget_bytes() == total // 2


def test_without_the_machines_memory_the_budget_falls_back(monkeypatch):
    def no_sysconf(name):
        raise ValueError(f"unrecognized configuration name {name}")
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    monkeypatch.setattr(budget.os, "sysconf", no_sysconf)
    assert machine_memory() is None and budget_bytes() == budget.FALLBACK_BUDGET_MB * MB


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan", "inf"])
def test_a_bad_budget_setting_is_named_by_the_check(monkeypatch, value):
    monkeypatch.setenv(BUDGET_ENV, value)
    problems = memory_rule(RunConfig(), DATASETS["digits"])
    assert problems == [f"{BUDGET_ENV}={value!r} is not a memory budget; allowed: a positive number of megabytes "
                        "(e.g. 8000), or unset for half the machine's memory"]
