"""N-MNIST at its published size: 60,000 training + 10,000 test recordings, framed once, trained from disk.

A command, never a test (it takes ~10-20 minutes on 2 cores)::

    .venv/bin/python benchmarks/scale.py                       # full size; writes docs/SCALE.md and docs/SCALE.json
    .venv/bin/python benchmarks/scale.py --train 6000 --test 1000 --out /tmp/snn_scale_small

1. Builds an N-MNIST-layout folder (``Train/<digit>/*.bin``, ``Test/<digit>/*.bin``) of ``--train`` + ``--test``
   recordings from the recordings at hand: ``../shared/data/real/nmnist`` when present, else the repository's
   ``data/samples/nmnist`` bundle, each linked (hard link, else symlink) under new names as many times as needed.
   The folder is reused when it already holds those counts.
2. Frames it in a child process with an empty frame cache (the first framing pass; progress on stderr).
3. Trains one epoch of N-MNIST's default conv net (``REAL_DEFAULTS["nmnist"]``: channels 16,32, T=8, batch 32) on
   every recording (``train-samples 0``, ``test-samples 0``) in a second child process, through ``Trainer`` (what
   ``python -m snn_core train`` runs), the epoch closing with the test and validation evaluations.

Each child's peak RSS comes from ``os.wait4`` (``ru_maxrss``: the process itself, or its largest loader worker), and
a sampler reads ``/proc`` every 0.5 s for the whole process tree's RSS and PSS (PSS splits pages a forked worker
shares with its parent, so the tree's PSS is its real footprint). Targets: peak RSS <= 2 GB, one epoch <= 10 minutes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from snn_core.settings import FRAME_CACHE_DIR, FRAME_CACHE_MB

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT.parent / "shared" / "data" / "real" / "nmnist", Path("/work/shared/data/real/nmnist"),
           ROOT / "data" / "samples" / "nmnist")
RSS_TARGET_MB = 2048
EPOCH_TARGET_S = 600
MB = 2**20


# --- the folder ------------------------------------------------------------------------------------------------


def source_recordings(source: Path | None) -> tuple[Path, dict[int, list[Path]]]:
    """(folder, digit -> its .bin files) of the first source folder that has N-MNIST recordings."""
    for folder in ([source] if source else SOURCES):
        by_digit = {d: sorted(folder.glob(f"*/{d}/*.bin")) for d in range(10)}
        if all(by_digit.values()):
            return folder, by_digit
    raise SystemExit(f"no N-MNIST recordings (Train/<digit>/*.bin) in {', '.join(map(str, SOURCES))}; "
                     "allowed: --source FOLDER")


def build_folder(out: Path, n_train: int, n_test: int, by_digit: dict[int, list[Path]]) -> str:
    """``out`` as an N-MNIST folder of n_train + n_test recordings linked from ``by_digit``; how they were linked."""
    marker = out / "counts.json"
    wanted = {"train": n_train, "test": n_test, "sources": sum(map(len, by_digit.values()))}
    if marker.is_file() and json.loads(marker.read_text()).get("train") == n_train \
            and json.loads(marker.read_text()).get("test") == n_test:
        return json.loads(marker.read_text()).get("linked", "reused")
    shutil.rmtree(out, ignore_errors=True)
    how = "hard links"
    for split, count in (("Train", n_train), ("Test", n_test)):
        for digit in range(10):
            folder = out / split / str(digit)
            folder.mkdir(parents=True)
            files = by_digit[digit]
            share = count // 10 + (digit < count % 10)
            for i in range(share):
                source = files[(i + (split == "Test") * 7) % len(files)]
                target = folder / f"{i:05d}_{source.name}"
                try:
                    os.link(source, target)
                except OSError:
                    os.symlink(source.resolve(), target)
                    how = "symlinks"
    marker.write_text(json.dumps({**wanted, "linked": how}))
    return how


# --- children and their memory ---------------------------------------------------------------------------------


def tree_memory(pid: int) -> tuple[int, int, int]:
    """(RSS sum, PSS sum, processes) of ``pid`` and its descendants, in bytes, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    rss = pss = count = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
            count += 1
        except OSError:
            continue
    return rss, pss, count


