"""The one evaluation path: batches of a data split as the network sees them, and what is measured on them.

Every pass over the test set (``evaluate``, ``generalisation``, ``accuracy`` under a perturbation) and
every single-sample view (``sample_inputs``, ``trace_samples``) encodes its inputs with a fresh
``encoding_generator(seed)``, so Poisson spikes are the same in all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

import torch
import torch.nn.functional as F

from ..config.run_config import RunConfig
from ..data import Dataset
from ..metrics.activity import ActivityMetrics, SpikeTally
from ..metrics.cost import CostMetrics, CostTally
from ..metrics.decisions import DecisionMetrics, DecisionTally
from ..metrics.redundancy import PatternThresholds, RedundancyMetrics, RedundancyTally
from ..network.protocol import Network
from ..network.records import Trace

ENCODING_SEED_OFFSET = 1_000_003   # keeps the Poisson stream independent of the batch-order stream
EVAL_BATCH = 256
SPLITS = ("test", "train", "validation")
# (model, inputs[T, B, ...], has_time_axis) -> (predictions, predictions on the time-reversed sample, summed KL)
ReversalScores = Callable[[Network, torch.Tensor, bool], tuple[torch.Tensor, torch.Tensor, float]]


class EvaluatedRun(Protocol):
    """What evaluation reads of a run (``Trainer`` is one)."""
    cfg: RunConfig
    device: torch.device
    dataset: Dataset
    model: Network

    def inputs(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """A batch as the network sees it, time-major ``[T, B, ...]``."""


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    loss: float
    activity: ActivityMetrics
    predictions: torch.Tensor      # (N,) predicted class per test sample
    trace: Trace | None            # internals of the recorded test samples
    redundancy: RedundancyMetrics | None = None    # of the conv layers; None without conv layers
    decision: DecisionMetrics | None = None        # first-output-spike statistics; first-spike readout only
    cost: CostMetrics | None = None                # operations and energy per sample (``metrics.cost``)


@dataclass(frozen=True)
class SampleTrace:
    indices: tuple[int, ...]       # test-set indices, in the order of the trace's batch axis
    trace: Trace
    predictions: tuple[int, ...]
    labels: tuple[int, ...]


class EvalBatch(NamedTuple):
    start: int                     # index of the batch's first sample in its split
    inputs: torch.Tensor           # (T, B, ...) as the network sees them
    labels: torch.Tensor           # (B,) on the run's device


def encoding_generator(seed: int) -> torch.Generator:
    """The generator random encodings (Poisson) draw from: seeded ``seed + ENCODING_SEED_OFFSET``."""
    return torch.Generator().manual_seed(seed + ENCODING_SEED_OFFSET)


def eval_batches(run: EvaluatedRun, split: Literal["test", "train", "validation"] = "test",
                 generator: torch.Generator | None = None) -> Iterator[EvalBatch]:
    """The ``split`` in order, ``eval_batch_size`` samples at a time, encoded from ``generator`` (a fresh
    ``encoding_generator`` when None; pass one to continue its stream over a second split)."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not known; allowed: {', '.join(SPLITS)}")
    data = run.dataset
    x, y = {"test": (data.test_x, data.test_y), "train": (data.train_x, data.train_y),
            "validation": (data.val_x, data.val_y)}[split]
    rng = encoding_generator(run.cfg.training.seed) if generator is None else generator
    for start, stop in batch_bounds(len(y), eval_batch_size(run)):
        labels = y[start:stop].to(run.device)                                       # (B,)
        yield EvalBatch(start, run.inputs(x[start:stop], rng), labels)


def eval_batch_size(run: EvaluatedRun) -> int:
    """``EVAL_BATCH``, or ``training.batch_size`` when a gate's output depends on its batch (faithful ASA): its
    top-k masks are pooled over the batch, so it is evaluated on batches of the size it was trained on (at 64
    and at 256 the important fraction differs, shared/papers/asa.md §1.5)."""
    if any(getattr(getattr(layer, "gate", None), "batch_dependent", False) for layer in run.model.layers):
        return run.cfg.training.batch_size
    return EVAL_BATCH


