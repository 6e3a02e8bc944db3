"""Our neurons as NIR neuron nodes and back, with the parameter maps that make NIR's ODE, integrated by forward
Euler with step ``dt``, reproduce the discrete updates of ``snn_core.neurons.lif`` and ``.cuba`` exactly.

LIF. NIR: ``tau dv/dt = (v_leak - v) + r I``. Forward Euler over one step, the input ``I[t]`` held over it::

    v[t] = (1 - dt/tau) v[t-1] + (dt/tau) v_leak + (dt r / tau) I[t]
    ours: v_pre[t] = beta v[t-1] + I[t]
    =>    tau = dt / (1 - beta),  r = tau / dt = 1 / (1 - beta),  v_leak = 0

``beta = 1`` (no leak) has no finite tau: it is ``nir.IF`` (``dv/dt = r I``) with ``r = 1 / dt``.
NIR fires when ``v > v_threshold`` and sets ``v`` to ``v_reset``: ``v_threshold = V_th``, ``v_reset = V_reset``.
Two differences are recorded, not hidden: ours fires at ``v >= V_th`` (the two differ only when ``v`` lands exactly
on the threshold), and NIR has no reset by subtraction, so a soft-reset neuron carries ``{"reset": "subtract"}``
in its node's metadata: ``from_node`` honours it, other readers reset to ``v_reset`` (0) instead.

CUBA. NIR: ``tau_syn dI/dt = -I + w_in S``, ``tau_mem dv/dt = (v_leak - v) + r I``; Euler with the current
updated first within the step (the order of snnTorch's ``Synaptic`` and Norse's ``CubaLIF``)::

    I[t] = (1 - dt/tau_syn) I[t-1] + (dt w_in / tau_syn) S[t]
    v[t] = (1 - dt/tau_mem) v[t-1] + (dt r / tau_mem) I[t]
    ours: I[t] = alpha I[t-1] + x[t],   v_pre[t] = beta v[t-1] + (1 - beta) I[t]

NIR's current is ours times ``(1 - beta)``: ``tau_syn = dt / (1 - alpha)``, ``tau_mem = dt / (1 - beta)``,
``w_in = (1 - beta) / (1 - alpha)``, ``r = tau_mem / dt`` (a membrane gain of 1, the form snnTorch's importer
requires). Our CUBA neuron always resets by subtraction (metadata ``{"reset": "subtract"}``) and ties
``beta^2 = alpha`` (tau_m = 2 tau_s); a CubaLIF node with another ratio is refused.
"""
from __future__ import annotations

import math

import nir
import numpy as np

SUBTRACT = {"reset": "subtract"}
RELATIVE_TOLERANCE = 1e-6       # float32 files: parameters that agree to this are one value


def to_node(model: str, params, shape: tuple[int, ...], dt: float) -> nir.NIRNode:
    """The NIR node of one population of ``shape`` neurons of ``model`` ("lif" or "cuba") with ``params``."""
    def full(value: float) -> np.ndarray:
        return np.full(shape, value, dtype=np.float64)

    if model == "cuba":
        alpha, beta = params.alpha, params.beta
        return nir.CubaLIF(tau_syn=full(dt / (1 - alpha)), tau_mem=full(dt / (1 - beta)), r=full(1 / (1 - beta)),
                           v_leak=full(0.0), v_threshold=full(params.threshold), v_reset=full(0.0),
                           w_in=full((1 - beta) / (1 - alpha)), metadata=dict(SUBTRACT))
    metadata = dict(SUBTRACT) if params.reset == "soft" else {}
    v_reset = full(0.0 if params.reset == "soft" else params.v_reset)
    if params.decay == 1.0:
        return nir.IF(r=full(1 / dt), v_threshold=full(params.threshold), v_reset=v_reset, metadata=metadata)
    tau = dt / (1 - params.decay)
    return nir.LIF(tau=full(tau), r=full(tau / dt), v_leak=full(0.0), v_threshold=full(params.threshold),
                   v_reset=v_reset, metadata=metadata)


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


