"""Training that advances one gradient step at a time, so a UI can run a few steps per refresh.

``Trainer.step()`` is the only place where weights change: Play, Step and the CLI's whole
epochs all go through it. At the end of each epoch the test set is evaluated, the validation
set's accuracy measured (what tuning reads), and an ``EpochRecord`` is appended to ``history``.
Everything random (initialisation, batch order, Poisson spikes) draws from generators seeded by
``training.seed``; the global RNG is untouched.
``Trainer.fork(cfg)`` continues a run under another config from its current weights and position,
so two runs that differ in one setting can be compared from the step the setting changed.
A real dataset's training frames stay on disk: each epoch's batches are read by ``data.batches.batches`` (a torch
``DataLoader`` over the epoch's own order, with worker processes for large folders), the same batches as indexing.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, cast

import torch
from torch import nn

from ..config.check import require_valid
from ..config.run_config import RunConfig
from ..data import Dataset, load_dataset
from ..data.batches import batches
from ..methods.hooks import MethodHook, batch_loss
from ..methods.registry import REVERSAL_SCORES, build_hooks, build_model
from ..metrics.redundancy import PatternThresholds
from ..network.encoders import encode, to_time_major
from ..network.protocol import Network
from ..network.records import ModelOutput
from ..runtime import resolve_device
from . import evaluate
from .evaluate import Evaluation, SampleTrace, batch_bounds, encoding_generator


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
    validation_accuracy: float | None = None     # accuracy on the validation split; None without one
    loss_terms: dict = field(default_factory=dict)   # TRT: term -> epoch mean (trt.trt_loss); {} for trt=off

    def to_dict(self) -> dict:
        return asdict(self)


def copy_matching_state(target: nn.Module | Network, source: nn.Module | Network) -> list[str]:
    """Copy every parameter and buffer of ``source`` whose name and shape ``target`` shares; returns their names.
    The values are copied, never shared, so the two modules train apart afterwards."""
    ours = target.state_dict()
    matching = {name: value for name, value in source.state_dict().items()
                if name in ours and ours[name].shape == value.shape}
    target.load_state_dict(matching, strict=False)
    return sorted(matching)


class BestEpoch(NamedTuple):
    """The best validation epoch so far: its number, validation accuracy, a copy of the model's weights and buffers
    then, and its evaluation on the test split."""

    epoch: int
    validation_accuracy: float
    state: dict
    evaluation: Evaluation


class StepResult(NamedTuple):
    """One gradient step: ``loss`` is the objective the optimiser minimised (cross-entropy, or what the run's methods
    make of it, e.g. TRT's total with its reversed-input terms); ``cross_entropy`` is the cross-entropy of the model's
    output on the original input alone, the one quantity comparable between runs with different methods."""

    loss: float
    accuracy: float
    epoch_finished: EpochRecord | None
    cross_entropy: float


class Trainer:
    """Owns the model, optimiser, data order and history of one run.

    ``lock`` (re-entrant) serialises the run: ``step``, ``fork`` (of this run), ``evaluate``, ``generalisation`` and
    ``trace_samples`` hold it, so two threads (two overlapping script runs of one browser session) never step one
    model at once; a caller that needs several steps or a read of the weights to be one unit holds it around them.
    A pickled or deep-copied trainer gets a lock of its own."""

    def __init__(self, cfg: RunConfig, device: str = "auto"):
        require_valid(cfg)                                   # before any data is loaded
        self.cfg = cfg
        self.lock = threading.RLock()
        self.device = resolve_device(device)
        self.dataset: Dataset = load_dataset(cfg.data)
        seed = cfg.training.seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model: Network = build_model(cfg, self.dataset.frame_shape, self.dataset.n_classes).to(self.device)
            # the methods' hooks; their parameters (TRT's star head) are trained with the model, never part of
            # it; they draw from their own generators, so the model starts as in the same run without them
            self.hooks = nn.ModuleList(build_hooks(cfg, self.model, self.dataset)).to(self.device)
        self.optimizer = torch.optim.Adam([*self.model.parameters(), *self.hooks.parameters()], lr=cfg.training.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.order_rng = torch.Generator().manual_seed(seed)
        self.encode_rng = encoding_generator(seed)
        self.epoch = 0
        self.steps = 0
        self.train_seconds = 0.0
        self.history: list[EpochRecord] = []
        self.last_evaluation: Evaluation | None = None   # of the latest closed epoch
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        # the epoch's batches (x, y) from the cursor on (data.batches), read ahead
        self._batches: Iterator[tuple[torch.Tensor, torch.Tensor]] | None = None
        self._epoch_sums = [0.0, 0.0, 0]      # loss * n, correct, n
        self._term_sums: dict[str, float] = {}   # a hook's logged loss term -> term * n
        self._generalisation: tuple[int, dict] | None = None   # (steps, generalisation()) cache
        self._best: BestEpoch | None = None   # the best-validation epoch so far (training.select_epoch)
        self.selected_epoch: int | None = None  # the epoch ``select_reported_epoch`` restored, once it has run

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("lock", None)                 # a lock cannot be pickled; the copy gets a new one
        state["_batches"] = None                # a generator cannot be either; re-made from the cursor
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    @property
    def batches_per_epoch(self) -> int:
        return len(batch_bounds(len(self.dataset.train_y), self.cfg.training.batch_size))

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
        """One Adam step on the next batch of the epoch's shuffled order, on ``methods.hooks.batch_loss``:
        cross-entropy, or what the config's methods make of it (e.g. TRT's ``total``), then their after-step.
        Holds ``lock``: a second thread's step waits for this one."""
        with self.lock:
            return self._step()

    @property
    def method_hooks(self) -> list[MethodHook]:
        """``hooks`` as what they are: an ``nn.ModuleList`` (so that ``.to`` and ``.parameters`` reach them) of
        ``build_hooks``'s ``MethodHook``s, which it types as plain modules."""
        return cast(list[MethodHook], list(self.hooks))

    def _step(self) -> StepResult:
        if self._cursor == 0:
            self._order = torch.randperm(len(self.dataset.train_y), generator=self.order_rng)
            self._batches = None
        if self._batches is None:
            self._batches = self._epoch_batches()
        started = time.perf_counter()
        x, y = next(self._batches)
        size, y = len(y), y.to(self.device)
        self.model.train()
        out, loss, terms, step_ce = batch_loss(self.method_hooks, self.model, self.inputs(x, self.encode_rng), y)
        for name, value in terms.items():
            self._term_sums[name] = self._term_sums.get(name, 0.0) + value.item() * size
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        for hook in self.method_hooks:
            hook.after_step(self.model, out, y)
        self.scheduler.step()
        self.train_seconds += time.perf_counter() - started
        self.steps += 1
        self._cursor += size
        correct = int((out.predictions == y).sum())
        loss_value = loss.item()
        if step_ce is None:                  # a method's own loss (the exact engine's): computed for the charts only
            step_ce = torch.nn.functional.cross_entropy(out.logits.detach(), y)
        cross_entropy = loss_value if step_ce is loss else step_ce.item()     # plain training: the loss itself
        sums = self._epoch_sums
        sums[0], sums[1], sums[2] = sums[0] + loss_value * size, sums[1] + correct, sums[2] + size
        record = self._close_epoch() if self._cursor >= len(self.dataset.train_y) else None
        return StepResult(loss_value, correct / size, record, cross_entropy)

    def _epoch_batches(self):
        """The rest of the epoch's batches, from the cursor (``batch_bounds`` over the epoch's order)."""
        bounds = batch_bounds(len(self.dataset.train_y), self.cfg.training.batch_size)
        order = [self._order[start:stop] for start, stop in bounds if start >= self._cursor]
        return batches(self.dataset.train_x, self.dataset.train_y, order)

    def fork(self, cfg: RunConfig) -> Trainer:
        """A new run of ``cfg`` that continues this one from where it is now.

        Copied wherever names and shapes match (the rest keeps ``cfg``'s own initialisation, e.g. a method's
        extra modules): every parameter and buffer of the model and the hooks, and the optimiser state of those
        parameters. Copied whole: the lr schedule's position, epoch, steps, the epoch's batch order and cursor,
        the running epoch sums, history, the latest evaluation, the training time, and the random generators
        (batch order, encoding, and those of hooks of the same type in the same place). So a fork with the same
        config continues exactly as this run would, and one with a different setting diverges from this step.
        Nothing here knows a method: everything is matched by name, shape or type.
        """
        fork = Trainer(cfg, str(self.device))                 # loads its data outside the lock
        with self.lock:                                        # this run's state, never half-way through a step
            return self._continued_by(fork)

    def _continued_by(self, fork: Trainer) -> Trainer:
        if len(fork.dataset.train_y) != len(self.dataset.train_y) or fork.batches_per_epoch != self.batches_per_epoch:
            raise ValueError(f"cannot fork this run into one with {len(fork.dataset.train_y)} training samples in "
                             f"{fork.batches_per_epoch} batches per epoch: the fork continues this run's batch order "
                             f"({len(self.dataset.train_y)} samples, {self.batches_per_epoch} batches); allowed: the "
                             "same train-samples and batch-size (start a new run to change them)")
        copy_matching_state(fork.model, self.model)
        copy_matching_state(fork.hooks, self.hooks)
        fork._copy_optimiser_state(self)
        fork.order_rng.set_state(self.order_rng.get_state())
        fork.encode_rng.set_state(self.encode_rng.get_state())
        for ours, theirs in zip(fork.hooks, self.hooks):
            if type(ours) is type(theirs):
                for name, value in vars(theirs).items():
                    if isinstance(value, torch.Generator) and isinstance(getattr(ours, name, None), torch.Generator):
                        getattr(ours, name).set_state(value.get_state())
        fork.epoch, fork.steps, fork.train_seconds = self.epoch, self.steps, self.train_seconds
        fork.history, fork.last_evaluation = list(self.history), self.last_evaluation
        fork._order, fork._cursor = self._order.clone(), self._cursor
        fork._epoch_sums, fork._term_sums = list(self._epoch_sums), dict(self._term_sums)
        return fork

    def parameters_by_name(self) -> dict[str, nn.Parameter]:
        """Every trained parameter by name: the model's as ``model.<name>``, the hooks' as ``hooks.<name>``."""
        return {**{f"model.{n}": p for n, p in self.model.named_parameters()},
                **{f"hooks.{n}": p for n, p in self.hooks.named_parameters()}}

    def _copy_optimiser_state(self, source: Trainer) -> None:
        """Adam's moments and step counts of ``source``'s parameters that this run has by name and shape, and the
        lr schedule at ``source``'s step (a scheduler rebuilt at that position sets the lr of each group)."""
        theirs = source.parameters_by_name()
        for name, param in self.parameters_by_name().items():
            other = theirs.get(name)
            if other is not None and other.shape == param.shape and other in source.optimizer.state:
                self.optimizer.state[param] = {key: value.clone() if torch.is_tensor(value) else value
                                               for key, value in source.optimizer.state[other].items()}
        if source.steps:
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor,
                                                               last_epoch=source.steps - 1)

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
                             validation_accuracy=evaluate.validation_accuracy(self),
                             loss_terms={name: total / seen for name, total in self._term_sums.items()})
        self.history.append(record)
        self._keep_if_best(record, evaluation)
        self._cursor, self._epoch_sums, self._term_sums = 0, [0.0, 0.0, 0], {}
        self._batches = None
        return record

    def _keep_if_best(self, record: EpochRecord, evaluation: Evaluation) -> None:
        """With ``select_epoch = best-validation``, a copy of the weights of the best validation epoch so far (the
        first of ties): what ``select_reported_epoch`` puts back."""
        if self.cfg.training.select_epoch != "best-validation" or record.validation_accuracy is None:
            return
        if self._best is None or record.validation_accuracy > self._best.validation_accuracy:
            state = {name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()}
            self._best = BestEpoch(record.epoch, record.validation_accuracy, state, evaluation)

    def select_reported_epoch(self) -> EpochRecord:
        """The epoch a finished run reports (``training.select_epoch``), its weights and evaluation put back into the
        model: the best validation epoch, or the last one (``last``, or no validation split). Held under ``lock``;
        metrics read afterwards (robustness, generalisation, a saved model) are of those weights."""
        with self.lock:
            if self._best is not None and self._best.epoch != self.epoch:
                self.model.load_state_dict(self._best.state)
                self.last_evaluation = self._best.evaluation
                self._generalisation = None
            self.selected_epoch = self._best.epoch if self._best is not None else self.epoch
            return self.history[self.selected_epoch - 1]

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

    def evaluate(self, record: Sequence[int] = (),
                 thresholds: PatternThresholds = PatternThresholds()) -> Evaluation:
        """``evaluate.evaluate`` at the current weights: the whole test set, traces of ``record``."""
        with self.lock:
            return evaluate.evaluate(self, record, thresholds)

    def generalisation(self) -> dict:
        """``evaluate.generalisation`` at the current weights, cached per step count."""
        with self.lock:
            if self._generalisation is None or self._generalisation[0] != self.steps:
                self._generalisation = (self.steps, evaluate.generalisation(self, REVERSAL_SCORES))
            return dict(self._generalisation[1])

    def trace_samples(self, indices: Sequence[int]) -> SampleTrace:
        """``evaluate.trace_samples``: internals of a few test samples, equal to what ``evaluate`` records."""
        with self.lock:
            return evaluate.trace_samples(self, indices)
