"""The TRT factorial study (what the size of its effect depends on): its cells and compute-matched off arms, the pairs
over seeds and data seeds, hand-checked statistics with Holm's correction."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments import trt_sign
from snn_core.experiments.trt_sign import FACTORS, Factor
from snn_core.experiments.trt_table import COMPUTE_FACTOR, TERMS
from snn_core.results import PairedStat, RunResult

SMALL = (Factor("network", {"a": {"hidden": "8"}, "b": {"hidden": "16"}}),
         Factor("loss terms", {"all": TERMS["all"], "KL only": TERMS["KL only"]}))
# TRT's Δ per cell of SMALL in the fabricated results below (accuracy fractions)
DELTAS = {("a", "all"): 0.02, ("a", "KL only"): 0.04, ("b", "all"): -0.02, ("b", "KL only"): 0.0}
STORED = RunResult.from_json(json.loads(
    (Path(__file__).parents[1] / "results" / "current" / "train_digits.json").read_text()))


def test_the_study_crosses_every_level_and_shares_the_compute_matched_off_arm_between_trt_settings():
    study = trt_sign.cells()
    assert len(study) == 2 ** len(FACTORS) == 8
    assert len({cell.levels for cell in study}) == 8
    assert len({cell.off for cell in study}) == 4                      # network x epochs: TRT's settings share it
    for cell in study:
        levels = dict(zip([f.name for f in FACTORS], cell.levels))
        assert cell.off.methods.trt == "off" and cell.on.methods.trt == "on"
        assert cell.off.training.epochs == COMPUTE_FACTOR * cell.on.training.epochs     # TRT's two branches
        assert cell.on.with_values({"trt": "off", "trt-bn-stats": "both", "epochs": cell.off.training.epochs}) \
            == cell.off                         # the arms differ in TRT's settings and the matched epochs only
        assert cell.on.methods.trt_bn_stats == ("clean" if levels["BN running stats"] == "clean only" else "both")
        assert cell.on.training.epochs == int(levels["epochs"])
        assert cell.on.model.arch == ("conv" if levels["network"].startswith("conv") else "mlp")
        assert (cell.on.neuron.reset, cell.on.neuron.surrogate) == ("soft", "rectangular")
        assert (cell.on.data.dataset, cell.on.data.time_steps) == ("events-shape", 4)


def test_study_configs_list_each_distinct_run_once_over_seeds_and_data_seeds():
    study = trt_sign.cells()
    configs = trt_sign.study_configs(study, [0, 1], [5, 6, 7])
    assert len(configs) == len(set(configs)) == (4 + 8) * 2 * 3
    assert {(c.training.seed, c.data.data_seed) for c in configs} == {(s, d) for s in (0, 1) for d in (5, 6, 7)}
    with pytest.raises(ValueError, match="allowed: 1 or more distinct integers"):
        trt_sign.study_configs(study, [0, 0], [1])
    broken = trt_sign.cells(trt_sign.BASE, (Factor("engine", {"exact": {"engine": "exact"}}),))
    with pytest.raises(ValueError, match=r"cell exact, TRT (off|on): .*engine"):
        trt_sign.study_configs(broken, [0], [0])


def fabricated(study, configs, missing=()):
    """A finished slot per config: off accuracy 0.5 + 0.01 seed + 0.001 data seed; on = off + the cell's Δ + 0.01
    data seed (so Δ varies with the data seed only); configs in ``missing`` have not run."""
    deltas = {cell.on: DELTAS[cell.levels] for cell in study}
    slots = []
    for cfg in configs:
        if cfg in missing:
            slots.append(None)
            continue
        plain = cfg.with_values({"seed": 0, "data-seed": 0})
        accuracy = 0.5 + 0.01 * cfg.training.seed + 0.001 * cfg.data.data_seed
        if cfg.methods.trt == "on":
            accuracy += deltas[plain] + 0.01 * cfg.data.data_seed
        slots.append(replace(STORED, config=cfg, metrics=replace(STORED.metrics, test_accuracy=accuracy), cached=False))
    return slots


def test_cells_and_factor_effects_match_hand_computed_values():
    base = RunConfig().with_values({"dataset": "events-shape", "T": 2})
    study = trt_sign.cells(base, SMALL)
    configs = trt_sign.study_configs(study, [0, 1], [0, 2])
    result = trt_sign.study_result(study, [0, 1], [0, 2], configs, fabricated(study, configs), SMALL)
    assert result.factors == {"network": ("a", "b"), "loss terms": ("all", "KL only")}
    assert result.failed_runs == result.unfinished_runs == 0
    for cell in result.cells:
        delta = DELTAS[tuple(cell.levels.values())]
        # per data seed d: Δ + 0.01 d; over the 4 pairs (d = 0, 0, 2, 2) the mean is Δ + 0.01
        assert cell.delta_per_data_seed == pytest.approx({0: delta, 2: delta + 0.02})
        assert cell.delta.mean == pytest.approx(delta + 0.01) and cell.delta.n == 4
        assert cell.delta.wins == sum(d > 0 for d in (delta, delta, delta + 0.02, delta + 0.02))
        assert cell.on.mean - cell.off.mean == pytest.approx(delta + 0.01)
    # network b - a: mean(-0.02, 0) - mean(0.02, 0.04) = -0.04 in every pair; loss KL - all: +0.02
    network, loss = result.effects["network"], result.effects["loss terms"]
    assert network.contrast.mean == pytest.approx(-0.04) and network.contrast.n == 4
    assert network.contrast.ci_low == pytest.approx(-0.04) and network.levels == ("a", "b")
    assert loss.contrast.mean == pytest.approx(0.02)
    # Δ per pair is Δ or Δ + 0.02 (sd 0.0115, n 4): t(3) = (Δ + 0.01) / 0.00577 = 5.20, 8.66, -1.73, 1.73
    p_values = [cell.delta.p_value for cell in result.cells]
    assert p_values == pytest.approx([0.01385, 0.00324, 0.1817, 0.1817], abs=1e-4)
    adjusted = trt_sign.holm_adjusted(result)          # Holm: 4 x 0.00324, 3 x 0.01385, 2 x 0.1817 for both last
    assert adjusted == pytest.approx([0.04154, 0.01296, 0.3634, 0.3634], abs=1e-4)
    assert [trt_sign.reading(cell.delta, p) for cell, p in zip(result.cells, adjusted)] == \
        ["TRT ahead", "TRT ahead", "no evidence", "no evidence"]


def test_unfinished_runs_leave_their_pairs_out():
    base = RunConfig().with_values({"dataset": "events-shape", "T": 2})
    study = trt_sign.cells(base, SMALL)
    configs = trt_sign.study_configs(study, [0, 1], [0])
    gone = study[0].on.with_values({"seed": 1, "data-seed": 0})
    result = trt_sign.study_result(study, [0, 1], [0], configs, fabricated(study, configs, {gone}), SMALL)
    assert result.unfinished_runs == 1
    assert [cell.delta.n for cell in result.cells] == [1, 2, 2, 2]
    assert result.effects["network"].contrast.n == 1                   # only pairs where every cell finished
    with pytest.raises(ValueError, match="3 slots for"):
        trt_sign.study_result(study, [0, 1], [0], configs, [None] * 3, SMALL)


def test_a_cell_points_one_way_only_below_the_holm_adjusted_threshold():
    def stats(mean):
        return PairedStat(mean, None, None, None, 2, None, 0, 0, 0)
    assert trt_sign.reading(stats(0.1), 0.01) == "TRT ahead"
    assert trt_sign.reading(stats(-0.1), 0.049) == "TRT behind"
    assert trt_sign.reading(stats(0.1), 0.05) == "no evidence"
    assert trt_sign.reading(stats(0.1), None) == "no evidence"


def test_a_tiny_study_trains_both_arms_on_every_pair(tiny):
    small = (Factor("BN running stats", {"both branches": {"trt-bn-stats": "both"},
                                         "clean only": {"trt-bn-stats": "clean"}}),)
    base = tiny({"dataset": "events-shape", "T": 2, "hidden": "8", "batch-size": 32, "robustness": "false"})
    result = trt_sign.run_study([0], [0, 1], base, small)
    assert result.failed_runs == result.unfinished_runs == 0
    assert [cell.delta.n for cell in result.cells] == [2, 2]
    offs = [cell.off.mean for cell in result.cells]
    assert offs[0] == offs[1]                                           # one shared off arm per pair
    assert set(result.cells[0].delta_per_data_seed) == {0, 1}