def _reset(node: nir.NIRNode) -> str:
    return "soft" if (node.metadata or {}).get("reset") == "subtract" else "hard"


def from_node(node: nir.NIRNode, dt: float, where: str) -> dict[str, object]:
    """The neuron settings (``neuron`` config fields by CLI name) of a LIF, IF or CubaLIF node; ValueError naming
    ``where`` and the parameter that this engine's neurons cannot take."""
    threshold = _one(node.v_threshold, "v_threshold", where)
    if isinstance(node, nir.CubaLIF):
        return _cuba_settings(node, dt, threshold, where)
    if not isinstance(node, (nir.LIF, nir.IF)):
        raise ValueError(f"{where}: {type(node).__name__} is not a neuron this engine runs; allowed: LIF, IF, "
                         "CubaLIF")
    v_reset, reset = _one(node.v_reset, "v_reset", where), _reset(node)
    r = _one(node.r, "r", where)
    if isinstance(node, nir.IF):
        decay, gain = 1.0, r * dt
    else:
        tau = _one(node.tau, "tau", where)
        if not tau >= dt:
            raise ValueError(f"{where}: tau={tau:g} at dt={dt:g} gives the decay 1 - dt/tau outside [0, 1]; allowed: "
                             "tau >= dt (a LIF without leak is an IF node)")
        if _one(node.v_leak, "v_leak", where) != 0.0:
            raise ValueError(f"{where}: v_leak is not 0; allowed: 0 (this engine's membrane rests at 0)")
        decay, gain = 1 - dt / tau, dt * r / tau
    if not _close(gain, 1.0):
        raise ValueError(f"{where}: the input gain dt*r/tau is {gain:g}; allowed: 1 (r = tau/dt), as "
                         "v[t] = beta v[t-1] + I[t] here")
    return {"neuron": "lif", "decay": decay, "threshold": threshold, "reset": reset,
            "v-reset": v_reset if reset == "hard" else 0.0}


def _cuba_settings(node: nir.CubaLIF, dt: float, threshold: float, where: str) -> dict[str, object]:
    """The CUBA settings of a CubaLIF node whose maps are those of the module docstring (checked)."""
    tau_syn, tau_mem = _one(node.tau_syn, "tau_syn", where), _one(node.tau_mem, "tau_mem", where)
    alpha, beta = (1 - dt / tau_syn, 1 - dt / tau_mem) if tau_syn > dt and tau_mem > dt else (0.0, 0.0)
    if not (0 < alpha < 1 and 0 < beta < 1):
        raise ValueError(f"{where}: tau_syn={tau_syn:g}, tau_mem={tau_mem:g} are not valid at dt={dt:g}; allowed: "
                         "both above dt")
    if not _close(beta * beta, alpha):
        raise ValueError(f"{where}: tau_mem is not twice tau_syn (beta^2 = {beta * beta:g}, alpha = {alpha:g}); "
                         "allowed: the ratio of this engine's CUBA neuron, tau_m = 2 tau_s")
    w_in, r = _one(node.w_in, "w_in", where), _one(node.r, "r", where)
    if _one(node.v_leak, "v_leak", where) != 0.0 or not _close(w_in * r * (1 - alpha), 1.0):
        raise ValueError(f"{where}: v_leak={float(node.v_leak.ravel()[0]):g}, w_in={w_in:g}, r={r:g} do not give "
                         "v[t] = beta v[t-1] + (1 - beta) I[t]; allowed: v_leak = 0, w_in * r = 1 / (1 - alpha)")
    if _reset(node) != "soft":
        raise ValueError(f"{where}: a CubaLIF that resets to v_reset; allowed: reset by subtraction (metadata "
                         "reset=subtract), the only reset of this engine's CUBA neuron")
    return {"neuron": "cuba", "tau-syn": -1.0 / math.log(alpha), "threshold": threshold}

