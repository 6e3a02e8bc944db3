"""RunCache: only a valid entry for the very config asked for is served; everything else is a miss, removed, logged;
writers never collide; the folder is one per engine fingerprint and stays under its cap. No run trains here: the
results are a stored tiny run's, changed by hand."""
import json
import logging
import math
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from snn_core.config.run_config import RunConfig
from snn_core.experiments.batch import (
    CACHE_MARKER,
    CACHE_SIZE_ENV,
    RunCache,
    finite_tree,
    restore_non_finite,
    run_many,
)
from snn_core.results import RunResult
from snn_core.results.json_tree import valid_json

CFG = RunConfig().with_values({"T": "3", "hidden": "16"})
OTHER = CFG.with_values({"seed": 7})


STORED = RunResult.from_json(json.loads(
    (Path(__file__).parents[1] / "results" / "current" / "train_digits.json").read_text()))


def result_of(cfg: RunConfig, accuracy: float = 0.5, loss: float = 1.25) -> RunResult:
    return replace(STORED, config=cfg, history=(replace(STORED.history[0], train_loss=loss, test_accuracy=accuracy),),
                   metrics=replace(STORED.metrics, test_accuracy=accuracy, test_loss=loss, epochs_to_target=None))


def entry_path(cache: RunCache, cfg: RunConfig):
    return cache.directory / f"{cache.key(cfg, 'cpu')}.json"


def stored(cache: RunCache, cfg: RunConfig) -> dict:
    return json.loads(entry_path(cache, cfg).read_text())


def test_a_stored_result_comes_back_from_a_new_cache_over_the_same_folder(tmp_path):
    RunCache(tmp_path).put(CFG, "cpu", result_of(CFG))
    assert RunCache(tmp_path).get(CFG, "cpu") == result_of(CFG)
    assert RunCache(tmp_path).get(OTHER, "cpu") is None


@pytest.mark.parametrize("content", [
    "[]", "{}", "null", "not json", '{"format": 1}', "[" * 100_000,
    '{"format": 1, "device": "cpu", "result": {"config": {}, "history": [], "metrics": null, "timing": {}}}',
], ids=["list", "empty object", "null", "not json", "no result", "deep nesting", "metrics null"])
def test_a_malformed_file_is_a_miss_and_is_removed(tmp_path, content, caplog):
    cache = RunCache(tmp_path)
    cache.directory.mkdir(parents=True)
    path = entry_path(cache, CFG)
    path.write_text(content)
    with caplog.at_level(logging.WARNING):
        assert cache.get(CFG, "cpu") is None
    assert not path.exists() and "not served" in caplog.text


@pytest.mark.parametrize("tamper", ["metrics null", "history not a list", "accuracy 2", "accuracy text",
                                    "nan token", "device", "format"])
def test_a_tampered_entry_is_a_miss(tmp_path, tamper):
    writer = RunCache(tmp_path)
    writer.put(CFG, "cpu", result_of(CFG))
    entry = stored(writer, CFG)
    result = entry["result"]
    if tamper == "metrics null":
        result["metrics"] = None
    elif tamper == "history not a list":
        result["history"] = {"epoch": 1}
    elif tamper == "accuracy 2":
        result["metrics"]["test_accuracy"] = 2.0
    elif tamper == "accuracy text":
        result["metrics"]["test_accuracy"] = "0.9"
    elif tamper == "nan token":
        result["metrics"]["test_loss"] = math.nan        # json.dumps writes the invalid token NaN
    elif tamper == "device":
        entry["device"] = "cuda"
    else:
        entry["format"] = 0
    entry_path(writer, CFG).write_text(json.dumps(entry))
    assert RunCache(tmp_path).get(CFG, "cpu") is None and not entry_path(writer, CFG).exists()


def test_a_forged_result_for_another_config_is_never_served(tmp_path):
    cache = RunCache(tmp_path)
    cache.put(OTHER, "cpu", result_of(OTHER, accuracy=1.0))
    os.replace(entry_path(cache, OTHER), entry_path(cache, CFG))        # renamed to the requested config's key
    assert RunCache(tmp_path).get(CFG, "cpu") is None
    slots = run_many([CFG.with_values({"epochs": 1, "train-samples": 64, "test-samples": 40})],
                     cache=RunCache(tmp_path))          # a real run, not the forged 100%
    assert slots[0].cached is False