def run_child(mode: str, folder: Path, env: dict) -> dict:
    """Run this script as ``--child mode``; its JSON result with its peak memory added."""
    process = subprocess.Popen([sys.executable, __file__, "--child", mode, "--folder", str(folder)],
                               stdout=subprocess.PIPE, env=env, cwd=ROOT, text=True)
    peak = {"rss": 0, "pss": 0, "processes": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss, pss, count = tree_memory(process.pid)
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            peak["processes"] = max(peak["processes"], count)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the {mode} child failed (exit {process.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    return {**result, "wall_s": time.perf_counter() - started, "peak_rss_mb": usage.ru_maxrss / 1024,
            "tree_peak_rss_mb": peak["rss"] / MB, "tree_peak_pss_mb": peak["pss"] / MB,
            "tree_processes": peak["processes"]}


def _config(folder: Path):
    from snn_core.config.run_config import RunConfig, with_dataset_defaults

    return RunConfig().with_values(with_dataset_defaults({"dataset": "nmnist", "data-dir": str(folder),
                                                          "train-samples": "0", "test-samples": "0", "epochs": "1"}))


def child_frame(folder: Path) -> dict:
    from snn_core.data import load_dataset
    from snn_core.data.real import framing_progress

    last = [0.0]

    def progress(done: int, total: int, label: str) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with framing_progress(progress):
        data = load_dataset(_config(folder).data)
    return {"frame_s": time.perf_counter() - started, "train": len(data.train_y), "validation": len(data.val_y),
            "test": len(data.test_y), "frame_shape": list(data.frame_shape), "source": data.source,
            "dataset_nbytes": data.nbytes}


def child_train(folder: Path) -> dict:
    import torch

    from snn_core.data.batches import loader_workers
    from snn_core.training.trainer import Trainer

    started = time.perf_counter()
    trainer = Trainer(_config(folder))
    loaded = time.perf_counter() - started
    steps, last = trainer.batches_per_epoch, [time.perf_counter()]
    epoch_started = time.perf_counter()
    while True:
        result = trainer.step()
        if trainer.steps % 100 == 0 and time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  step {trainer.steps}/{steps}, {trainer.train_seconds:.0f} s in steps", file=sys.stderr,
                  flush=True)
        if result.epoch_finished is not None:
            record = result.epoch_finished
            break
    return {"load_s": loaded, "epoch_s": time.perf_counter() - epoch_started, "steps": trainer.steps,
            "step_s": record.train_seconds, "evaluation_s": time.perf_counter() - epoch_started - record.train_seconds,
            "accuracy": {"train": record.train_accuracy, "validation": record.validation_accuracy,
                         "test": record.test_accuracy},
            "loader_workers": loader_workers(trainer.dataset.train_x),
            "torch_threads": torch.get_num_threads(), "config": trainer.cfg.to_dict()}


# --- the report ------------------------------------------------------------------------------------------------


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    import numpy
    import torch
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(memory / 2**30, 1),
            "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__, "os": platform.platform()}


DESIGN = [
    "## How it stays within memory",
    "",
    "- **Framing streams** (`snn_core.data.frame_cache.build`): one recording is read and framed at a time and "
    "written (ordinary positioned writes, not through a memory map) into `x.npy` of the entry `<key>.partial/` in "
    "the frame cache, allocated at full size first (`posix_fallocate`: a full disk fails at once with one line "
    "naming the folder, the size needed and what is allowed). The cache key is as before (each file's path, size, "
    "mtime and the frame parameters), and so are the cap and LRU eviction (`SNN_FRAME_CACHE_MB`).",
    "- **Resumable, never half served**: every 512 recordings (and on an error or Ctrl-C) the written rows are "
    "synced and `progress.json` records how many; the next load of the same key resumes there. Only a finished "
    "entry is renamed (atomically) to `<key>/`, the only name ever loaded. A lock file in the partial folder lets "
    "one process frame a key; another waits and then reads the finished entry. A corrupt or empty recording stops "
    "framing with the reader's one-line error (it starts with the file's path) and where framing stopped.",
    "- **Training reads from disk**: a split is a `DiskFrames`, an index array over the entry's `x.npy`; indexing "
    "reads just those rows with `os.preadv` (runs of consecutive rows in one read) into a uint8 tensor. Caps, "
    "the validation split and the test split are index selections, never copies. Positioned reads rather than a "
    "memory map: every page a map touches stays in the process's resident set (an epoch would add the whole "
    "1.2 GB file), while a read leaves the file in the kernel's page cache only. `Dataset.nbytes` (the in-memory "
    "data cache's measure) counts only labels and indices.",
    "- **Batches through a torch DataLoader** (`snn_core.data.batches`): its sampler is the trainer's own epoch "
    "order cut by `batch_bounds`, each item a whole batch, so the batches, losses and results are exactly those of "
    "indexing (a test compares them, with and without a worker process and against frames in memory). Worker "
    "processes read ahead for training splits of 8,192 samples or more (one per two cores); smaller splits are "
    "read in the training process, where a worker's start-up each epoch would cost more than it hides. "
    "`SNN_LOADER_WORKERS` overrides. `Trainer.fork` rebuilds the loader from the copied order and cursor.",
]


def write_report(result: dict, docs: Path) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "SCALE.json").write_text(json.dumps(result, indent=2) + "\n")
    frame, train, m = result["framing"], result["training"], result["machine"]
    accuracy = train["accuracy"]
    full = result["train_recordings"] == 60_000 and result["test_recordings"] == 10_000
    rss = max(train["peak_rss_mb"], train["tree_peak_pss_mb"], frame["peak_rss_mb"])
    lines = [
        "# N-MNIST at full size: framing once, training from disk",
        "",
        f"Measured by `benchmarks/scale.py` on {result['date']}: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB "
        f"memory, Python {m['python']}, torch {m['torch']}, numpy {m['numpy']}. Machine shared with other work "
        "during the run, so times are upper bounds rather than exact.",
        "",
        f"Folder: {result['train_recordings']:,} training + {result['test_recordings']:,} test recordings in the "
        f"N-MNIST layout, built from {result['source_recordings']} real recordings in `{result['source']}` by "
        f"{result['linked']} under new names (each recording appears many times; framing and training do the same "
        "work per file as on distinct recordings)." + ("" if full else
                                                       " **Not the full 60,000 + 10,000: see the run's size.**"),
        "",
        "| measure | value | target | verdict |",
        "|---|---|---|---|",
        f"| first framing pass ({frame['train'] + frame['validation'] + frame['test']:,} recordings) | "
        f"{frame['frame_s']:.0f} s | — | — |",
        f"| framing: peak RSS | {frame['peak_rss_mb']:,.0f} MB | ≤ {RSS_TARGET_MB:,} MB | "
        f"{'pass' if frame['peak_rss_mb'] <= RSS_TARGET_MB else 'FAIL'} |",
        f"| frame cache on disk | {result['cache_mb']:,.0f} MB | — | — |",
        f"| one epoch ({train['steps']:,} steps of batch 32 + test and validation evaluation) | "
        f"{train['epoch_s']:.0f} s ({train['step_s']:.0f} s in steps, {train['evaluation_s']:.0f} s evaluating) | "
        f"≤ {EPOCH_TARGET_S} s | {'pass' if train['epoch_s'] <= EPOCH_TARGET_S else 'FAIL'} |",
        f"| training: peak RSS (process) | {train['peak_rss_mb']:,.0f} MB | ≤ {RSS_TARGET_MB:,} MB | "
        f"{'pass' if train['peak_rss_mb'] <= RSS_TARGET_MB else 'FAIL'} |",
        f"| training: peak PSS of the process tree ({train['tree_processes']} processes with the loader workers) | "
        f"{train['tree_peak_pss_mb']:,.0f} MB | ≤ {RSS_TARGET_MB:,} MB | "
        f"{'pass' if train['tree_peak_pss_mb'] <= RSS_TARGET_MB else 'FAIL'} |",
        "",
        f"Splits: {frame['train']:,} training, {frame['validation']:,} validation (10% held out by index), "
        f"{frame['test']:,} test; frames {frame['frame_shape']} x T=8 uint8. Loading the framed entry again "
        f"(a cache hit) took {train['load_s']:.1f} s; `Dataset.nbytes` (what the in-memory data cache counts) is "
        f"{frame['dataset_nbytes'] / MB:.1f} MB: the frames stay on disk. Loader: {train['loader_workers']} worker "
        f"process(es), torch on {train['torch_threads']} threads. After one epoch: train accuracy "
        f"{accuracy['train']:.3f}, validation {accuracy['validation']:.3f}, test "
        f"{accuracy['test']:.3f} (meaningless here: the test and validation recordings are copies of "
        "training recordings; the run measures time and memory, not accuracy).",
        "",
        f"Verdict: peak memory {rss:,.0f} MB ({'within' if rss <= RSS_TARGET_MB else 'over'} 2 GB); one epoch "
        f"{train['epoch_s'] / 60:.1f} min ({'within' if train['epoch_s'] <= EPOCH_TARGET_S else 'over'} 10 min).",
        "",
        "Reproduce: `.venv/bin/python benchmarks/scale.py` (full size, ~15 min) or with `--train N --test M`; "
        "`--report docs/SCALE.json` rewrites this page from the numbers.",
        "",
        *DESIGN,
    ]
    (docs / "SCALE.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=60_000)
    parser.add_argument("--test", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/snn_scale"))
    parser.add_argument("--source", type=Path, default=None, help="an N-MNIST folder to link recordings from")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--report", type=Path, default=None, help="rewrite the docs from this SCALE.json only")
    parser.add_argument("--child", choices=("frame", "train"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(ROOT))
        result = child_frame(args.folder) if args.child == "frame" else child_train(args.folder)
        print(json.dumps(result))
        return 0
    if args.report:
        write_report(json.loads(args.report.read_text()), args.docs)
        return 0
    source, by_digit = source_recordings(args.source)
    folder = args.out / "nmnist"
    print(f"building {folder}: {args.train} + {args.test} recordings from {source}", file=sys.stderr)
    linked = build_folder(folder, args.train, args.test, by_digit)
    cache = args.out / "frame_cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, FRAME_CACHE_DIR.name: str(cache), FRAME_CACHE_MB.name: "8192",
           "PYTHONPATH": str(ROOT)}
    print("framing (first pass, empty cache)", file=sys.stderr)
    framing = run_child("frame", folder, env)
    cache_mb = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / MB
    print(f"framed in {framing['frame_s']:.0f} s, cache {cache_mb:.0f} MB; training one epoch", file=sys.stderr)
    training = run_child("train", folder, env)
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "source": str(source),
              "source_recordings": sum(map(len, by_digit.values())), "linked": linked,
              "train_recordings": args.train, "test_recordings": args.test, "cache_mb": cache_mb,
              "framing": framing, "training": {k: v for k, v in training.items() if k != "config"},
              "config": training["config"]}
    write_report(result, args.docs)
    print(json.dumps({k: v for k, v in result.items() if k != "config"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
