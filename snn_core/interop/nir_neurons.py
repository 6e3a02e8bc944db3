"""Our neurons as NIR neuron nodes and back, with the parameter maps that make NIR's ODE, integrated by forward
Euler with step ``dt``, reproduce the discrete updates of ``snn_core.neurons.lif`` and ``.cuba`` exactly.

LIF. NIR: ``tau dv/dt = (v_leak - v) + r I``. Forward Euler over one step, the input ``I[t]`` held over it::

    v[t] = (1 - dt/tau) v[t-1] + (dt/tau) v_leak + (dt r / tau) I[t]
    ours: v_pre[t] = beta v[t-1] + I[t]
    =>    tau = dt / (1 - beta),  v_leak = 0,  and an input gain dt r / tau = 1 between them

The export writes ``r = 1`` (the convention of Norse, which ignores ``r``, and of SpikingJelly's default
``LIFNode``; snnTorch folds any ``r`` into its threshold) and folds the rest of the gain into the synapse before
the neuron: ``I = s W x + s b`` with the scale ``s = tau / dt = 1 / (1 - beta)`` (``input_scale``), so
``(dt r / tau) I = W x + b``, our input. ``beta = 1`` (no leak) has no finite tau: it is ``nir.IF``
(``dv/dt = r I``) with ``r = 1 / dt`` and ``s = 1`` (the form SpikingJelly requires; Norse runs ``v += I``).
NIR fires when ``v > v_threshold`` and sets ``v`` to ``v_reset``: ``v_threshold = V_th``, ``v_reset = V_reset``.
Two differences are recorded, not hidden: ours fires at ``v >= V_th`` (the two differ only when ``v`` lands exactly
on the threshold), and NIR has no reset by subtraction, so a soft-reset neuron carries ``{"reset": "subtract"}``
in its node's metadata: ``from_node`` honours it, other readers reset to ``v_reset`` (0) instead. A node whose
metadata says nothing (every other exporter's: snnTorch's default ``Leaky`` subtracts, yet writes no marker) is
read with the reset the caller assumes (``from_node``'s ``assume``), never guessed.

Read back, any ``r`` is exact: the Euler step above adds ``(dt r / tau) I[t]``, and the input gain
``g = dt r / tau`` (``dt r`` for an IF) is folded into the synapse before the neuron, ``W' = g W``,
``b' = g b``, so ``v[t] = beta v[t-1] + (W' x[t] + b')`` is the same step: ``g = 1 - beta`` undoes our own
export's ``s`` (the export writes its scaled weights in float64, so ``g s W`` rounds back to the float32 ``W``).

CUBA. NIR: ``tau_syn dI/dt = -I + w_in S``, ``tau_mem dv/dt = (v_leak - v) + r I``; Euler with the current
updated first within the step (the order of snnTorch's ``Synaptic``, Norse's ``CubaLIF`` and SpikingJelly's
``CUBALIFNode``)::

    I[t] = (1 - dt/tau_syn) I[t-1] + (dt w_in / tau_syn) S[t]
    v[t] = (1 - dt/tau_mem) v[t-1] + (dt r / tau_mem) I[t]
    ours: I[t] = alpha I[t-1] + x[t],   v_pre[t] = beta v[t-1] + (1 - beta) I[t]

The export writes ``tau_syn = dt / (1 - alpha)``, ``tau_mem = dt / (1 - beta)``, ``w_in = tau_syn / dt`` and
``r = tau_mem / dt`` (both stages' gains 1: the form snnTorch's and SpikingJelly's importers require and
snnTorch's exporter writes), and folds ``s = 1 - beta`` into the synapse: NIR's current is ours times
``(1 - beta)``. Read back, ``g = dt w_in r / tau_syn`` (``1 / (1 - beta)`` for our export, ``tau_mem / dt`` for
snnTorch's ``Synaptic``) is folded into the synapse as for the LIF. Our CUBA neuron always resets by subtraction
(metadata ``{"reset": "subtract"}``) and ties ``beta^2 = alpha`` (tau_m = 2 tau_s); a CubaLIF node with another
ratio, a ``v_leak`` or a reset to ``v_reset`` is refused.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import nir
import numpy as np

SUBTRACT = {"reset": "subtract"}
RESETS = ("hard", "subtract")   # a node's reset: to v_reset (NIR's), or v - v_threshold (metadata reset=subtract)
RELATIVE_TOLERANCE = 1e-6       # float32 files: parameters that agree to this are one value


def input_scale(model: str, params) -> float:
    """The scale ``s`` the synapse before a neuron of ``model`` ("lif" or "cuba") with ``params`` takes in the
    export (weight and bias times ``s``), so that the input gain of its node (``to_node``) times ``s`` is 1:
    ``1 / (1 - beta)`` for a LIF, 1 for an IF, ``1 - beta`` for a CubaLIF. The inverse of ``Imported.gain``."""
    if model == "cuba":
        return 1 - params.beta
    return 1.0 if params.decay == 1.0 else 1 / (1 - params.decay)


def to_node(model: str, params, shape: tuple[int, ...], dt: float) -> nir.NIRNode:
    """The NIR node of one population of ``shape`` neurons of ``model`` ("lif" or "cuba") with ``params`` (the
    module docstring's maps; its synapse takes ``input_scale``)."""
    def full(value: float) -> np.ndarray:
        return np.full(shape, value, dtype=np.float64)

    if model == "cuba":
        tau_syn, tau_mem = dt / (1 - params.alpha), dt / (1 - params.beta)
        return nir.CubaLIF(tau_syn=full(tau_syn), tau_mem=full(tau_mem), r=full(tau_mem / dt), v_leak=full(0.0),
                           v_threshold=full(params.threshold), v_reset=full(0.0), w_in=full(tau_syn / dt),
                           metadata=dict(SUBTRACT))
    metadata = dict(SUBTRACT) if params.reset == "soft" else {}
    v_reset = full(0.0 if params.reset == "soft" else params.v_reset)
    if params.decay == 1.0:
        return nir.IF(r=full(1 / dt), v_threshold=full(params.threshold), v_reset=v_reset, metadata=metadata)
    return nir.LIF(tau=full(dt / (1 - params.decay)), r=full(1.0), v_leak=full(0.0),
                   v_threshold=full(params.threshold), v_reset=v_reset, metadata=metadata)


def _one(values, name: str, where: str) -> float:
    """The single value every neuron of a node shares; ValueError when they differ (our config has one)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{where}: {name} is empty or not finite; allowed: finite numbers")
    if not np.allclose(array, array[0], rtol=RELATIVE_TOLERANCE, atol=0.0):
        raise ValueError(f"{where}: {name} differs between neurons ({array.min():g} to {array.max():g}); allowed: "
                         "one value per layer, as this engine's neurons share their parameters")
    return float(array[0])


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)



def stated_reset(node: nir.NIRNode, where: str) -> str | None:
    """The reset a node's metadata states ("hard" or "subtract"), None where it states none (NIR has no field)."""
    stated = (node.metadata or {}).get("reset")
    if stated is None:
        return None
    if stated not in RESETS:
        raise ValueError(f"{where}: metadata reset={str(stated)[:40]!r} is not known; allowed: {', '.join(RESETS)}")
    return str(stated)


class Imported(NamedTuple):
    """A neuron node read back: this engine's settings (``neuron`` config fields by CLI name) and the input gain
    the synapse before it takes (weight and bias times ``gain``; 1 for a graph in this engine's convention)."""

    settings: dict[str, object]
    gain: float


def from_node(node: nir.NIRNode, dt: float, where: str, assume: str = "hard") -> Imported:
    """The settings and input gain of a LIF, IF or CubaLIF node; ``assume`` is the reset ("hard" or "subtract") of
    a node whose metadata states none. ValueError naming ``where`` and the parameter this engine cannot take."""
    threshold = _one(node.v_threshold, "v_threshold", where)
    reset = stated_reset(node, where) or assume
    v_reset = _one(node.v_reset, "v_reset", where) if getattr(node, "v_reset", None) is not None else 0.0
    if reset == "subtract" and v_reset != 0.0:
        raise ValueError(f"{where}: v_reset={v_reset:g} with reset by subtraction (v - v_threshold), which has no "
                         "v_reset; allowed: v_reset = 0, or reset='hard' (reset to v_reset)")
    if isinstance(node, nir.CubaLIF):
        return _cuba(node, dt, threshold, reset, where)
    if not isinstance(node, (nir.LIF, nir.IF)):
        raise ValueError(f"{where}: {type(node).__name__} is not a neuron this engine runs; allowed: LIF, IF, "
                         "CubaLIF")
    r = _one(node.r, "r", where)
    if isinstance(node, nir.IF):
        decay, gain = 1.0, r * dt
    else:
        tau = _one(node.tau, "tau", where)
        if not tau >= dt:
            raise ValueError(f"{where}: tau={tau:g} at dt={dt:g} gives the decay 1 - dt/tau outside [0, 1]; allowed: "
                             f"tau >= dt (a LIF without leak is an IF node){DT_HINT}")
        _no_leak(node, where)
        decay, gain = 1 - dt / tau, dt * r / tau
    settings = {"neuron": "lif", "decay": decay, "threshold": threshold,
                "reset": "soft" if reset == "subtract" else "hard", "v-reset": v_reset}
    return Imported(settings, _gain(gain, "dt*r" if isinstance(node, nir.IF) else "dt*r/tau", where))


DT_HINT = ". snnTorch and SpikingJelly write their graphs at dt = 1e-4: import those with dt=1e-4 (--dt 1e-4)"


def _no_leak(node: nir.NIRNode, where: str) -> None:
    """This engine's membrane rests at 0 and starts there, so NIR's ``v_leak`` must be 0."""
    if _one(node.v_leak, "v_leak", where) != 0.0:
        raise ValueError(f"{where}: v_leak is not 0; allowed: 0 (this engine's membrane rests at 0)")


def _gain(gain: float, formula: str, where: str) -> float:
    """``gain`` where it is a positive, finite number (any such gain folds exactly into the synapse before)."""
    if not (math.isfinite(gain) and gain > 0):
        raise ValueError(f"{where}: the input gain {formula} is {gain:g}; allowed: a positive, finite number")
    return 1.0 if _close(gain, 1.0) else gain


def _cuba(node: nir.CubaLIF, dt: float, threshold: float, reset: str, where: str) -> Imported:
    """The CUBA settings and input gain of a CubaLIF node (the maps of the module docstring, checked)."""
    tau_syn, tau_mem = _one(node.tau_syn, "tau_syn", where), _one(node.tau_mem, "tau_mem", where)
    alpha, beta = (1 - dt / tau_syn, 1 - dt / tau_mem) if tau_syn > dt and tau_mem > dt else (0.0, 0.0)
    if not (0 < alpha < 1 and 0 < beta < 1):
        raise ValueError(f"{where}: tau_syn={tau_syn:g}, tau_mem={tau_mem:g} are not valid at dt={dt:g}; allowed: "
                         f"both above dt{DT_HINT}")
    if not _close(beta * beta, alpha):
        raise ValueError(f"{where}: tau_mem={tau_mem:g} and tau_syn={tau_syn:g} give beta^2 = {beta * beta:g} and "
                         f"alpha = {alpha:g}; allowed: beta^2 = alpha (1 - dt/tau_mem)^2 = 1 - dt/tau_syn, the ratio "
                         "of this engine's CUBA neuron (tau_m = 2 tau_s)")
    _no_leak(node, where)
    if reset != "subtract":
        raise ValueError(f"{where}: a CubaLIF that resets to v_reset (NIR's only reset; the graph does not say "
                         "it subtracts); allowed: reset by subtraction, the only reset of this engine's CUBA neuron: "
                         "import with reset='subtract' if the graph's library subtracts (snnTorch's Synaptic by "
                         "default, Norse's CubaLIF with reset_subtract)")
    gain = dt * _one(node.w_in, "w_in", where) * _one(node.r, "r", where) / tau_syn
    settings = {"neuron": "cuba", "tau-syn": -1.0 / math.log(alpha), "threshold": threshold}
    return Imported(settings, _gain(gain, "dt*w_in*r/tau_syn", where))