def batch_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive batches of ``size`` over ``n`` samples, except that a single sample left over
    joins the last batch: faithful ASA's batch-pooled masks (and BatchNorm in training) need two samples."""
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


@torch.no_grad()
def evaluate(run: EvaluatedRun, record: Sequence[int] = (),
             thresholds: PatternThresholds = PatternThresholds()) -> Evaluation:
    """Accuracy, loss, spike activity, operation counts and conv-layer redundancy (channel patterns split by
    ``thresholds``) on the whole test set; traces of the ``record`` samples."""
    run.model.eval()
    data = run.dataset
    tally = SpikeTally(run.model.layer_names)
    cost = CostTally(run.model)
    redundancy = RedundancyTally(run.model.layer_names, thresholds)
    decisions = DecisionTally() if run.cfg.model.readout == "first-spike" else None
    wanted = torch.as_tensor(list(record), dtype=torch.long)
    if len(wanted) and (int(wanted.min()) < 0 or int(wanted.max()) >= len(data.test_y)):
        raise ValueError(f"record={list(record)} is out of range; allowed: test indices 0..{len(data.test_y) - 1}")
    loss_sum, trace = 0.0, None
    batch_predictions: list[torch.Tensor] = []
    for start, inputs, y in eval_batches(run):
        local = wanted[(wanted >= start) & (wanted < start + len(y))] - start
        out = run.model(inputs, local.to(run.device) if len(local) else None)
        loss_sum += float(F.cross_entropy(out.logits, y, reduction="sum"))
        batch_predictions.append(out.predictions.cpu())
        if decisions is not None:
            if out.output_potential is None:
                raise ValueError("the first-spike readout gave no output_potential: decision metrics need it")
            decisions.add(out.spikes[-1], out.output_potential, y)
        tally.add(out.spikes)
        cost.add(inputs, out.spikes)
        redundancy.add(out.spikes)
        trace = out.trace if trace is None else join_traces(trace, out.trace)
    predictions = torch.cat(batch_predictions)
    accuracy = float((predictions == data.test_y).double().mean())
    return Evaluation(accuracy, loss_sum / len(data.test_y), tally.summary(), predictions, trace,
                      redundancy.summary(), None if decisions is None else decisions.summary(), cost.summary())


@torch.no_grad()
def accuracy(run: EvaluatedRun, perturb: Callable[[torch.Tensor], torch.Tensor] | None = None,
             split: Literal["test", "train", "validation"] = "test") -> float:
    """Accuracy on ``split`` (test by default) with every batch's inputs ``[T, B, ...]`` passed through
    ``perturb`` first."""
    run.model.eval()
    correct, count = 0, 0
    for _, inputs, y in eval_batches(run, split):
        frames = inputs if perturb is None else perturb(inputs)
        correct += int((run.model(frames).predictions == y).sum())
        count += len(y)
    if count == 0:
        raise ValueError(f"the {split} split is empty; allowed: a split with samples (validation needs "
                         "--validation > 0)")
    return correct / count


def validation_accuracy(run: EvaluatedRun) -> float | None:
    """Accuracy on the validation split (what tuning reads), encoded like the test set; None without one
    (``data.validation`` = 0)."""
    return accuracy(run, split="validation") if len(run.dataset.val_y) else None


