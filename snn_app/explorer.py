"""Cached engine calls of the Spike explorer page: one sample's trace, and the test set under the current weights;
and the page theme that figures follow."""
from __future__ import annotations

import streamlit as st
import torch

from snn_core.training.evaluate import Evaluation, SampleTrace
from snn_core.training.trainer import Trainer


def weights_key(trainer: Trainer, source: str = "") -> str:
    """Names the current weights: the same object after the same number of steps of the same config.

    The config is included because ``id`` can be reused by a new trainer once the old one is freed;
    two runs with one config and one step count have the same weights (training is seeded). A model opened
    from a file has weights no seed gives: ``source`` (the file's digest) tells two such files apart.
    """
    return f"{id(trainer)}:{trainer.steps}:{trainer.cfg!r}:{source}"


@st.cache_data(max_entries=16, show_spinner="Running the sample through the network...")
def sample_trace(_trainer: Trainer, weights: str, index: int) -> SampleTrace:
    """Internals of test sample ``index`` under the weights named ``weights`` (only that sample is run)."""
    return _trainer.trace_samples([index])


@st.cache_data(max_entries=4, show_spinner="Evaluating the test set...")
def test_evaluation(_trainer: Trainer, weights: str) -> Evaluation:
    """Predictions and activity of the whole test set under the current weights.

    The evaluation that closed the last epoch is reused when no step was taken since; otherwise
    (a run paused mid-epoch) the test set is evaluated again.
    """
    if _trainer.last_evaluation is not None and _trainer.evaluated_weights_current:
        return _trainer.last_evaluation
    return _trainer.evaluate()


def wrong_indices(predictions: torch.Tensor, labels: torch.Tensor) -> list[int]:
    """Test indices whose prediction differs from the label, ascending."""
    return torch.nonzero(predictions != labels).flatten().tolist()


def next_wrong(wrong: list[int], after: int) -> int | None:
    """The first of the ascending ``wrong`` indices after ``after``, wrapping around; None when there are none."""
    return next((i for i in wrong if i > after), wrong[0] if wrong else None)
