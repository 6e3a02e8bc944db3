"""What a config builds: its network (``build_model``, through ``engines.ENGINES``) and its methods'
training hooks (``HOOKS``). ``build_model`` asks ``config.check`` first, so no engine judges a config."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config.check import frame_rules, one_line, require_valid
from .engines import ENGINES
from .hooks import MethodHook
from .trt import TrtHook, reversal_scores
from .ttfs.regulariser import FirstSpikeRegulariser
from .ttfs.weight_bump import WeightBump

if TYPE_CHECKING:
    from ..config.run_config import RunConfig
    from ..data import Dataset
    from ..network.protocol import Network

HookFactory = Callable[["RunConfig", "Network", "Dataset"], "MethodHook | None"]
# The time-reversal measure every run reports, TRT or not (reversal agreement and KL at TRT's cut), so
# that both arms of a comparison pair on it; ``training.evaluate.generalisation`` is handed it from here.
REVERSAL_SCORES = reversal_scores


def build_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> Network:
    """The network a config describes (``model.engine``), for inputs of ``frame_shape`` per time step;
    ValueError listing every problem ``config.check`` finds in ``cfg``."""
    require_valid(cfg)
    problems = frame_rules(cfg, tuple(frame_shape))       # the frames' real shape: an event folder's is known now
    if problems:
        raise ValueError(one_line(problems))
    return ENGINES[cfg.model.engine](cfg, frame_shape, n_classes)


def trt_hook(cfg: RunConfig, model: Network, data: Dataset) -> MethodHook | None:
    """TRT's two-branch loss and star head, for ``methods.trt = on``."""
    if cfg.methods.trt == "off":
        return None
    return TrtHook(model, data.n_classes, cfg.methods, data.has_time_axis, cfg.training.seed)


def first_spike_regulariser_hook(cfg: RunConfig, model: Network, data: Dataset) -> MethodHook | None:
    """Fast & Deep's regulariser, for ``model.first_spike_reg > 0``."""
    if cfg.model.first_spike_reg <= 0:
        return None
    return FirstSpikeRegulariser(cfg.model.tau_loss, cfg.neuron.tau_syn, cfg.model.first_spike_reg)


def weight_bump_hook(cfg: RunConfig, model: Network, data: Dataset) -> MethodHook | None:
    """Fast & Deep's weight bumping, for the exact engine with ``training.weight_bump > 0``."""
    if cfg.model.engine != "exact" or cfg.training.weight_bump <= 0:
        return None
    return WeightBump(cfg.training.weight_bump, len(model.layers))


# in this order the hooks add their loss terms and act after the step
HOOKS: dict[str, HookFactory] = {"trt": trt_hook, "first-spike-regulariser": first_spike_regulariser_hook,
                                 "weight-bump": weight_bump_hook}


def build_hooks(cfg: RunConfig, model: Network, data: Dataset) -> list[MethodHook]:
    """The hooks ``cfg`` switches on for ``model`` trained on ``data``, in ``HOOKS`` order. A hook with parameters
    draws them from its own generator seeded from the run seed (TRT's star head), never from the global RNG."""
    return [hook for factory in HOOKS.values() if (hook := factory(cfg, model, data)) is not None]
