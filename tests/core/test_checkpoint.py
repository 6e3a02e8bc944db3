"""Model files: weights and config survive the round trip and the model computes the same outputs."""
import json

import pytest
import torch

from snn_core.checkpoint import FORMAT, load_weights, model_from_bytes, model_to_bytes, read_model_file
from snn_core.config.run_config import RunConfig
from snn_core.methods.registry import build_model
from snn_core.training.trainer import Trainer


def test_saved_model_rebuilds_with_its_config_and_gives_identical_outputs():
    cfg = RunConfig().with_values({"arch": "conv", "channels": "4", "hidden": "16", "T": 3, "epochs": 1,
                                   "train-samples": 100, "test-samples": 20})
    trainer = Trainer(cfg)
    trainer.run_epoch()
    data = model_to_bytes(trainer.model, cfg, trainer.dataset.frame_shape, trainer.dataset.n_classes)
    loaded_cfg, model = model_from_bytes(data)          # on the CPU: move it where the trainer runs
    model = model.to(trainer.device)
    assert loaded_cfg == cfg
    x = trainer.inputs(trainer.dataset.test_x[:5], None)
    trainer.model.eval(), model.eval()
    with torch.no_grad():
        assert torch.equal(trainer.model(x).logits, model(x).logits)


def test_foreign_files_are_rejected_clearly():
    with pytest.raises(ValueError, match="not a safetensors file"):
        model_from_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00hello")
    from safetensors.torch import save
    with pytest.raises(ValueError, match="not an SNN Explorer model file"):
        model_from_bytes(save({"w": torch.zeros(2)}))


def saved_with(model, cfg, **metadata) -> bytes:
    """A model file whose metadata keys are replaced by ``metadata`` (a value of None drops the key)."""
    from safetensors.torch import save
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    meta = {"format": FORMAT, "config": cfg.to_json(), "frame_shape": "[64]", "n_classes": "10"}
    meta.update(metadata)
    return save(tensors, metadata={k: v for k, v in meta.items() if v is not None})


@pytest.fixture(scope="module")
def small():
    cfg = RunConfig().with_values({"hidden": "16", "T": 3, "train-samples": 64, "test-samples": 40, "epochs": 1})
    return cfg, build_model(cfg, (64,), 10)


def test_read_model_file_gives_config_sizes_and_weights(small):
    cfg, model = small
    saved = read_model_file(model_to_bytes(model, cfg, (64,), 10))
    assert saved.cfg == cfg and saved.frame_shape == (64,) and saved.n_classes == 10
    assert set(saved.tensors) == set(model.state_dict())


@pytest.mark.parametrize(("metadata", "message"), [
    ({"format": None}, r"not an SNN Explorer model file \(no format tag\)"),
    ({"format": "snn-explorer/2"}, r"another version \('snn-explorer/2'\); this version reads 'snn-explorer/1'"),
    ({"n_classes": None}, r"lacks \['n_classes'\]"),
    ({"config": '{"neuron": {"threshold": -1}}'}, r"config does not validate: .*threshold"),
    ({"config": '{"colour": {}}'}, r"config does not validate: unknown config section\(s\) \['colour'\]"),
    ({"config": '{"data": {"encoding": "latency", "latency_window": 12, "time_steps": 8}}'},
     "config cannot run: .*latency_window"),
    ({"frame_shape": "[0]"}, "frame_shape"),
])
def test_bad_metadata_is_refused_naming_the_field(small, metadata, message):
    cfg, model = small
    with pytest.raises(ValueError, match=message):
        read_model_file(saved_with(model, cfg, **metadata))


def test_a_tensor_of_another_shape_is_refused_naming_it_and_both_shapes(small):
    cfg, model = small
    wider = build_model(cfg.with_values({"hidden": "24"}), (64,), 10)    # same names, other shapes
    data = saved_with(wider, cfg)
    with pytest.raises(ValueError, match=r"tensor '.*' has shape \[24, 64\] in the file, but .* needs \[16, 64\]"):
        model_from_bytes(data)
    other = build_model(cfg.with_values({"hidden": "16,8"}), (64,), 10)    # an extra layer
    with pytest.raises(ValueError, match="missing .* unexpected"):
        load_weights(model, other.state_dict())


