"""Glue between page widgets and the engine: widget specs from the config, training with progress, traces."""
from __future__ import annotations

import uuid
from typing import Any, Callable, Sequence

from snn_core.config import RunConfig, cli_index
from snn_core.model import Trace
from snn_core.trainer import EpochRecord, Trainer

Progress = Callable[[float, str], None]      # (fraction done 0..1, status line)


def field_spec(cli: str) -> dict[str, Any]:
    """A config field's spec by CLI name, with its default: choices, lo, hi, help, default."""
    section, fld = cli_index()[cli]
    default = getattr(getattr(RunConfig(), section), fld.name)
    return {**fld.metadata, "default": default}


def default_text(cli: str) -> str:
    """A tuple field's default as the comma-separated text its widget shows, e.g. ``"16,32"``."""
    return ",".join(str(v) for v in field_spec(cli)["default"])


def config_or_none(values: dict[str, Any]) -> RunConfig | None:
    """The config the widgets describe (values by CLI name), or None when it is invalid."""
    try:
        return RunConfig().with_values(values)
    except ValueError:
        return None


def new_run(values: dict[str, Any], progress: Progress) -> tuple[Trainer, str]:
    """Build and train the run the widgets describe; returns the trainer and a fresh run id.

    Raises ValueError with the engine's message when the settings are invalid.
    """
    trainer = Trainer(RunConfig().with_values(values))
    last_percent = -1
    while not trainer.finished:
        result = trainer.step()
        percent = int(100 * trainer.progress)
        if percent != last_percent or result.epoch_finished is not None:
            last_percent = percent
            progress(trainer.progress, _status(trainer, result.loss))
    return trainer, uuid.uuid4().hex


def _status(trainer: Trainer, loss: float) -> str:
    epochs = trainer.cfg.training.epochs
    text = f"epoch {min(trainer.epoch + 1, epochs)} of {epochs}, batch loss {loss:.3f}"
    if trainer.history:
        text += f", last test accuracy {trainer.history[-1].test_accuracy:.1%}"
    return text


def sample_trace(trainer: Trainer, index: int) -> tuple[Trace, int]:
    """Internals of test sample ``index`` and its predicted class (only that sample is run)."""
    traced = trainer.trace_samples([index])
    return traced.trace, traced.predictions[0]


def describe(cfg: RunConfig) -> str:
    """One line naming the run's main settings, e.g. ``digits · mlp [128] · T=8 · 10 epochs · seed 0``."""
    layers = list(cfg.model.hidden) if cfg.model.arch == "mlp" else [*cfg.model.channels, *cfg.model.hidden]
    return (f"{cfg.data.dataset} · {cfg.model.arch} {layers} · T={cfg.data.time_steps} · "
            f"{cfg.training.epochs} epoch{'s' * (cfg.training.epochs != 1)} · seed {cfg.training.seed}")


def accuracy_change(history: Sequence[EpochRecord]) -> str | None:
    """The last epoch's change in test accuracy, e.g. ``"+1.2% vs epoch 3"``; None after one epoch."""
    if len(history) < 2:
        return None
    return f"{history[-1].test_accuracy - history[-2].test_accuracy:+.1%} vs epoch {history[-2].epoch}"


def changed_options(trained: RunConfig, values: dict[str, Any]) -> list[str] | None:
    """CLI names of the widget values that differ from the trained run; None when the widgets are invalid."""
    wanted = config_or_none(values)
    if wanted is None:
        return None
    return [cli for cli, (section, fld) in cli_index().items()
            if getattr(getattr(trained, section), fld.name) != getattr(getattr(wanted, section), fld.name)]