@torch.no_grad()
def generalisation(run: EvaluatedRun, reversal_scores: ReversalScores) -> dict:
    """At the current weights, for every run (TRT or not, so the arms of a comparison pair):

    ``reversal_agreement``: fraction of test samples predicted the same on the original and the
    time-reversed sample (reversed at TRT's cut: the input for event data, the first spiking layer's
    spikes for static data); ``reversal_kl``: mean KL(p(O) ‖ p(Ô)) at τ = 1 over the test set;
    ``train_test_gap`` = ``train_eval_accuracy`` (eval mode, whole training set) - test accuracy.
    ``reversal_scores`` reverses a batch where TRT cuts (``methods.registry.REVERSAL_SCORES``).
    One pass over the test set, then one over the training set continuing the same encoding stream.
    The exact engine has no time-stepped spike trains to reverse: its reversal scores are None.
    """
    run.model.eval()
    data = run.dataset
    rng = encoding_generator(run.cfg.training.seed)
    reversible = run.cfg.model.engine == "discrete"
    same, correct, kl_sum = 0, 0, 0.0
    for _, inputs, y in eval_batches(run, "test", rng):
        if not reversible:
            correct += int((run.model(inputs).predictions == y).sum())
            continue
        predictions, reversed_predictions, kl = reversal_scores(run.model, inputs, data.has_time_axis)
        same += int((predictions == reversed_predictions).sum())
        correct += int((predictions == y).sum())
        kl_sum += kl
    train_correct = 0
    for _, inputs, y in eval_batches(run, "train", rng):
        train_correct += int((run.model(inputs).predictions == y).sum())
    count = len(data.test_y)
    train_accuracy = train_correct / len(data.train_y)
    return {"reversal_agreement": same / count if reversible else None,
            "reversal_kl": kl_sum / count if reversible else None,
            "train_eval_accuracy": train_accuracy, "train_test_gap": train_accuracy - correct / count}


def checked_indices(run: EvaluatedRun, indices: Sequence[int]) -> list[int]:
    """``indices`` as a list of ints, checked to name 1 or more test samples."""
    count = len(run.dataset.test_y)
    wanted = [int(i) for i in indices]
    if not wanted or min(wanted) < 0 or max(wanted) >= count:
        raise ValueError(f"indices={wanted} is not valid; allowed: 1 or more test indices 0..{count - 1}")
    return wanted


def sample_inputs(run: EvaluatedRun, indices: Sequence[int]) -> torch.Tensor:
    """Test samples ``indices`` alone as the network sees them, ``[T, len(indices), ...]``: the inputs of
    ``trace_samples`` (and, for deterministic encodings, of ``evaluate``)."""
    wanted = checked_indices(run, indices)
    return run.inputs(run.dataset.test_x[wanted], encoding_generator(run.cfg.training.seed))


@torch.no_grad()
def trace_samples(run: EvaluatedRun, indices: Sequence[int]) -> SampleTrace:
    """Internals of a few test samples, equal to what ``evaluate`` records for them. Usually only
    those samples run (eval-mode BatchNorm makes each sample independent of its batch); a gate whose
    output depends on its batch (faithful ASA) makes them run inside their evaluation batches."""
    wanted = checked_indices(run, indices)
    labels = run.dataset.test_y
    if any(getattr(layer.gate, "batch_dependent", False) for layer in run.model.layers):
        wanted = sorted(set(wanted))                                 # evaluate records them in test-set order
        evaluation = evaluate(run, record=wanted)
        if evaluation.trace is None:
            raise ValueError(f"evaluate recorded no trace of test samples {wanted}")
        return SampleTrace(tuple(wanted), evaluation.trace, tuple(evaluation.predictions[wanted].tolist()),
                           tuple(labels[wanted].tolist()))
    inputs = sample_inputs(run, wanted)                                              # (T, b, ...)
    run.model.eval()
    out = run.model(inputs, torch.arange(len(wanted), device=run.device))
    if out.trace is None:
        raise ValueError(f"the model recorded no trace of test samples {wanted}")
    return SampleTrace(tuple(wanted), out.trace, tuple(out.predictions.tolist()), tuple(labels[wanted].tolist()))


def join_traces(first: Trace, second: Trace | None) -> Trace:
    """Concatenate the recorded samples of two evaluation batches along the batch axis."""
    if second is None:
        return first
    layers = tuple(type(a)(a.name, *(torch.cat([u, v], 1) for u, v in zip(a[1:], b[1:])))
                   for a, b in zip(first.layers, second.layers))
    return Trace(layers, torch.cat([first.logits, second.logits], 1))
