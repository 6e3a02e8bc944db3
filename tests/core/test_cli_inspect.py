"""``python -m snn_core inspect FILE``: the JSON of one event file, and a bad file as one line with exit code 2."""
from __future__ import annotations

import json

import numpy as np

from snn_core.cli import main


def test_inspect_prints_the_evt2_recording(real_data, capsys):
    path = real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw"
    assert main(["inspect", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["file"], info["format"], info["events"], info["sensor_size"]) == (
        "prophesee_gen3_evt2.raw", "evt2", 539_481, [640, 480, 2])
    assert info["polarity_counts"]["off"] + info["polarity_counts"]["on"] == 539_481


def test_inspect_sensor_size_and_sample(tmp_path, capsys):
    path = tmp_path / "e.npy"
    events = np.zeros(2, dtype=[("x", "i8"), ("y", "i8"), ("t", "i8"), ("p", "i8")])
    events["x"], events["t"] = [3, 4], [10, 20]
    np.save(path, events)
    assert main(["inspect", str(path), "--sensor-size", "8,6"]) == 0
    assert json.loads(capsys.readouterr().out)["sensor_size"] == [8, 6, 2]
    assert main(["inspect", str(path), "--sensor-size", "8"]) == 2
    assert "--sensor-size '8' is not valid" in capsys.readouterr().err
    assert main(["inspect", str(path), "--sample", "1"]) == 2
    assert "holds one recording" in capsys.readouterr().err


def test_inspect_truncated_bin_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "cut.bin"
    path.write_bytes(bytes(5 * 10 + 3))
    assert main(["inspect", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: {path}: is truncated") and "multiple of 5" in captured.err


def test_inspect_missing_file(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "none.raw")]) == 2
    assert "no such file" in capsys.readouterr().err