def test_truncated_and_oversized_files_are_refused(small, monkeypatch):
    cfg, model = small
    data = model_to_bytes(model, cfg, (64,), 10)
    with pytest.raises(ValueError, match="tensors cannot be read"):
        read_model_file(data[:-100])
    with pytest.raises(ValueError, match="first 8 bytes"):
        read_model_file(b"{}")
    monkeypatch.setattr("snn_core.checkpoint.MAX_FILE_MB", 0)
    with pytest.raises(ValueError, match="model files of at most 0 MB"):
        read_model_file(data)


# --- tampered files: every refusal a ValueError, before anything is built (issue #15) ---------------------------

@pytest.mark.parametrize(("metadata", "message"), [
    ({"n_classes": str(10**9)}, r"n_classes 1000000000 \(a number\) is not valid; allowed: an integer in 2\.\.10000"),
    ({"n_classes": "1"}, "n_classes 1"),
    ({"n_classes": "10.5"}, "n_classes 10.5"),
    ({"n_classes": "true"}, r"n_classes True \(true \(a boolean\)\)"),
    ({"n_classes": '"10"'}, "n_classes '10' \\(a string\\)"),
    ({"n_classes": "ten"}, "is not JSON"),
    ({"frame_shape": "[-64]"}, r"frame_shape \[-64\] is not valid; allowed: a list of 1 to 3 integers in 1\.\.65535"),
    ({"frame_shape": "[64.0]"}, "frame_shape"),
    ({"frame_shape": "[2, 70000, 70000]"}, "frame_shape"),
    ({"frame_shape": "[1, 1, 1, 64]"}, "frame_shape"),
    ({"frame_shape": "[]"}, "frame_shape"),
    ({"frame_shape": '{"a": 1}'}, "frame_shape"),
    ({"frame_shape": "64"}, "frame_shape"),
    ({"frame_shape": "[" * 50_000}, "frame_shape"),
    ({"config": "null"}, "config does not validate: the config is null; allowed: an object of sections"),
    ({"config": '{"model": [1]}'}, "config does not validate: config section 'model' is a list"),
    ({"config": '{"model": {"hidden": [16.5]}}'}, r"config does not validate: .*hidden"),
    ({"config": "[" * 50_000 + "]" * 50_000}, "config is nested too deeply"),
])
def test_tampered_sizes_and_configs_are_value_errors_naming_them(small, metadata, message):
    cfg, model = small
    with pytest.raises(ValueError, match=message):
        read_model_file(saved_with(model, cfg, **metadata))


def test_sizes_that_do_not_fit_the_tensors_are_refused_before_any_network_is_built(small, monkeypatch):
    cfg, model = small
    built = []
    real_build = build_model

    def counting(*args, **kwargs):
        model = real_build(*args, **kwargs)
        built.append(next(model.parameters()).device.type)
        return model
    monkeypatch.setattr("snn_core.checkpoint.build_model", counting)
    for metadata in ({"n_classes": "10000"}, {"frame_shape": "[2, 4096, 4096]"}, {"frame_shape": "[65]"}):
        with pytest.raises(ValueError, match="has shape .* in the file, but the network its config describes needs"):
            read_model_file(saved_with(model, cfg, **metadata))
    assert set(built) == {"meta"}                      # shapes only: nothing was allocated for 10,000 classes


def test_a_header_that_lies_is_a_value_error(small):
    cfg, model = small
    data = model_to_bytes(model, cfg, (64,), 10)
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    cases = []
    for change in ({"shape": "big"}, {"shape": [-1, 64]}, {"dtype": "Q99"}, {"data_offsets": [0, 10**12]}):
        tampered = {**header, "layers.0.synapse.weight": {**header["layers.0.synapse.weight"], **change}}
        cases.append(tampered)
    cases.append({**header, "layers.0.synapse.weight": "not an entry"})
    cases.append({**header, "extra": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
    for tampered in cases:
        text = json.dumps(tampered).encode()
        with pytest.raises(ValueError):
            model_from_bytes(len(text).to_bytes(8, "little") + text + data[8 + length:])
    for cut in (0, 4, 8, 20, length, length + 8):                   # truncated anywhere
        with pytest.raises(ValueError):
            model_from_bytes(data[:cut])
    deep = ("[" * 50_000 + "]" * 50_000).encode()
    with pytest.raises(ValueError, match="header is not valid JSON"):
        model_from_bytes(len(deep).to_bytes(8, "little") + deep)
