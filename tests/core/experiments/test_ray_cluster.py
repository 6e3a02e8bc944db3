"""A real two-node Ray cluster on this machine: a head and a worker node started from two other working folders, and
a driver in a third that names its data by relative paths; the comparison's JSON equals the local executor's, over
the cluster's own address (``127.0.0.1:PORT``). Ray Client (``ray://``) is not tested here: its server's
per-connection start failed once under load in a clean clone ("Initialization failure from server").

Without the driver resolving folders first (``executors.for_worker``, ``executors.worker_environment``), a task
would read ``ev`` and ``data/event-folder`` relative to the folder where its node's ``ray start`` ran, and write
the frame cache there. Both nodes run in their own process session, so the test ends them (and every process they
started) by process group, never with ``ray stop``, which stops every Ray process of this user on the machine.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from snn_core.data.folders import BUNDLED_SAMPLES

pytest.importorskip("ray", reason="Ray is not installed (pyproject's dev extra installs it)")

RAY = Path(sys.executable).with_name("ray")
if not RAY.is_file():
    pytest.skip(f"no `ray` command beside {sys.executable}", allow_module_level=True)
STARTED = "Ray runtime started"
START_SECONDS = 60               # one node's `ray start` (about 5 s here)
RUN_SECONDS = 120                # one `compare` (about 10 s here)
BASE = "dataset=event-folder data-dir=ev arch=mlp T=2 epochs=1 hidden=8 robustness=false"
VARIANT = "data-dir= max-spikes=1"   # empty: the default place, data/event-folder under the driver's folder


def without_timings(tree):
    """``tree`` minus what measures time (different on every run, whoever ran it)."""
    if isinstance(tree, dict):
        return {key: without_timings(value) for key, value in tree.items() if "seconds" not in key and key != "timing"}
    if isinstance(tree, list):
        return [without_timings(value) for value in tree]
    return tree


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def event_folder(root: Path) -> None:
    """A tiny ``event-folder``: 6 training and 3 test N-MNIST recordings of digits 0 and 1 (bundled samples)."""
    for digit in ("0", "1"):
        files = sorted((BUNDLED_SAMPLES / "nmnist" / "Train" / digit).glob("*.bin"))[:9]
        for split, chosen in (("train", files[:6]), ("test", files[6:])):
            (root / split / digit).mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, root / split / digit / path.name)


def start_node(args: list[str], folder: Path, env: dict, nodes: list[subprocess.Popen]) -> None:
    """``ray start ARGS --block`` run from ``folder`` in a session of its own, waited for until it has started."""
    log = folder / "ray-start.log"
    with open(log, "wb") as out:
        nodes.append(subprocess.Popen([str(RAY), "start", "--block", "--num-cpus", "1", "--disable-usage-stats", *args],
                                      cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    deadline = time.monotonic() + START_SECONDS
    while STARTED not in log.read_text(errors="replace"):
        if nodes[-1].poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"ray start {' '.join(args)} did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)


def stop_nodes(nodes: list[subprocess.Popen]) -> None:
    """Kill each node's whole process group (its Ray processes and their workers) and reap it."""
    for node in nodes:
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.wait(timeout=30)


def compare_json(driver: Path, env: dict, *executor: str) -> dict:
    out = driver / f"{executor[-1].replace('/', '').replace(':', '-')}.json"
    done = subprocess.run([sys.executable, "-m", "snn_core", "compare", "--base", BASE, "--variant", VARIANT,
                           "--seeds", "1", "--no-cache", "--quiet", "--out", str(out), *executor],
                          cwd=driver, env=env, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text())


def test_a_two_node_cluster_reads_the_drivers_relative_folders_and_gives_the_local_json(tmp_path):
    head, worker, driver = (tmp_path / name for name in ("head", "worker", "driver"))
    for folder in (head, worker, driver):
        folder.mkdir()
    event_folder(driver / "ev")
    event_folder(driver / "data" / "event-folder")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SNN_", "RAY_"))}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))   # this cluster's own token
    port, nodes = free_port(), []
    # each node's Ray folder: short, as Ray's socket paths in it must fit in 107 bytes (tmp_path's need not)
    with tempfile.TemporaryDirectory(prefix="ray") as ray_head, tempfile.TemporaryDirectory(prefix="ray") as ray_worker:
        try:
            start_node(["--head", "--port", str(port), "--temp-dir", ray_head, "--include-dashboard=false"], head,
                       env, nodes)
            start_node(["--address", f"127.0.0.1:{port}", "--temp-dir", ray_worker], worker, env, nodes)
            on_ray = compare_json(driver, env, "--executor", "ray", "--ray-address", f"127.0.0.1:{port}")
        finally:
            stop_nodes(nodes)
    assert on_ray["failed_runs"] == 0, [on_ray["per_seed"][0][arm]["error"] for arm in ("base", "variant")]
    assert not (head / ".cache").exists() and not (worker / ".cache").exists()   # the driver's frame cache
    assert (driver / ".cache" / "frames").is_dir()
    local = compare_json(driver, env, "--executor", "local")
    assert without_timings(on_ray) == without_timings(local)
    assert on_ray["base"]["data"]["data_dir"] == "ev"
    assert on_ray["per_seed"][0]["variant"]["data"]["source"].startswith("event-folder from data/event-folder: ")
