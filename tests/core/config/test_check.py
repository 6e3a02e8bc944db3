"""The one config check: every rule family names its fields and the way out, and all problems are
reported together. (That each entry point asks it before training is tested with the entry point.)"""
from __future__ import annotations

import dataclasses
import re

import pytest

from snn_core.config.check import check, require_valid
from snn_core.config.run_config import RunConfig, cli_index
from snn_core.data import DATASETS

EXACT = {"engine": "exact", "encoding": "latency", "neuron": "cuba", "readout": "first-spike", "max-spikes": 1,
         "hidden": "8", "T": 8}


FIELD = re.compile(r"(\w+)\.(\w+) \(--([\w-]+)\)")       # data.latency_window (--latency-window)


CASES = [   # (settings, a needle of the one problem they cause)
    # data
    ({"encoding": "latency", "latency-window": 9}, r"data.latency_window \(--latency-window\)=9 is longer than "
                                                   r"T=8; allowed: 0 \(all T steps\) to 8"),
    ({"train-samples": 5}, r"data.train_samples \(--train-samples\)=5 is too few; allowed: 0 \(every sample\) or "
                           r"20 and more"),
    ({"dataset": "events-shape", "test-samples": 0}, r"data.test_samples \(--test-samples\)=0 \(every sample\) is "
                                                     r"for real datasets and digits; .*allowed: 20 and more"),
    # readout
    ({"first-spike-reg": 0.5}, r"model.first_spike_reg \(--first-spike-reg\)=0.5 needs first-spike times, but "
                               r"readout='rate'; allowed: --readout first-spike, or 0"),
    # network shape
    ({"hidden": ""}, r"model.hidden \(--hidden\) is empty, but arch='mlp' needs at least one hidden layer; allowed: "),
    # ASA: where it gates, and what its gate needs
    ({"asa": "clean", "arch": "mlp"}, r"methods.asa \(--asa\)='clean' gates conv layers, but arch='mlp' has none; "
                                      r"allowed: --arch conv, or --asa off"),
    ({"asa": "clean", "arch": "conv", "asa-layers": "1,3"},
     r"methods.asa_layers \(--asa-layers\)=\[1, 3\] names conv layer\(s\) \[3\], but the network has 2; "
     r"allowed: numbers 1..2"),
    ({"asa": "faithful", "arch": "conv", "asa-rule": "and"},
     r"methods.asa_rule \(--asa-rule\)='and' is not allowed with asa='faithful' .*allowed: xor"),
    ({"asa": "faithful", "arch": "conv", "batch-size": 1},
     r"training.batch_size \(--batch-size\)=1.*allowed: --batch-size 2 or more, or --asa clean"),
    ({"asa": "clean", "arch": "conv", "T": 1}, r"needs data.time_steps \(--T\) >= 2 .*allowed: --T 2 or more"),
    ({"asa": "clean", "arch": "conv", "T": 4, "asa-lambda": 0.2},
     r"methods.asa_lambda \(--asa-lambda\)=0.2 marks floor\(lambda\*T\) = 0 .*allowed: asa-lambda >= 0.25"),
    ({"asa": "clean", "arch": "conv", "T": 4, "asa-reduction": 8},
     r"methods.asa_reduction \(--asa-reduction\)=8 is larger than T=4 .*allowed: 1..4"),
    ({"asa": "clean", "arch": "conv", "channels": "4,16", "asa-lambda": 0.2},
     r"floor\(lambda\*C\) = 0 channels top-k in gated conv layer\(s\) \[1\] of model.channels \(--channels\)="
     r"\[4, 16\]; allowed: asa-lambda >= 0.25"),
    # TRT
    ({"trt": "on", "engine": "exact", **{k: v for k, v in EXACT.items() if k != "engine"}},
     r"methods.trt \(--trt\)='on' needs model.engine \(--engine\)='discrete'; got 'exact'"),
    ({"trt": "on", "trt-perturbation": "playback", "hidden": "8,8"},
     r"'playback' plays event clips backwards .* has no events; allowed: reverse, permute or none"),
    ({"trt": "on", "hidden": "8"}, r"1 spiking layer\(s\) and the time-averaged rate readout.*allowed: 2 or more"),
    # exact engine: one needle per field it constrains
    ({**EXACT, "arch": "conv"}, r"engine exact: model.arch \(--arch\)='conv'; allowed: mlp"),
    ({**EXACT, "dataset": "events-shape"}, r"engine exact: data.dataset \(--dataset\)='events-shape'; allowed: digits"),
    ({**EXACT, "encoding": "direct"}, r"engine exact: data.encoding \(--encoding\)='direct'; allowed: latency"),
    ({**EXACT, "neuron": "lif"}, r"engine exact: neuron.model \(--neuron\)='lif'; allowed: cuba"),
    ({**EXACT, "readout": "rate"}, r"engine exact: model.readout \(--readout\)='rate'; allowed: first-spike, count"),
    ({**EXACT, "max-spikes": 0}, r"engine exact: neuron.max_spikes \(--max-spikes\)=0; allowed: 1..10"),
    ({**EXACT, "max-spikes": 11}, r"engine exact: neuron.max_spikes \(--max-spikes\)=11; allowed: 1..10"),
    ({**EXACT, "hidden": "8,8,8"}, r"engine exact: model.hidden \(--hidden\)=\[8, 8, 8\]; allowed: 1 to 2 layers"),
    ({**EXACT, "hidden": "300"}, r"engine exact: model.hidden \(--hidden\)=\[300\]; allowed: sizes 1..256"),
    ({**EXACT, "asa": "clean"}, r"engine exact: methods.asa \(--asa\)='clean'; allowed: off"),
    ({**EXACT, "hidden": "256,256", "max-spikes": 3},       # 64 x 256 + 256 x 3 x 256 + 256 x 3 x 10
     r"needs 220672 spike slots x neurons per sample; allowed: at most 100000"),
]


