"""The stable public API at the package top (``snn_core.__all__``): every name resolves, lazily, and works."""
import importlib
import math
import subprocess
import sys
from pathlib import Path

import pytest

import snn_core


def test_all_lists_exactly_the_table():
    assert snn_core.__all__ == sorted(snn_core.__all__)
    assert set(snn_core.__all__) == set(snn_core._EXPORTS)
    assert {"RunConfig", "Trainer", "LIFParams", "lif_sequence", "CUBAParams", "cuba_sequence", "build_model",
            "load_dataset"} <= set(snn_core.__all__)


@pytest.mark.parametrize("name", snn_core.__all__)
def test_every_public_name_is_the_defining_modules_object(name):
    defined = getattr(importlib.import_module(snn_core._EXPORTS[name]), name)
    assert getattr(snn_core, name) is defined
    assert name in dir(snn_core)


def test_an_unknown_name_is_an_attribute_error_naming_the_public_ones():
    with pytest.raises(AttributeError, match="RunConfig"):
        snn_core.NoSuchThing   # noqa: B018


def test_importing_the_package_loads_no_torch():
    probe = ("import sys, snn_core\n"
             "heavy = sorted({'torch', 'numpy', 'streamlit', 'plotly'} & set(sys.modules))\n"
             "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr


def test_lif_sequence_from_the_top_matches_a_hand_computed_membrane():
    import torch
    # decay 0.5, constant input 0.6: v_pre = 0.6, 0.9, 1.05 -> spike, hard reset to 0, then 0.6 again
    run = snn_core.lif_sequence(torch.full((4, 1, 1), 0.6), snn_core.LIFParams(decay=0.5, threshold=1.0))
    assert run.spikes.flatten().tolist() == [0.0, 0.0, 1.0, 0.0]
    assert run.v_pre.flatten().tolist() == pytest.approx([0.6, 0.9, 1.05, 0.6])


def test_cuba_sequence_from_the_top_keeps_the_time_major_shape():
    import torch
    run = snn_core.cuba_sequence(torch.ones(5, 2, 3), snn_core.CUBAParams(tau_syn=2.0))
    assert run.spikes.shape == (5, 2, 3)               # [T, B, N]


def test_a_config_a_model_and_one_training_step_through_the_top_level_names(tiny_values):
    cfg = snn_core.RunConfig().with_values(tiny_values(test_samples=32))
    data = snn_core.load_dataset(cfg.data)
    model = snn_core.build_model(cfg, data.frame_shape, data.n_classes)
    assert sum(p.numel() for p in model.parameters()) > 0
    trainer = snn_core.Trainer(cfg, device="cpu")
    result = trainer.step()
    assert trainer.steps == 1
    assert math.isfinite(result.loss) and 0.0 <= result.accuracy <= 1.0
