"""Training that advances one gradient step at a time, so a UI can run a few steps per refresh.

``Trainer.step()`` is the only place where weights change: Play, Step and the CLI's whole
epochs all go through it. At the end of each epoch the test set is evaluated and an
``EpochRecord`` is appended to ``history``. Everything random (initialisation, batch order,
Poisson spikes) draws from generators seeded by ``training.seed``; the global RNG is untouched.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, NamedTuple, Sequence

import torch
import torch.nn.functional as F

from ..methods import trt
from ..config.run_config import RunConfig
from ..data import Dataset, load_dataset
from ..network.encoders import encode, to_time_major
from ..metrics.activity import ActivityMetrics, SpikeTally
from ..network.discrete import ModelOutput, Trace, build_model
from ..network.readout import DecisionMetrics, DecisionTally, first_spike_regulariser
from ..metrics.redundancy import PatternThresholds, RedundancyMetrics, RedundancyTally
from ..runtime import resolve_device

ENCODING_SEED_OFFSET = 1_000_003   # keeps the Poisson stream independent of the batch-order stream
PERTURB_SEED_OFFSET = 2_000_029    # TRT's random time permutations: a stream of their own
EVAL_BATCH = 256


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    steps: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    nasfr: float
    spikes_per_sample: float
    train_seconds: float          # cumulative time spent in gradient steps
    layer_firing_rates: dict      # layer name -> mean firing rate SFR_l on the test set
    decision_step_mean: float | None = None      # first-spike readout: mean first output spike step (test set)
    no_decision_fraction: float | None = None    # first-spike readout: test samples with no output spike
    loss_terms: dict = field(default_factory=dict)   # TRT: term -> epoch mean (trt.trt_loss); {} for trt=off

    def to_dict(self) -> dict:
        return asdict(self)


class StepResult(NamedTuple):
    loss: float
    accuracy: float
    epoch_finished: EpochRecord | None


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    loss: float
    activity: ActivityMetrics
    predictions: torch.Tensor      # (N,) predicted class per test sample
    trace: Trace | None            # internals of the recorded test samples
    redundancy: RedundancyMetrics | None = None    # of the conv layers; None without conv layers
    decision: DecisionMetrics | None = None        # first-output-spike statistics; first-spike readout only


class Trainer:
    """Owns the model, optimiser, data order and history of one run."""

    def __init__(self, cfg: RunConfig, device: str = "auto"):
        self.cfg = cfg
        self.device = resolve_device(device)
        self.dataset: Dataset = load_dataset(cfg.data)
        seed = cfg.training.seed
        trt.check_setup(cfg, self.dataset.has_time_axis)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = build_model(cfg, self.dataset.frame_shape, self.dataset.n_classes).to(self.device)
            # TRT's star head: trained with the model, never part of it (inference and checkpoints skip it);
            # drawn after the model, so the model's initial weights are those of the same run without TRT
            self.star_head = (trt.star_head(self.model, self.dataset.n_classes).to(self.device)
                              if cfg.methods.trt == "on" else None)
        heads = [] if self.star_head is None else list(self.star_head.parameters())
        self.optimizer = torch.optim.Adam([*self.model.parameters(), *heads], lr=cfg.training.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.order_rng = torch.Generator().manual_seed(seed)
        self.encode_rng = torch.Generator().manual_seed(seed + ENCODING_SEED_OFFSET)
        self.perturb_rng = torch.Generator().manual_seed(seed + PERTURB_SEED_OFFSET)
        self.epoch = 0
        self.steps = 0
        self.train_seconds = 0.0
        self.history: list[EpochRecord] = []
        self.last_evaluation: Evaluation | None = None   # of the latest closed epoch
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._epoch_sums = [0.0, 0.0, 0]      # loss * n, correct, n
        self._term_sums: dict[str, float] = {}   # TRT loss term -> term * n
        self._generalisation: tuple[int, dict] | None = None   # (steps, generalisation()) cache

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.dataset.train_y) // self.cfg.training.batch_size)

    def _lr_factor(self, step: int) -> float:
        """Multiplier of the base lr after ``step`` steps: 1 (constant) or (1 + cos(pi s / S)) / 2 (cosine)."""
        if self.cfg.training.lr_schedule == "constant":
            return 1.0
        total = self.batches_per_epoch * self.cfg.training.epochs
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

    @property
    def evaluated_weights_current(self) -> bool:
        """True when ``last_evaluation`` is of the current weights: no step since the epoch it closed."""
        return bool(self.history) and self.history[-1].steps == self.steps

    @property
    def finished(self) -> bool:
        return self.epoch >= self.cfg.training.epochs

    @property
    def progress(self) -> float:
        """Fraction of the configured training done, 0..1."""
        return min(1.0, self.steps / (self.batches_per_epoch * self.cfg.training.epochs))

    def inputs(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """A batch as the network sees it: time-major ``[T, B, C, H, W]`` on the run's device."""
        x = x.to(self.device, torch.float32)                      # event frames are stored as uint8 counts
        if self.dataset.has_time_axis:
            return to_time_major(x)
        data = self.cfg.data
        return encode(x, data.encoding, data.time_steps, rng, data.latency_window)

    def forward(self, x: torch.Tensor, rng: torch.Generator | None = None,
                record: torch.Tensor | None = None) -> ModelOutput:
        return self.model(self.inputs(x, rng), record)

    def step(self) -> StepResult:
        """One Adam step on the next batch of the epoch's shuffled order; with TRT on, on the TRT loss
        (``trt.trt_loss``, whose ``total`` is the step's loss)."""
        if self._cursor == 0:
            self._order = torch.randperm(len(self.dataset.train_y), generator=self.order_rng)
        batch = self._order[self._cursor:self._cursor + self.cfg.training.batch_size]
        started = time.perf_counter()
        self.model.train()
        x, y = self.dataset.train_x[batch], self.dataset.train_y[batch].to(self.device)
        if self.star_head is None:
            out = self.forward(x, self.encode_rng)
            loss = F.cross_entropy(out.logits, y)
        else:
            terms, out = trt.trt_loss(self.model, self.star_head, self.inputs(x, self.encode_rng), y,
                                      self.cfg.methods, self.dataset.has_time_axis, self.perturb_rng)
            loss = terms["total"]
            for name, value in terms.items():
                self._term_sums[name] = self._term_sums.get(name, 0.0) + value.item() * len(batch)
        if self.cfg.model.first_spike_reg > 0:
            model_cfg = self.cfg.model
            loss = loss + first_spike_regulariser(out.logits, y, model_cfg.tau_loss, self.cfg.neuron.tau_syn,
                                                  model_cfg.first_spike_reg)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        after_step = getattr(self.model, "after_step", None)      # engine exact: weight bumping
        if after_step is not None:
            after_step()
        self.scheduler.step()
        self.train_seconds += time.perf_counter() - started
        self.steps += 1
        self._cursor += len(batch)
        correct = int((out.predictions == y).sum())
        sums = self._epoch_sums
        sums[0], sums[1], sums[2] = sums[0] + loss.item() * len(batch), sums[1] + correct, sums[2] + len(batch)
        record = self._close_epoch() if self._cursor >= len(self.dataset.train_y) else None
        return StepResult(loss.item(), correct / len(batch), record)

    def _close_epoch(self) -> EpochRecord:
        loss_sum, correct, seen = self._epoch_sums
        evaluation = self.last_evaluation = self.evaluate()
        decision = evaluation.decision
        self.epoch += 1
        record = EpochRecord(self.epoch, self.steps, loss_sum / seen, correct / seen, evaluation.loss,
                             evaluation.accuracy, evaluation.activity.nasfr,
                             evaluation.activity.total_spikes_per_sample, self.train_seconds,
                             dict(evaluation.activity.firing_rate),
                             decision_step_mean=None if decision is None else decision.decision_step_mean,
                             no_decision_fraction=None if decision is None else decision.no_decision_fraction,
                             loss_terms={name: total / seen for name, total in self._term_sums.items()})
        self.history.append(record)
        self._cursor, self._epoch_sums, self._term_sums = 0, [0.0, 0.0, 0], {}
        return record

    def run_epoch(self) -> EpochRecord:
        """Steps until the current epoch closes."""
        while True:
            result = self.step()
            if result.epoch_finished is not None:
                return result.epoch_finished

    def fit(self, on_epoch: Callable[[EpochRecord], None] | None = None) -> list[EpochRecord]:
        """Train the remaining configured epochs, calling ``on_epoch`` after each."""
        while not self.finished:
            record = self.run_epoch()
            if on_epoch is not None:
                on_epoch(record)
        return self.history

    @torch.no_grad()
    def evaluate(self, record: Sequence[int] = (),
                 thresholds: PatternThresholds = PatternThresholds()) -> Evaluation:
        """Accuracy, loss, spike activity and conv-layer redundancy (channel patterns split by
        ``thresholds``) on the whole test set; traces of the ``record`` samples."""
        self.model.eval()
        data = self.dataset
        rng = torch.Generator().manual_seed(self.cfg.training.seed + ENCODING_SEED_OFFSET)
        tally = SpikeTally(self.model.layer_names)
        redundancy = RedundancyTally(self.model.layer_names, thresholds)
        decisions = DecisionTally() if self.cfg.model.readout == "first-spike" else None
        wanted = torch.as_tensor(list(record), dtype=torch.long)
        if len(wanted) and (int(wanted.min()) < 0 or int(wanted.max()) >= len(data.test_y)):
            raise ValueError(f"record={list(record)} is out of range; allowed: test indices 0..{len(data.test_y) - 1}")
        loss_sum, predictions, trace = 0.0, [], None
        for start in range(0, len(data.test_y), EVAL_BATCH):
            x, y = data.test_x[start:start + EVAL_BATCH], data.test_y[start:start + EVAL_BATCH].to(self.device)
            local = wanted[(wanted >= start) & (wanted < start + len(y))] - start
            out = self.forward(x, rng, local.to(self.device) if len(local) else None)
            loss_sum += float(F.cross_entropy(out.logits, y, reduction="sum"))
            predictions.append(out.predictions.cpu())
            if decisions is not None:
                decisions.add(out.spikes[-1], out.output_potential, y)
            tally.add(out.spikes)
            redundancy.add(out.spikes)
            trace = out.trace if trace is None else _join_traces(trace, out.trace)
        predictions = torch.cat(predictions)
        accuracy = float((predictions == data.test_y).double().mean())
        return Evaluation(accuracy, loss_sum / len(data.test_y), tally.summary(), predictions, trace,
                          redundancy.summary(), None if decisions is None else decisions.summary())

    @torch.no_grad()
    def generalisation(self) -> dict:
        """At the current weights, for every run (TRT or not, so the arms of a comparison pair):

        ``reversal_agreement``: fraction of test samples predicted the same on the original and the
        time-reversed sample (reversed at TRT's cut: the input for event data, the first spiking layer's
        spikes for static data); ``reversal_kl``: mean KL(p(O) ‖ p(Ô)) at τ = 1 over the test set;
        ``train_test_gap`` = ``train_eval_accuracy`` (eval mode, whole training set) - test accuracy.
        Costs about one extra pass over the test set and one over the training set; cached per step count.
        The exact engine has no time-stepped spike trains to reverse: its reversal scores are None.
        """
        if self._generalisation is not None and self._generalisation[0] == self.steps:
            return dict(self._generalisation[1])
        self.model.eval()
        data, has_time = self.dataset, self.dataset.has_time_axis
        rng = torch.Generator().manual_seed(self.cfg.training.seed + ENCODING_SEED_OFFSET)
        reversible = self.cfg.model.engine == "discrete"
        same, correct, kl_sum = 0, 0, 0.0
        for start in range(0, len(data.test_y), EVAL_BATCH):
            x, y = data.test_x[start:start + EVAL_BATCH], data.test_y[start:start + EVAL_BATCH].to(self.device)
            if not reversible:
                correct += int((self.forward(x, rng).predictions == y).sum())
                continue
            predictions, reversed_predictions, kl = trt.reversal_scores(self.model, self.inputs(x, rng), has_time)
            same += int((predictions == reversed_predictions).sum())
            correct += int((predictions == y).sum())
            kl_sum += kl
        train_correct = 0
        for start in range(0, len(data.train_y), EVAL_BATCH):
            x, y = data.train_x[start:start + EVAL_BATCH], data.train_y[start:start + EVAL_BATCH].to(self.device)
            train_correct += int((self.forward(x, rng).predictions == y).sum())
        count = len(data.test_y)
        train_accuracy = train_correct / len(data.train_y)
        result = {"reversal_agreement": same / count if reversible else None,
                  "reversal_kl": kl_sum / count if reversible else None,
                  "train_eval_accuracy": train_accuracy, "train_test_gap": train_accuracy - correct / count}
        self._generalisation = (self.steps, result)
        return dict(result)

    @torch.no_grad()
    def trace_samples(self, indices: Sequence[int]) -> SampleTrace:
        """Internals of a few test samples, equal to what ``evaluate`` records for them. Usually only
        those samples run (eval-mode BatchNorm makes each sample independent of its batch); a gate whose
        output depends on its batch (faithful ASA) makes them run inside their evaluation batches."""
        wanted = [int(i) for i in indices]
        count = len(self.dataset.test_y)
        if not wanted or min(wanted) < 0 or max(wanted) >= count:
            raise ValueError(f"indices={wanted} is not valid; allowed: 1 or more test indices 0..{count - 1}")
        if any(getattr(layer.gate, "batch_dependent", False) for layer in self.model.layers):
            wanted = sorted(set(wanted))                 # evaluate records them in test-set order
            evaluation = self.evaluate(record=wanted)
            return SampleTrace(tuple(wanted), evaluation.trace, tuple(evaluation.predictions[wanted].tolist()),
                               tuple(self.dataset.test_y[wanted].tolist()))
        self.model.eval()
        rng = torch.Generator().manual_seed(self.cfg.training.seed + ENCODING_SEED_OFFSET)
        out = self.forward(self.dataset.test_x[wanted], rng, torch.arange(len(wanted), device=self.device))
        predictions = tuple(out.predictions.tolist())
        return SampleTrace(tuple(wanted), out.trace, predictions, tuple(self.dataset.test_y[wanted].tolist()))


@dataclass(frozen=True)
class SampleTrace:
    indices: tuple[int, ...]       # test-set indices, in the order of the trace's batch axis
    trace: Trace
    predictions: tuple[int, ...]
    labels: tuple[int, ...]


def _join_traces(first: Trace, second: Trace | None) -> Trace:
    """Concatenate the recorded samples of two evaluation batches along the batch axis."""
    if second is None:
        return first
    layers = tuple(type(a)(a.name, *(torch.cat([u, v], 1) for u, v in zip(a[1:], b[1:])))
                   for a, b in zip(first.layers, second.layers))
    return Trace(layers, torch.cat([first.logits, second.logits], 1))