def test_nan_is_stored_as_null_with_a_flag_and_comes_back(tmp_path):
    cache = RunCache(tmp_path)
    cache.put(CFG, "cpu", result_of(CFG, loss=math.nan))
    text = entry_path(cache, CFG).read_text()
    entry = json.loads(text)                                           # valid JSON: no NaN token
    assert "NaN" not in text and entry["result"]["metrics"]["test_loss"] is None
    assert ["history", 0, "train_loss"] in [path for path, _ in entry["non_finite"]]
    served = RunCache(tmp_path).get(CFG, "cpu")
    assert math.isnan(served.metrics.test_loss) and math.isnan(served.history[0].train_loss)
    assert served.metrics.epochs_to_target is None                     # a real null stays null


def test_finite_tree_round_trips_every_non_finite_value():
    tree = {"a": [1.0, math.inf, {"b": -math.inf}], "c": (math.nan,), "d": None}
    clean, found = finite_tree(tree)
    json.dumps(clean, allow_nan=False)
    back = restore_non_finite(json.loads(json.dumps(clean)), found)
    assert back["a"][1] == math.inf and back["a"][2]["b"] == -math.inf and math.isnan(back["c"][0])
    assert back["d"] is None
    with pytest.raises(ValueError, match="points at a value"):
        restore_non_finite({"a": 1.0}, [[["a"], "nan"]])


def test_valid_json_writes_null_and_where_and_leaves_a_finite_result_as_it_was():
    result = result_of(CFG, loss=math.nan).to_json()
    tree = json.loads(valid_json(result, indent=2))
    assert tree["metrics"]["test_loss"] is None and [["metrics", "test_loss"], "nan"] in tree["non_finite"]
    assert valid_json(result_of(CFG).to_json()) == json.dumps(result_of(CFG).to_json())


