"""Each method's paper neuron, as flat CLI-name values for ``RunConfig().with_values``.

The reproductions train with the neuron the paper used (unless a section says otherwise) and state it:

* ``asa`` — the official ASA-SNN code's LIF (``models/module/LIF.py``, ``config.py``; shared/papers/asa.md
  §2.2, §3): H = α·[S·V_reset + (1 − S)·U] with α = 0.3, V_th = 0.3, hard reset to 0, and the rectangular
  surrogate ∂S/∂U = 1/(2a)·𝟙(|U − V_th| < a) with a = 0.25, i.e. width 0.5 and height 2 (our
  ``rectangular`` surrogate of width w has height 1/w, unit area).
* ``trt`` — the TRT group's neuron (shared/papers/trt.md, group defaults, not confirmed for TRT itself): LIF with
  τ = 2 (leak 1 − 1/τ = 0.5 in SpikingJelly's form), V_th = 1, soft reset (V → V − V_th) and the rectangular
  surrogate with a = 1 (width 1).
"""
from __future__ import annotations

PAPER_NEURONS: dict[str, dict[str, object]] = {
    "asa": {"neuron": "lif", "decay": 0.3, "threshold": 0.3, "reset": "hard", "v-reset": 0.0,
            "surrogate": "rectangular", "surrogate-width": 0.5},
    "trt": {"neuron": "lif", "decay": 0.5, "threshold": 1.0, "reset": "soft", "surrogate": "rectangular",
            "surrogate-width": 1.0},
}


def describe_neuron(method: str) -> str:
    """One line naming a method's paper neuron, for the report sections that train with it."""
    values = PAPER_NEURONS[method]
    return "paper neuron preset: " + ", ".join(f"{name} {value}" for name, value in values.items())