def test_the_default_config_and_the_presets_can_run():
    from snn_core.methods.ttfs.presets import ttfs_config
    assert check(RunConfig()) == []
    assert check(ttfs_config()) == []
    assert check(RunConfig().with_values(EXACT)) == []


@pytest.mark.parametrize("settings,needle", CASES)
def test_each_rule_names_its_fields_the_values_and_what_is_allowed(settings, needle):
    cfg = RunConfig().with_values(settings)          # any per-field-valid combination can be built ...
    problems = check(cfg)                            # ... and is then judged
    assert len(problems) == 1, problems
    assert re.search(needle, problems[0]), problems[0]
    with pytest.raises(ValueError, match=needle):
        require_valid(cfg)


@pytest.mark.parametrize("settings,needle", CASES)
def test_every_field_a_message_names_is_that_field_with_its_cli_name(settings, needle):
    named = FIELD.findall(check(RunConfig().with_values(settings))[0])
    index = cli_index()
    assert named
    for section, name, cli in named:
        assert cli in index and (index[cli][0], index[cli][1].name) == (section, name), (section, name, cli)


def test_several_problems_are_all_reported_on_one_line():
    cfg = RunConfig().with_values({"encoding": "latency", "latency-window": 20, "first-spike-reg": 0.1,
                                   "trt": "on", "hidden": "8"})
    assert len(check(cfg)) == 3
    with pytest.raises(ValueError) as problem:
        require_valid(cfg)
    text = str(problem.value)
    assert "\n" not in text and text.startswith("3 problems: (1) data.latency_window")
    assert "(2) methods.trt" in text and "(3) model.first_spike_reg" in text        # core rules, then by method


def test_conv_needs_image_frames_from_the_dataset_registry(monkeypatch):
    monkeypatch.setitem(DATASETS, "digits", dataclasses.replace(DATASETS["digits"], frame_shape=(64,)))
    problems = check(RunConfig().with_values({"arch": "conv"}))
    assert len(problems) == 1 and "model.arch (--arch)='conv' needs image-shaped frames" in problems[0]
    assert ("gives (64,); allowed: --arch mlp, or a dataset of images (events-shape, events-direction, nmnist, "
            "dvs-gesture, event-folder)") in problems[0]


def test_a_latency_window_longer_than_t_is_refused_by_name():
    with pytest.raises(ValueError, match=r"data.latency_window \(--latency-window\)=9 is longer than T=8; "
                                         r"allowed: 0 \(all T steps\) to 8"):
        require_valid(RunConfig().with_values({"encoding": "latency", "latency-window": 9, "T": 8}))
    assert RunConfig().with_values({"encoding": "direct", "latency-window": 9}).data.latency_window == 9


def test_a_config_over_the_memory_budget_is_refused_with_one_message_naming_its_fields(monkeypatch):
    monkeypatch.setenv("SNN_MEMORY_BUDGET_MB", "8000")
    cfg = RunConfig().with_values({"hidden": "2048,2048,2048,2048", "T": 64, "batch-size": 1024, "epochs": 500})
    problems = check(cfg)
    assert len(problems) == 1 and "over the budget of 8,000 MB" in problems[0]
    named = {cli for _, _, cli in FIELD.findall(problems[0])}
    assert {"batch-size", "T", "hidden", "train-samples"} <= named
    index = cli_index()
    for section, name, cli in FIELD.findall(problems[0]):
        assert (index[cli][0], index[cli][1].name) == (section, name)
    with pytest.raises(ValueError, match="needs about .* MB of memory"):
        require_valid(cfg)


def test_every_sample_is_0_or_the_word_all_for_a_real_dataset_and_digits():
    for dataset in ("nmnist", "digits"):
        cfg = RunConfig().with_values({"dataset": dataset, "train-samples": "all", "test-samples": "0"})
        assert (cfg.data.train_samples, cfg.data.test_samples) == (0, 0) and check(cfg) == []


def test_a_conv_net_on_frames_known_only_once_read_is_refused_when_they_are_a_row():
    from snn_core.methods.registry import build_model

    cfg = RunConfig().with_values({"dataset": "event-folder", "arch": "conv"})
    assert check(cfg) == []                              # no --sensor: the frames' shape is known once read
    with pytest.raises(ValueError, match=r"model.arch \(--arch\)='conv' needs frames at least 4x4, but "
                                         r"dataset='event-folder' gives 1x64 .*allowed: --arch mlp"):
        build_model(cfg, (2, 1, 64), 3)
    assert build_model(cfg.with_values({"arch": "mlp"}), (2, 1, 64), 3) is not None
