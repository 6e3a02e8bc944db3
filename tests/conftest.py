"""Shared fixtures: one tiny run config, as a ``RunConfig``, as URL/``with_values`` settings and as CLI words.

Every test that trains starts from ``TINY`` and states only its own deliberate differences, by CLI name:
``tiny(hidden="8,6", batch_size=32)`` (``_`` in a keyword becomes ``-``), ``tiny(TRT, T=2)`` (dicts of
changes first, later ones win), ``tiny(train_samples=None)`` (back to the config's default).
"""
import os
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():        # run the Triton kernels (snn_core.neurons.fused_triton) in its interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")

from snn_core.config.run_config import RunConfig
from snn_core.training.trainer import Trainer

# digits through an MLP of 16, 3 steps, one epoch of 64 training samples: seconds at most on a CPU
TINY = {"T": "3", "epochs": "1", "train-samples": "64", "test-samples": "40", "hidden": "16"}


def tiny_settings(*changes: dict, **more) -> dict[str, str]:
    """``TINY`` with ``changes`` and then ``more`` applied; ``None`` drops a setting (the default applies)."""
    merged = dict(TINY)
    for change in (*changes, more):
        merged.update({key.replace("_", "-"): value for key, value in change.items()})
    return {key: str(value) for key, value in merged.items() if value is not None}


@pytest.fixture(scope="session")
def tiny():
    """``tiny(*changes, **more) -> RunConfig``: the tiny base with a test's own changes."""
    return lambda *changes, **more: RunConfig().with_values(tiny_settings(*changes, **more))


@pytest.fixture(scope="session")
def tiny_values():
    """``tiny_values(*changes, **more) -> dict[str, str]``: the same settings as URL query parameters
    (``open_script(page, tiny_values(...))``) or for ``RunConfig().with_values``."""
    return tiny_settings


@pytest.fixture(scope="session")
def tiny_args():
    """``tiny_args(*changes, **more) -> str``: the same settings as ``key=value`` words (``--base``, ``--variant``)."""
    return lambda *changes, **more: " ".join(f"{k}={v}" for k, v in tiny_settings(*changes, **more).items())


@pytest.fixture(scope="session")
def train_to_end():
    """``train_to_end(cfg) -> (trainer, step losses)``: a new run of ``cfg`` trained to its last epoch."""
    def train(cfg: RunConfig) -> tuple[Trainer, list[float]]:
        trainer, losses = Trainer(cfg), []
        while not trainer.finished:
            losses.append(trainer.step().loss)
        return trainer, losses
    return train


# The real recordings: the samples bundled with the repository (data/samples, 20 N-MNIST recordings per digit and
# one file of each recording format; its SOURCES.md), or the larger collection they were taken from when this
# machine has it (1,000 N-MNIST recordings, 10 DVS128 clips): $SNN_REAL_DATA, else the folder beside the checkout
# that this project's own machines hold. A fresh clone has only the bundle, and every test runs on it or skips.
BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "samples"
FULL_DATA = Path(os.environ.get("SNN_REAL_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data" / "real")


def has_full_data() -> bool:
    return (FULL_DATA / "SOURCES.md").is_file() and FULL_DATA.resolve() != BUNDLED_DATA.resolve()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real recordings: the full collection when this machine has it, else the bundled
    ``data/samples``. Both have the same layout (``nmnist/Train/<digit>/*.bin``, ``dvs_recordings/<file>``,
    ``dvs128_clips_unlabeled/clip_01.bin``), so a test that needs only those files passes on either."""
    if has_full_data():
        return FULL_DATA
    if not (BUNDLED_DATA / "SOURCES.md").is_file():
        pytest.fail(f"the bundled samples are missing from {BUNDLED_DATA} (they are part of the repository)")
    return BUNDLED_DATA


@pytest.fixture(scope="session")
def full_real_data() -> Path:
    """The full collection, for the tests that need more than the bundle (all 1,000 N-MNIST recordings or all
    10 DVS128 clips); skipped with its reason where it is absent (a fresh clone), never failed."""
    if not has_full_data():
        pytest.skip(f"needs the full real-data collection (1,000 N-MNIST recordings, 10 DVS128 clips), not found "
                    f"at {FULL_DATA}; set SNN_REAL_DATA to a folder holding it and its SOURCES.md (the bundled "
                    "data/samples holds 20 recordings per digit and one clip)")
    return FULL_DATA


@pytest.fixture(scope="session", autouse=True)
def frame_cache_in_tmp(tmp_path_factory):
    """Framed real datasets go to a fresh folder per test session, never to the checkout's .cache/frames."""
    os.environ["SNN_FRAME_CACHE_DIR"] = str(tmp_path_factory.mktemp("frame_cache"))


@pytest.fixture(scope="session", autouse=True)
def run_cache_in_tmp(tmp_path_factory):
    """Finished runs go to a fresh folder per test session, never to the checkout's .cache/runs: opening a run cache
    removes the folders of other engine fingerprints, so a test run after an edit would delete a user's results."""
    os.environ["SNN_RUN_CACHE_DIR"] = str(tmp_path_factory.mktemp("run_cache"))
