"""What a config builds: its network (``build_model``, through ``engines.ENGINES``) and its methods'
training hooks (``build_hooks``, from each method's record in ``catalogue.METHODS``). ``build_model`` asks
``config.check`` first, so no engine judges a config."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..config.check import frame_rules, one_line, require_valid
from .catalogue import METHODS, REVERSAL_SCORES
from .engines import ENGINES
from .hooks import MethodHook

if TYPE_CHECKING:
    from ..config.run_config import RunConfig
    from ..data import Dataset
    from ..network.protocol import Network

__all__ = ["REVERSAL_SCORES", "build_hooks", "build_model"]


def build_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> Network:
    """The network a config describes (``model.engine``), for inputs of ``frame_shape`` per time step;
    ValueError listing every problem ``config.check`` finds in ``cfg``."""
    require_valid(cfg)
    problems = frame_rules(cfg, tuple(frame_shape))       # the frames' real shape: an event folder's is known now
    if problems:
        raise ValueError(one_line(problems))
    return ENGINES[cfg.model.engine](cfg, frame_shape, n_classes)


def build_hooks(cfg: RunConfig, model: Network, data: Dataset) -> list[MethodHook]:
    """The hooks ``cfg`` switches on for ``model`` trained on ``data``, in the methods' order (each method's in its
    record's order): the order they add loss terms and act after the step. A hook with parameters draws them from
    its own generator seeded from the run seed (TRT's star head), never from the global RNG."""
    return [hook for method in METHODS for factory in method.hooks if (hook := factory(cfg, model, data)) is not None]
