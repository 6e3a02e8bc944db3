"""How much memory a run needs at its peak, estimated from its config, and the budget it must fit in.

Each field of a ``RunConfig`` is range-checked alone, but the product of batch size, T and layer widths can ask
for more memory than the machine has (``hidden=2048,2048,2048,2048 T=64 batch-size=1024`` wants tens of GB): the
allocation then fails mid-step, or the kernel's OOM killer ends the whole server with every session on it.
``memory_rule`` (one of ``config.check``'s rules) refuses such a config before anything is loaded, naming the
estimate, the budget and the fields to lower.

The estimate (``estimate``) is a sum of four parts, each an upper bound at toy scale rather than an exact count:

- training activations: batch x T x (input features + the neurons of every spiking layer) x 4 bytes x
  ``BACKWARD_FACTOR``, the tensors autograd keeps per value for the backward pass (synapse output, norm output,
  membrane and spikes of each step, the surrogate's inputs, their gradients), times each switched-on method's
  ``Method.memory_factor`` (TRT runs a second branch: x 2; ASA's gates keep their own scores and masks: x 1.5);
- the evaluation batch: ``EVAL_BATCH`` samples run without gradients, every layer's spikes kept for the metrics
  (``EVAL_FACTOR`` values per neuron and step), or the larger of the test and validation splits when both are
  smaller;
- the dataset in memory: train + test samples, each T x frame as uint8 event counts (procedural clips twice: the
  framed cache and the run's copy) or one float32 image (digits); the validation split is held out of the
  training samples (``snn_core.data.validation``), so train-samples counts it. A real dataset's frames stay on
  disk (``snn_core.data.frame_cache``): only its labels and index arrays (``INDEX_BYTES`` a sample) and the batches
  read ahead (``READ_AHEAD`` training batches and an evaluation batch) are in memory; with the frame cache off
  (``SNN_FRAME_CACHE_MB=0``) its frames are in memory, as for the clips. Train/test-samples 0 (every recording of a
  folder, whose size the config does not know) counts as ``MAX_SAMPLES``, the whole digits split as its size;
- parameters with their gradients and Adam's two moments: 4 copies of every weight.

``BACKWARD_FACTOR`` was measured on CPU (torch 2.13, one thread, glibc mmap threshold 64 KiB): the peak RSS
(``VmHWM`` reset through ``/proc/self/clear_refs``) of a run's first ``Trainer.step`` minus the RSS before it,
divided by batch x T x (inputs + neurons) x 4 bytes. LIF mlp hidden=1024,1024 T=32 batch=512: 5.9;
hidden=2048,2048 T=16 batch=256: 6.1; hidden=2048 x 4 T=16 batch=256: 5.5; CUBA hidden=1024,1024: 4.0; conv
channels=32,64 on events-shape T=16 batch=64: 5.4; the same with ASA clean: 9.8 (ASA's factor); TRT
hidden=1024,1024 batch=256: 9.4, two branches. Evaluation (``Trainer.evaluate`` over 360-500 test samples):
2.8-4.1 values per neuron and step (``EVAL_FACTOR``). Each factor is set a little above its measurements, so a
config the rule accepts does not run out of memory for want of a margin; the two peaks never overlap, so their
sum is an upper bound.

Admission control (the end of this module): ``memory_rule`` checks one run alone, which is the whole story for the
CLI (one process per run); a server shared by many browser sessions adds ``LEDGER``, one account for the whole
process. An app run (or an opened recording) reserves its estimate there before it is built, and releases it when
the session lets it go: explicitly (a run replaced, a file closed) or when the object it is attached to is
garbage-collected (``Reservation.attach``: a ``weakref.finalize``, so a session that ends without a word releases
too). A reservation that would take the total over the budget first lets the garbage collector finalise runs of
sessions that have already ended, then waits up to ``wait`` seconds for others to release, and is then refused with
``AdmissionRefused`` (a ValueError: pages show its message as it is), which names what is reserved (the session's
own reservations by name; other sessions' only as counts and sizes, never their names) and what to lower.
"""
from __future__ import annotations

