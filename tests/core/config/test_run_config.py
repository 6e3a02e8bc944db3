"""Config tree: defaults, JSON round trip, overrides by CLI name, validation messages, choices from the registries."""
from __future__ import annotations

import dataclasses
import json

import pytest

from snn_core.config.run_config import RunConfig, cli_index
from snn_core.data import DATASETS
from snn_core.methods.asa.gate import CONTROLS, RULES, VARIANTS
from snn_core.methods.engines import ENGINES
from snn_core.methods.trt.branches import PERTURBATIONS
from snn_core.network.encoders import ENCODERS
from snn_core.network.readout import (
    READOUTS,
)
from snn_core.neurons.registry import NEURON_MODELS


def test_defaults_round_trip_through_json():
    cfg = RunConfig()
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_overrides_by_cli_name_parse_strings():
    cfg = RunConfig().with_values({"T": "4", "hidden": "64,32", "batch-norm": "false", "lr": "0.01",
                                   "dataset": "events-shape", "max-spikes": 1})
    assert cfg.data.time_steps == 4 and cfg.model.hidden == (64, 32)
    assert cfg.model.batch_norm is False and cfg.training.lr == 0.01
    assert cfg.data.dataset == "events-shape" and cfg.neuron.max_spikes == 1
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().data.time_steps = 3


@pytest.mark.parametrize("key,value,message", [
    ("T", "0", r"data.time_steps \(--T\)=0 is not allowed; allowed: integer 1..64"),
    ("dataset", "mnist", "allowed: digits, events-shape, events-direction"),
    ("decay", "1.5", r"neuron.decay \(--decay\)=1.5 is not allowed; allowed: number 0.01..1"),
    ("reset", "zero", "allowed: hard, soft"),
    ("hidden", "a,b", "hidden='a,b' is not valid; allowed: 0 to 4 comma-separated integers in 1..2048"),
    ("hidden", "1,2,3,4,5", "model.hidden"),
    ("batch-norm", "maybe", "allowed: true, false"),
    ("asa", "on", r"methods.asa \(--asa\)='on' is not allowed; allowed: off, faithful, clean"),
    ("trt", "yes", r"methods.trt \(--trt\)='yes' is not allowed; allowed: off, on"),
    ("asa-lambda", "1.0", r"methods.asa_lambda \(--asa-lambda\)=1.0 is not allowed; allowed: number 0.05..0.95"),
    ("epochs", "2.5", "allowed: integer 1..500"),
    ("lr", "nan", "training.lr"),
    ("colour", "red", "unknown option 'colour'; allowed: "),
])
def test_bad_values_name_the_field_and_what_is_allowed(key, value, message):
    with pytest.raises(ValueError, match=message):
        RunConfig().with_values({key: value})


def test_from_dict_rejects_unknown_fields_and_sections():
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['depth'\] in 'model'"):
        RunConfig.from_dict({"model": {"depth": 3}})
    with pytest.raises(ValueError, match="unknown config section"):
        RunConfig.from_dict({"optimizer": {}})


def test_every_field_has_a_unique_cli_name_and_help():
    index = cli_index()
    fields = [f for s in dataclasses.fields(RunConfig) for f in dataclasses.fields(s.default_factory)]
    assert len(index) == len(fields)
    assert all(f.metadata["help"] for f in fields)


def test_k_is_an_alias_of_the_spike_cap():
    assert RunConfig().with_values({"K": "3"}).neuron.max_spikes == 3


@pytest.mark.parametrize("cli, registry", [
    ("encoding", tuple(ENCODERS)), ("readout", READOUTS), ("engine", tuple(ENGINES)),
    ("asa", ("off", *VARIANTS, *CONTROLS)), ("asa-rule", RULES), ("trt-perturbation", PERTURBATIONS),
])
def test_config_choices_are_the_registry_names(cli, registry):
    assert cli_index()[cli][1].metadata["choices"] == registry


def test_neuron_and_surrogate_choices_are_the_registry_names():
    assert cli_index()["neuron"][1].metadata["choices"] == tuple(NEURON_MODELS) == ("lif", "cuba")
    assert cli_index()["surrogate"][1].metadata["choices"] == ("atan", "fast-sigmoid", "rectangular")


def test_the_config_offers_exactly_the_registered_datasets():
    assert cli_index()["dataset"][1].metadata["choices"] == tuple(DATASETS)


# --- types checked before use (issue #15) ---------------------------------------------------------------------

@pytest.mark.parametrize(("tree", "message"), [
    (None, r"the config is null; allowed: an object of sections \['data'"),
    (3, "the config is a number; allowed: an object of sections"),
    ("data", "the config is a string"),
    ([{"data": {}}], "the config is a list"),
    ({"data": None}, r"config section 'data' is null; allowed: an object of its fields \['crop_us'"),
    ({"model": 5}, "config section 'model' is a number"),
    ({"model": "mlp"}, "config section 'model' is a string"),
    ({"training": [1, 2]}, "config section 'training' is a list"),
    ({"neuron": True}, r"config section 'neuron' is true \(a boolean\)"),
])
def test_a_tree_or_section_that_is_not_an_object_is_a_value_error_naming_it(tree, message):
    with pytest.raises(ValueError, match=message):
        RunConfig.from_dict(tree)


def test_whole_floats_become_integers_and_other_floats_are_refused_naming_the_field():
    cfg = RunConfig.from_dict({"model": {"hidden": [64.0, 32.0], "channels": [8.0]}, "data": {"time_steps": 4.0},
                               "training": {"lr": 1}})
    assert cfg.model.hidden == (64, 32) and all(type(n) is int for n in cfg.model.hidden + cfg.model.channels)
    assert type(cfg.data.time_steps) is int and type(cfg.training.lr) is float
    with pytest.raises(ValueError, match=r"model\.hidden \(--hidden\)=\(64\.5,\) is not allowed; allowed: .*integers"):
        RunConfig.from_dict({"model": {"hidden": [64.5]}})
    for bad in ([True], ["64"], [[64]], [None], "64"):
        with pytest.raises(ValueError, match="model.hidden"):
            RunConfig.from_dict({"model": {"hidden": bad}})


def test_a_huge_value_is_quoted_short_in_the_message():
    with pytest.raises(ValueError) as caught:
        RunConfig.from_dict({"data": {"time_steps": 10**400}})
    assert len(str(caught.value)) < 200 and "…" in str(caught.value)
    with pytest.raises(ValueError) as caught:
        RunConfig().with_values({"T": "x" * 10_000})
    assert len(str(caught.value)) < 200


def test_config_json_is_read_with_a_size_cap_and_a_depth_limit():
    from snn_core.config.run_config import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, parse_config_json
    assert parse_config_json(b'{"model": {"hidden": [8]}}', "c.json") == {"model": {"hidden": [8]}}
    with pytest.raises(ValueError, match=f"c.json is over {MAX_CONFIG_BYTES:,} bytes"):
        parse_config_json(b" " * (MAX_CONFIG_BYTES + 1), "c.json")
    with pytest.raises(ValueError, match="c.json is nested too deeply"):
        parse_config_json("[" * 100_000 + "]" * 100_000, "c.json")          # deeper than Python's parser goes
    with pytest.raises(ValueError, match=f"nested more than {MAX_CONFIG_DEPTH} levels"):
        parse_config_json("[" * 20 + "]" * 20, "c.json")
    with pytest.raises(ValueError, match="c.json is not UTF-8"):
        parse_config_json(b"\xff\xfe", "c.json")
    with pytest.raises(ValueError, match="c.json is not valid JSON"):
        parse_config_json(b"\x00" * 10, "c.json")
