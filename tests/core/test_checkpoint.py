"""Model files: weights and config survive the round trip and the model computes the same outputs."""
import pytest
import torch

from snn_core.checkpoint import model_from_bytes, model_to_bytes
from snn_core.config.run_config import RunConfig
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