import collections
import gc
import itertools
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import settings
from ..methods.catalogue import METHODS

if TYPE_CHECKING:
    from ..data import DatasetInfo
    from .run_config import RunConfig

POOL_ABOVE_WIDTH = 8         # snn_core.network.discrete's: conv layers pool while wider (a test ties them)
BYTES_PER_VALUE = 4          # float32 activations and weights
BACKWARD_FACTOR = 7          # values autograd keeps per neuron and step for the backward pass (measured: see above)
EVAL_FACTOR = 5              # values per neuron and step without gradients: current, membrane, kept spikes
EVAL_BATCH = 256             # snn_core.training.evaluate.EVAL_BATCH (config sits below training; a test ties them)
OPTIMISER_COPIES = 4         # weight, gradient, Adam's two moments
DIGITS_SPLITS = (1437, 360)  # the digits train/test splits cap train-samples/test-samples
MAX_SAMPLES = 100_000        # run_config.MAX_SAMPLES: what 0 (every recording of a folder) counts as at most
INDEX_BYTES = 16             # a real dataset's sample in memory: its label and its row in the frame file (int64)
READ_AHEAD = 5               # training batches in memory at once: the step's, and two ahead per loader worker (2)
BUDGET_ENV = settings.MEMORY_BUDGET_MB.name
RAM_FRACTION = 0.5           # default budget: this share of the machine's memory
FALLBACK_BUDGET_MB = 4096    # when the machine's memory cannot be read
MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryEstimate:
    """A run's estimated peak memory in bytes, by part."""

    activations: int
    evaluation: int
    dataset: int
    parameters: int

    @property
    def total(self) -> int:
        return self.activations + self.evaluation + self.dataset + self.parameters


def layer_sizes(cfg: RunConfig, info: DatasetInfo) -> tuple[int, list[int], int]:
    """(input values per time step, neurons of each spiking layer, trained weights) of the network ``cfg`` builds
    (``snn_core.network.discrete``: each conv layer pools 2x2 while its input is wider than ``POOL_ABOVE_WIDTH``;
    a method's own parameters, such as TRT's star head, are left out: they are small beside the layers)."""
    shape = info.frame_shape_for(cfg.data)
    inputs, neurons, weights = math.prod(shape), [], 0
    features, per_neuron = inputs, 2 if cfg.model.batch_norm else 1      # BatchNorm's scale and shift, or a bias
    if cfg.model.arch == "conv" and len(shape) == 3:
        in_ch, height, width = shape
        for out_ch in cfg.model.channels:
            if width > POOL_ABOVE_WIDTH:
                height, width = height // 2, width // 2
            neurons.append(out_ch * height * width)
            weights += in_ch * out_ch * 9 + per_neuron * out_ch
            in_ch = out_ch
        features = in_ch * height * width
    for size in cfg.model.hidden:
        neurons.append(size)
        weights += features * size + per_neuron * size
        features = size
    classes = max(info.n_classes, 1)
    if cfg.model.readout != "rate":
        neurons.append(classes)
    weights += features * classes + classes
    return inputs, neurons, weights


def dataset_bytes(cfg: RunConfig, info: DatasetInfo) -> int:
    """The train (validation included: it is held out of train-samples) and test splits in memory (for a real
    dataset, its caps: a folder may hold fewer; its frames on disk count only as index and read-ahead)."""
    data = cfg.data
    frame = math.prod(info.frame_shape_for(data))
    if not info.has_time_axis:                           # static images, float32, capped by the splits
        samples = _samples(data.train_samples, DIGITS_SPLITS[0]) + _samples(data.test_samples, DIGITS_SPLITS[1])
        return samples * frame * BYTES_PER_VALUE
    samples = _samples(data.train_samples, MAX_SAMPLES) + _samples(data.test_samples, MAX_SAMPLES)
    if info.reads_folder and _frames_on_disk():
        read_ahead = (READ_AHEAD * cfg.training.batch_size + EVAL_BATCH) * data.time_steps * frame
        return samples * INDEX_BYTES + read_ahead
    copies = 1 if info.reads_folder else 2               # procedural clips: the framed cache and the run's copy
    return samples * data.time_steps * frame * copies


