"""Two fixed runs give the same JSON, number for number, as the stored results made before the method records
and typed results redesign (issue 25): a refactor that changes what a run computes fails here.

The stored files were written by ``python -m snn_core train --threads 1`` at commit db432c9 (wall-clock times
removed); a setting added since (a new method's) takes its default when the stored config is read. One intra-op
thread, because a different thread count changes float summation order."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from snn_core import RunConfig
from snn_core.experiments.run import train_run
from snn_core.runtime import configure_threads

GOLDEN = Path(__file__).parent / "golden"
LAST = {"select-epoch": "last"}         # the stored runs report their last epoch (best-validation came after them)
RUNS = {
    "digits_default": LAST,
    "events_conv": {**LAST, "dataset": "events-shape", "arch": "conv", "hidden": "", "T": 4, "epochs": 2,
                    "train-samples": 200, "test-samples": 100, "asa": "clean", "trt": "on"},
}


def without_clock(result: dict) -> dict:
    """The run's JSON without what the clock decides: timing, wall_seconds, each epoch's train_seconds."""
    result = json.loads(json.dumps(result))
    result.pop("timing", None)
    result["metrics"].pop("wall_seconds")
    for record in result["history"]:
        record.pop("train_seconds")
    return result


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_fixed_run_reproduces_its_stored_result_exactly(name):
    before = torch.get_num_threads()
    configure_threads(1)
    try:
        result = train_run(RunConfig().with_values(RUNS[name]), device="cpu").to_json()
    finally:
        torch.set_num_threads(before)
    stored, now = json.loads((GOLDEN / f"{name}.json").read_text()), without_clock(result)
    # the stored config read today (settings added since take their defaults) is the config that ran
    assert RunConfig.from_dict(stored.pop("config")).with_values(LAST) == RunConfig.from_dict(now.pop("config"))
    assert now["metrics"].pop("selected_epoch") == len(now["history"])            # a key added since: the last epoch
    assert now["metrics"].pop("cost")["synaptic_ops"] >= 0                         # added since (issue 29)
    assert now == stored