def test_two_threads_writing_one_key_never_fail(tmp_path):
    cache, problems = RunCache(tmp_path), []

    def write(accuracy):
        try:
            for _ in range(200):
                cache.put(CFG, "cpu", result_of(CFG, accuracy))
        except Exception as problem:                                   # noqa: BLE001 - collected for the assert
            problems.append(problem)

    threads = [threading.Thread(target=write, args=(accuracy,)) for accuracy in (0.25, 0.75)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert RunCache(tmp_path).get(CFG, "cpu").metrics.test_accuracy in (0.25, 0.75)
    assert sorted(path.name[-5:] for path in cache.directory.iterdir()) == [".json", "cache"]   # no temp file left


ENTRY = '{"format": 1, "device": "cpu", "result": {}}'                  # how every entry file begins


def old_cache_folder(root, name="0123456789abcdef", marked=True):
    """A folder another engine fingerprint's cache left: its marker (unless from before markers) and an entry."""
    folder = root / name
    folder.mkdir()
    if marked:
        (folder / CACHE_MARKER).write_text(f"snn-run-cache {name}{'0' * 48}\n")
    (folder / f"{'a' * 64}.json").write_text(ENTRY)
    return folder


def test_each_engine_fingerprint_has_its_own_folder_and_old_ones_are_removed(tmp_path):
    old = old_cache_folder(tmp_path)
    unmarked = old_cache_folder(tmp_path, "fedcba9876543210", marked=False)     # written before markers: all ours
    flat = tmp_path / f"{'b' * 64}.json"                               # the layout before fingerprint folders
    flat.write_text(ENTRY)
    keep = tmp_path / "notes.txt"                                      # not a name the cache writes: left alone
    keep.write_text("mine")
    cache = RunCache(tmp_path)
    assert cache.directory.parent == tmp_path and cache.directory.name == cache.fingerprint[:16]
    assert not old.exists() and not unmarked.exists() and not flat.exists() and keep.exists()
    cache.put(CFG, "cpu", result_of(CFG))
    assert (cache.directory / CACHE_MARKER).read_text() == f"snn-run-cache {cache.fingerprint}\n"


def test_a_users_folder_with_a_fingerprint_like_name_survives_the_cache(tmp_path):
    users = tmp_path / "0123456789abcdef"                              # 16 hex digits, but no marker: not ours
    users.mkdir()
    (users / "thesis.tex").write_text("years of work")
    (users / f"{'c' * 64}.json").write_text('{"mine": true}')         # even a file named like an entry
    flat = tmp_path / f"{'b' * 64}.json"                               # a flat-layout name that is not an entry
    flat.write_text('{"mine": true}')
    RunCache(tmp_path).put(CFG, "cpu", result_of(CFG))
    RunCache(tmp_path)
    assert (users / "thesis.tex").read_text() == "years of work" and (users / f"{'c' * 64}.json").exists()
    assert flat.read_text() == '{"mine": true}'


def test_a_marked_folder_keeps_what_the_cache_did_not_write_and_links_are_never_followed(tmp_path):
    old = old_cache_folder(tmp_path)
    (old / "notes.txt").write_text("mine")                            # put there by hand: kept, and its folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = old_cache_folder(elsewhere, "1111111111111111")             # a link to it, named as a folder of ours
    (tmp_path / "2222222222222222").symlink_to(target, target_is_directory=True)
    forged = tmp_path / "3333333333333333"                             # a marker naming another folder: not ours
    forged.mkdir()
    (forged / CACHE_MARKER).write_text("snn-run-cache 4444444444444444\n")
    (forged / f"{'d' * 64}.json").write_text(ENTRY)
    RunCache(tmp_path)
    assert (old / "notes.txt").exists() and (old / CACHE_MARKER).exists() and not (old / f"{'a' * 64}.json").exists()
    assert (target / f"{'a' * 64}.json").exists() and (forged / f"{'d' * 64}.json").exists()


def test_the_folder_is_pruned_to_its_cap_least_recently_used_first(tmp_path, monkeypatch):
    cache = RunCache(tmp_path)
    configs = [CFG.with_values({"seed": seed}) for seed in range(6)]
    for age, cfg in enumerate(configs):
        cache.put(cfg, "cpu", result_of(cfg))
        os.utime(entry_path(cache, cfg), (1000 + age, 1000 + age))     # put in this order, one second apart
    size = entry_path(cache, configs[0]).stat().st_size
    cache.get(configs[0], "cpu")                                       # a hit renews the oldest
    monkeypatch.setenv(CACHE_SIZE_ENV, str(3.5 * size / 2**20))
    small = RunCache(tmp_path)
    small.prune()
    kept = [cfg for cfg in configs if entry_path(cache, cfg).exists()]
    assert kept == [configs[0], configs[4], configs[5]]


def test_a_bad_cap_setting_is_named(monkeypatch):
    monkeypatch.setenv(CACHE_SIZE_ENV, "lots")
    with pytest.raises(ValueError, match=f"{CACHE_SIZE_ENV}='lots'.*allowed: a number of megabytes"):
        RunCache()


def nmnist_folder(source, target, per_digit: int, digits=(0, 1)):
    """An N-MNIST-layout folder of ``per_digit`` recordings of each of ``digits`` copied from ``source``."""
    for digit in digits:
        folder = target / "Train" / str(digit)
        folder.mkdir(parents=True, exist_ok=True)
        for recording in sorted((source / "nmnist" / "Train" / str(digit)).glob("*.bin"))[:per_digit]:
            (folder / recording.name).write_bytes(recording.read_bytes())


def test_a_real_folder_that_gained_recordings_is_a_miss_never_the_old_result(tmp_path, real_data):
    folder = tmp_path / "nmnist"
    nmnist_folder(real_data, folder, per_digit=5)
    cfg = RunConfig().with_values({"dataset": "nmnist", "data-dir": str(folder)})
    cache = RunCache(tmp_path / "cache")
    cache.put(cfg, "cpu", result_of(cfg))
    assert cache.get(cfg, "cpu") is not None
    nmnist_folder(real_data, folder, per_digit=8)                  # three more recordings of each digit
    assert RunCache(tmp_path / "cache").get(cfg, "cpu") is None
    assert cache.get(cfg, "cpu") is None                             # the in-memory copy too


def test_a_procedural_dataset_key_does_not_look_at_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = RunCache(tmp_path / "cache")
    first = cache.key(CFG, "cpu")
    (tmp_path / "data" / "digits").mkdir(parents=True)
    assert cache.key(CFG, "cpu") == first


def test_the_fingerprint_reads_every_file_a_run_executes_and_not_the_reports_wording():
    import snn_core
    from snn_core.experiments.slots import fingerprinted_files
    root = Path(snn_core.__file__).parent
    names = {path.relative_to(root).as_posix() for path in fingerprinted_files()}
    assert {"training/trainer.py", "metrics/cost.py", "experiments/run.py", "neurons/lif.py", "cli.py"} <= names
    assert not any(name.startswith("report/") for name in names) and (root / "report" / "pareto.py").exists()