def _samples(cap: int, whole: int) -> int:
    """At most how many samples a cap gives: 0 is every sample (at most ``whole``), else at most ``whole``."""
    return whole if cap == 0 else min(cap, whole)


def _frames_on_disk() -> bool:
    """Whether a real dataset's frames are read from the frame cache on disk (it is on), not held in memory."""
    from ..data.frame_cache import cap_bytes

    try:
        return cap_bytes() > 0
    except ValueError:                                   # a bad SNN_FRAME_CACHE_MB: loading says so
        return True


def validation_samples(cfg: RunConfig, info: DatasetInfo) -> int:
    """At most how many samples the validation split holds: ``data.validation`` of the training cap, rounded up."""
    data = cfg.data
    train = _samples(data.train_samples, MAX_SAMPLES if info.has_time_axis else DIGITS_SPLITS[0])
    return math.ceil(data.validation * train)


def estimate(cfg: RunConfig, info: DatasetInfo) -> MemoryEstimate:
    """The run's estimated peak memory (see the module's docstring for each part)."""
    inputs, neurons, weights = layer_sizes(cfg, info)
    per_sample = cfg.data.time_steps * (inputs + sum(neurons)) * BYTES_PER_VALUE
    activations: float = cfg.training.batch_size * per_sample * BACKWARD_FACTOR
    for method in METHODS:
        activations *= method.memory_factor(cfg)
    return MemoryEstimate(
        activations=int(activations),
        evaluation=min(EVAL_BATCH, max(cfg.data.test_samples, validation_samples(cfg, info)))
        * per_sample * EVAL_FACTOR,
        dataset=dataset_bytes(cfg, info),
        parameters=weights * BYTES_PER_VALUE * OPTIMISER_COPIES)


