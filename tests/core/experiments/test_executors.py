"""Executors: the local pool and Ray run the same config -> result contract; ``--executor ray`` without Ray is a
one-line usage error saying how to install it."""
import sys

import pytest

from snn_core import cli
from snn_core.experiments.batch import RunCache
from snn_core.experiments.compare import compare
from snn_core.experiments.executors import (
    LocalExecutor,
    RayExecutor,
    as_executor,
    as_run_here,
    executor_for,
    for_worker,
    worker_environment,
)
from snn_core.results.run_result import DataSource, RunResult

QUICK = {"T": 2, "train-samples": 64, "hidden": 8}


def without_timings(tree):
    """``tree`` minus what measures time or cache state (different on every run, whoever ran it)."""
    if isinstance(tree, dict):
        return {key: without_timings(value) for key, value in tree.items()
                if "seconds" not in key and key not in ("timing", "cached")}
    if isinstance(tree, list):
        return [without_timings(value) for value in tree]
    return tree


def test_a_number_of_workers_is_the_local_executor_and_an_executor_passes_through():
    local = as_executor(3, threads=2)
    assert isinstance(local, LocalExecutor) and (local.workers, local.threads) == (3, 2)
    assert as_executor(local) is local
    with pytest.raises(ValueError, match="workers=0, threads=None are not valid"):
        as_executor(0)


def test_ray_address_without_the_ray_executor_is_refused():
    with pytest.raises(ValueError, match="--ray-address needs --executor ray"):
        executor_for("local", address="auto")


def test_executor_ray_without_ray_installed_exits_2_with_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)                  # `import ray` raises ImportError
    code = cli.main(["compare", "--base", "T=2 train-samples=64", "--seeds", "2", "--executor", "ray", "--no-cache"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "needs Ray, which is not installed" in err and "pip install 'ray[client]==2.60.0'" in err


def test_a_two_seed_comparison_on_ray_equals_the_local_one_and_fills_the_same_cache(tiny):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pyproject's dev extra installs it)")
    base, variant = tiny(QUICK), tiny(QUICK, **{"max-spikes": 1})
    local = compare(base, variant, [0, 1])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        cache = RunCache()
        on_ray = compare(base, variant, [0, 1], workers=RayExecutor(), cache=cache)
        again = compare(base, variant, [0, 1], cache=cache)          # the local executor reads Ray's runs
    finally:
        ray.shutdown()
    assert on_ray.failed_runs == 0 and len(on_ray.per_seed) == 2
    assert without_timings(on_ray.to_json()) == without_timings(local.to_json())
    assert without_timings(again.to_json()) == without_timings(local.to_json())
    assert on_ray.per_seed[1].variant.metrics.test_accuracy == local.per_seed[1].variant.metrics.test_accuracy


def test_a_ray_task_gets_the_folders_this_process_would_read_as_absolute_paths(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "event-folder").mkdir(parents=True)
    monkeypatch.setenv("SNN_DATA_DIR", "fetched")
    monkeypatch.delenv("SNN_FRAME_CACHE_DIR", raising=False)
    assert worker_environment() == {"SNN_DATA_DIR": str(tmp_path / "fetched"),
                                    "SNN_FRAME_CACHE_DIR": str(tmp_path / ".cache" / "frames")}
    digits = tiny()
    assert for_worker(digits) is digits                                    # generated data reads no folder
    for given, read in (("ev", tmp_path / "ev"), ("", tmp_path / "data" / "event-folder")):
        cfg = tiny(dataset="event-folder", data_dir=given)
        sent = for_worker(cfg)
        assert sent.data.data_dir == str(read) and sent.with_values({"data-dir": given}) == cfg
        # the worker's slot names the absolute folder; the driver's slot is the run of the original config
        named = str(read.relative_to(tmp_path))
        theirs = RunResult(sent, data=DataSource(f"event-folder from {read}: 2 training", ("a",)), cached=False)
        ours = as_run_here(theirs, cfg)
        assert ours.config == cfg and ours.data.source == f"event-folder from {named}: 2 training"
    nowhere = tiny(dataset="nmnist", data_dir="")
    monkeypatch.setattr("snn_core.data.folders.BUNDLED_SAMPLES", tmp_path / "none")
    assert for_worker(nowhere) is nowhere              # found nowhere here: the worker says so, as a local run would


def test_pool_workers_ignore_ctrl_c_so_only_the_parent_decides():
    import signal

    from snn_core.experiments.executors import worker_setup
    before = signal.getsignal(signal.SIGINT)
    try:
        worker_setup(None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
