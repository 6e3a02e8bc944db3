"""The one list of methods, ``METHODS``: the config, its check, the budget, the model builder, NIR export and the
app's menus loop over it and name no method. Adding a method is its folder (``method.Method``) and one entry here;
the order is the sidebar's, the config's field order and the order hooks act in.
"""
from __future__ import annotations

from . import asa, plif, trt, ttfs
from .method import Method
from .trt.branches import reversal_scores

METHODS: tuple[Method, ...] = (asa.METHOD, trt.METHOD, ttfs.METHOD, plif.METHOD)
BY_NAME: dict[str, Method] = {method.name: method for method in METHODS}

# The time-reversal measure every run reports, TRT or not (reversal agreement and KL at TRT's cut), so that both
# arms of a comparison pair on it; ``training.evaluate.generalisation`` is handed it through ``methods.registry``.
REVERSAL_SCORES = reversal_scores