def machine_memory() -> int | None:
    """The machine's physical memory in bytes, or None where it cannot be read."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):       # no sysconf (Windows) or no such name
        return None
    return total if total > 0 else None


def budget_bytes(environ=os.environ) -> int:
    """The most memory one run may need: ``$SNN_MEMORY_BUDGET_MB`` megabytes, else ``RAM_FRACTION`` of the
    machine's memory (``FALLBACK_BUDGET_MB`` where it cannot be read). ValueError for a setting that is not a
    positive number (``settings.MEMORY_BUDGET_MB``)."""
    megabytes = settings.read(settings.MEMORY_BUDGET_MB, environ)
    if megabytes is not None:
        return int(megabytes * MB)
    total = machine_memory()
    return int(total * RAM_FRACTION) if total else FALLBACK_BUDGET_MB * MB


FIELDS = {"batch": "training.batch_size (--batch-size)", "T": "data.time_steps (--T)",
          "hidden": "model.hidden (--hidden)", "channels": "model.channels (--channels)",
          "train": "data.train_samples (--train-samples)", "test": "data.test_samples (--test-samples)"}
LOWER = {"activations": ("batch", "T", "hidden", "channels"), "evaluation": ("T", "hidden", "channels", "test"),
         "dataset": ("train", "test", "T"), "parameters": ("hidden", "channels")}   # what shrinks each part


def memory_rule(cfg: RunConfig, info: DatasetInfo) -> list[str]:
    """A config whose estimated peak memory is over the budget, as one message with the estimate by part, the
    budget, and the fields to lower: those of the largest part first, then the rest."""
    try:
        budget = budget_bytes()
    except ValueError as problem:
        return [str(problem)]
    need = estimate(cfg, info)
    if need.total <= budget:
        return []
    parts = {name: getattr(need, name) for name in LOWER}
    largest = max(parts, key=lambda name: parts[name])
    shown = ", ".join(f"{name} {size / MB:,.0f} MB" for name, size in parts.items())
    wanted = [key for key in FIELDS if key != "channels" or cfg.model.arch == "conv"]
    first = [FIELDS[key] for key in LOWER[largest] if key in wanted]
    rest = [FIELDS[key] for key in wanted if FIELDS[key] not in first]
    return [f"this run needs about {need.total / MB:,.0f} MB of memory ({shown}), over the budget of "
            f"{budget / MB:,.0f} MB ({BUDGET_ENV}; default half the machine's memory); allowed: lower "
            f"{', '.join(first)} (the {largest}, its largest part), or {', '.join(rest)}, or raise {BUDGET_ENV}"]


OUT_OF_MEMORY_SIGNS = ("can't allocate memory", "out of memory", "not enough memory", "failed to allocate")


def out_of_memory_message(problem: BaseException) -> str | None:
    """What to say when ``problem`` is a failed allocation (``MemoryError``, torch's ``DefaultCPUAllocator: can't
    allocate memory`` or CUDA's ``out of memory``, both RuntimeErrors), naming the fields that shrink a run; None
    for any other problem. The estimate can miss (other sessions use memory too), so pages catch this as well."""
    text = str(problem).splitlines()[0] if str(problem) else ""
    if not isinstance(problem, MemoryError) and not (
            isinstance(problem, RuntimeError) and any(sign in text.lower() for sign in OUT_OF_MEMORY_SIGNS)):
        return None
    return ("out of memory: lower training.batch_size (--batch-size), data.time_steps (--T), model.hidden "
            "(--hidden) or model.channels (--channels), or data.train_samples (--train-samples) "
            f"({type(problem).__name__}: {text or 'no details'}; runs are checked against {BUDGET_ENV})")


# ---- admission control: one budget for every session of a server process together ----------------------------

WAIT_SECONDS = 2.0            # how long a page's reservation waits for others to release before it is refused
POLL_SECONDS = 0.05           # a waiting reservation looks again this often (releases by finalisers are queued)


class AdmissionRefused(ValueError):
    """A reservation the server's shared memory budget cannot take now; the message says what is reserved and what
    to lower."""


@dataclass(eq=False)
class Reservation:
    """``nbytes`` reserved in ``ledger`` for ``what`` (shown to its own session), by ``owner`` (a session's token).
    ``release()`` gives it back (idempotent); ``attach(obj)`` releases it when ``obj`` is garbage-collected."""

    ledger: Ledger
    nbytes: int
    what: str
    kind: str
    owner: Hashable
    ident: int = field(default=0)
    released: bool = False

    def release(self) -> None:
        self.ledger.release(self)

    def attach(self, obj: object) -> Reservation:
        """Release when ``obj`` goes (the finaliser holds this reservation, never ``obj``); returns self. The
        finaliser may run inside any allocation of any thread (the cyclic collector), so it only queues the
        release (``Ledger.release_soon``), which the ledger's next call settles."""
        weakref.finalize(obj, self.ledger.release_soon, self)
        return self

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Ledger:
    """What is reserved of the budget, thread-safe. ``budget`` is bytes or a callable giving them (default: the
    configured ``SNN_MEMORY_BUDGET_MB``, read at each reservation)."""

    def __init__(self, budget: int | Callable[[], int] = budget_bytes):
        self._budget = budget
        self._held: dict[int, Reservation] = {}
        self._ids = itertools.count(1)
        self._changed = threading.Condition(threading.Lock())
        self._pending: collections.deque[Reservation] = collections.deque()     # released by finalisers

    def budget(self) -> int:
        return self._budget() if callable(self._budget) else int(self._budget)

    @property
    def reserved(self) -> int:
        """Bytes reserved now."""
        with self._changed:
            self._settle()
            return sum(r.nbytes for r in self._held.values())

    def held(self) -> list[Reservation]:
        with self._changed:
            self._settle()
            return list(self._held.values())

    def reserve(self, nbytes: int, what: str, *, kind: str = "run", owner: Hashable = None, wait: float = 0.0,
                replaces: Reservation | None = None, lower: str = "") -> Reservation:
        """Reserve ``nbytes`` for ``what`` (``kind``: "run", "recording", ...). ``replaces``: a reservation of the
        same owner that this one takes over: counted as free for the decision but left held, for the caller to
        release once the replacement is in place (a refused or failed replacement keeps the old one). Waits up to
        ``wait`` seconds for room (none when ``nbytes`` alone is over the budget); ``AdmissionRefused`` then, its
        message ending with ``lower`` (what the caller can make smaller). ValueError for a bad
        ``SNN_MEMORY_BUDGET_MB``."""
        nbytes = max(int(nbytes), 0)
        budget = self.budget()
        deadline, collected = time.monotonic() + max(wait, 0.0), False
        with self._changed:
            while True:
                self._settle()
                freed = replaces.nbytes if replaces is not None and not replaces.released else 0
                used = sum(r.nbytes for r in self._held.values()) - freed
                if used + nbytes <= budget:
                    granted = Reservation(self, nbytes, what, kind, owner, next(self._ids))
                    self._held[granted.ident] = granted
                    return granted
                if not collected:             # runs of ended sessions wait for the cyclic collector: run it now
                    collected = True
                    self._changed.release()
                    try:
                        gc.collect()
                    finally:
                        self._changed.acquire()
                    continue
                left = deadline - time.monotonic()
                if left <= 0 or nbytes > budget:
                    raise AdmissionRefused(self._refusal(nbytes, what, owner, budget, replaces, lower))
                self._changed.wait(min(left, POLL_SECONDS))      # a finaliser's release does not notify

    def release(self, reservation: Reservation) -> None:
        with self._changed:
            self._settle()
            self._drop(reservation)

    def release_soon(self, reservation: Reservation) -> None:
        """Queue a release without taking the lock (safe inside a finaliser); settled by the next call."""
        self._pending.append(reservation)

    def _settle(self) -> None:
        while self._pending:
            self._drop(self._pending.popleft())

    def _drop(self, reservation: Reservation) -> None:
        if not reservation.released:
            reservation.released = True
            self._held.pop(reservation.ident, None)
            self._changed.notify_all()

    def _refusal(self, nbytes: int, what: str, owner: Hashable, budget: int, replaces: Reservation | None,
                 lower: str) -> str:
        held = [r for r in self._held.values() if r is not replaces]
        own = [r for r in held if owner is not None and r.owner == owner]
        others = [r for r in held if r not in own]
        parts = [f"{r.what} {r.nbytes / MB:,.0f} MB" for r in own]
        for kind in sorted({r.kind for r in others}):
            same = [r for r in others if r.kind == kind]
            parts.append(f"{len(same)} {kind}{'s' * (len(same) != 1)} of other sessions "
                         f"{sum(r.nbytes for r in same) / MB:,.0f} MB")
        used = sum(r.nbytes for r in held)
        shown = "; ".join(parts) if parts else "nothing"
        way_out = f"lower {lower}, " if lower else "make it smaller, "
        return (f"the server's memory budget is shared by every session, and {what} (about {nbytes / MB:,.0f} MB) "
                f"does not fit now: {used / MB:,.0f} MB of the {budget / MB:,.0f} MB budget ({BUDGET_ENV}) are "
                f"reserved ({shown}), {max(budget - used, 0) / MB:,.0f} MB left; allowed: {way_out}close runs or "
                "files you no longer need (Reset replaces a run), or try again when other sessions finish")


LEDGER = Ledger()                 # the server process's one account


def run_bytes(cfg: RunConfig) -> int:
    """A run's estimated peak memory (``estimate``) in bytes: what it reserves in ``LEDGER``."""
    from ..data import DATASETS

    return estimate(cfg, DATASETS[cfg.data.dataset]).total
