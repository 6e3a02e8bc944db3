"""Fetching the real datasets (snn_core.data.fetch) and ``snn data fetch``, against a local HTTP server serving small
archives in tonic's layouts: found where the app reads, not downloaded twice, resumed, checked, bounded, refused."""
import json
import subprocess
import sys

import pytest

from dataset_server import DatasetServer, closed_port_url, md5, nmnist_zip, symlink_member, tar_bytes, zip_bytes
from snn_core.cli import main
from snn_core.data import fetch
from snn_core.data.folders import dvs_gesture_files, nmnist_files, resolve_root, shd_files


@pytest.fixture
def served(monkeypatch, tmp_path):
    """N-MNIST's two archives on a local server, ``SOURCES['nmnist']`` pointing at it, ``$SNN_DATA_DIR`` fresh."""
    server = DatasetServer({"train.zip": nmnist_zip("Train"), "test.zip": nmnist_zip("Test")})
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (server.archive("train.zip"), server.archive("test.zip")))
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "cache"))
    yield server
    server.close()


def test_a_fetched_dataset_is_where_resolve_root_looks_and_lists_in_its_layout(served, tmp_path):
    reports = []
    folder = fetch.fetch_dataset("nmnist", progress=lambda *report: reports.append(report))
    assert folder == tmp_path / "cache" / "nmnist" == resolve_root("", "nmnist")
    files = nmnist_files(folder)
    assert (len(files.train), len(files.test)) == (20, 20) and files.root == folder / "NMNIST"
    assert (folder / "NMNIST" / "train.zip").is_file()                   # kept, as tonic keeps it
    size = len(served.files["train.zip"])
    assert (size, size, "nmnist: downloading train.zip") in reports
    assert any(label == "nmnist: extracting test.zip" and done == total for done, total, label in reports)
    info = fetch.fetched(folder, "nmnist")
    assert info["files"] == 40 and info["bytes"] == sum(len(path.read_bytes()) for path, _ in files.train + files.test)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["nmnist"]     # the work folder is gone


def test_a_second_fetch_downloads_nothing(served):
    fetch.fetch_dataset("nmnist")
    asked = len(served.requests)
    assert fetch.fetch_dataset("nmnist") == resolve_root("", "nmnist") and len(served.requests) == asked == 2


def test_a_download_cut_short_is_resumed_with_a_range_request(served):
    served.cut["train.zip"] = 100
    folder = fetch.fetch_dataset("nmnist")
    assert served.requests[:2] == [("train.zip", None), ("train.zip", "bytes=100-")]
    assert len(nmnist_files(folder).train) == 20


def test_a_partial_file_left_by_an_earlier_call_is_continued_or_else_restarted(served, tmp_path):
    work = tmp_path / "cache" / ".nmnist.fetching"
    work.mkdir(parents=True)
    (work / "train.zip.part").write_bytes(served.files["train.zip"][:50])            # an interrupted call
    (work / "test.zip.part").write_bytes(b"x" * 50)                                  # stale: another version's bytes
    folder = fetch.fetch_dataset("nmnist")
    assert ("train.zip", "bytes=50-") in served.requests and ("train.zip", None) not in served.requests
    assert [r for r in served.requests if r[0] == "test.zip"] == [("test.zip", "bytes=50-"), ("test.zip", None)]
    assert (len(nmnist_files(folder).train), len(nmnist_files(folder).test)) == (20, 20)


def test_a_fetch_stopped_while_extracting_leaves_no_folder_and_the_next_call_reuses_the_verified_archive(served,
                                                                                                         tmp_path):
    def stop(done, total, label):
        if label == "nmnist: extracting test.zip" and done:
            raise KeyboardInterrupt                 # Ctrl-C, or the app's script stopped by a new run

    with pytest.raises(KeyboardInterrupt):
        fetch.fetch_dataset("nmnist", progress=stop)
    assert not (tmp_path / "cache" / "nmnist").exists() and len(served.requests) == 2
    folder = fetch.fetch_dataset("nmnist")
    assert len(served.requests) == 2 and len(nmnist_files(folder).test) == 20          # nothing downloaded again


def test_a_checksum_mismatch_is_one_line_and_leaves_nothing_that_looks_complete(served, monkeypatch, tmp_path):
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (served.archive("train.zip", md5_of=b"another file"),))
    with pytest.raises(ValueError) as problem:
        fetch.fetch_dataset("nmnist")
    message = str(problem.value)
    assert "\n" not in message and message.startswith("train.zip from http://127.0.0.1:")
    assert f"does not match its md5 checksum (got {md5(served.files['train.zip'])}, expected " in message
    folder = tmp_path / "cache" / "nmnist"
    assert not folder.exists() and fetch.fetched(folder, "nmnist") is None
    assert not list((tmp_path / "cache").iterdir())                   # no partial file, no empty work folder


def test_an_unreachable_host_says_what_to_copy_where(monkeypatch, tmp_path):
    url = closed_port_url("train.zip")
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (fetch.Archive(url, "train.zip", "0" * 32),))
    with pytest.raises(ValueError) as problem:
        fetch.fetch_dataset("nmnist", to=tmp_path / "here")
    message = str(problem.value)
    assert message.startswith(f"cannot reach {url} (") and "\n" not in message
    assert f"copy the dataset to {tmp_path / 'here'} in this layout: NMNIST/Train/<digit>/*.bin" in message
    assert not list(tmp_path.iterdir())                                # nothing written


def test_an_unknown_name_lists_the_datasets_that_can_be_fetched():
    with pytest.raises(ValueError, match=r"cannot fetch 'mnist'; allowed: nmnist, dvs-gesture, shd"):
        fetch.fetch_dataset("mnist")


@pytest.mark.parametrize("name, data", [
    ("up.zip", zip_bytes({"Train/0/00000.bin": b"x", "../x": b"escaped"})),
    ("abs.zip", zip_bytes({"/tmp/snn-fetch-escape": b"escaped"})),
    ("deep.tar.gz", tar_bytes({"Train/0/../../../x": b"escaped"})),
    ("link.tar.gz", tar_bytes({"Train/0/00000.bin": b"x"}, links={"Train/1": "/etc"})),
    ("link.zip", zip_bytes({"Train/0/00000.bin": b"x", "Train/1": symlink_member("/etc")})),
])
def test_an_archive_member_outside_the_folder_or_a_link_is_refused(name, data, monkeypatch, tmp_path):
    server = DatasetServer({name: data})
    try:
        monkeypatch.setitem(fetch.SOURCES, "nmnist", (server.archive(name),))
        with pytest.raises(ValueError, match="would be written outside the dataset's folder|is a link"):
            fetch.fetch_dataset("nmnist", to=tmp_path / "sets" / "nmnist")
    finally:
        server.close()
    assert not (tmp_path / "sets" / "x").exists() and not (tmp_path / "x").exists()
    assert not (tmp_path / "sets" / "nmnist").exists()
    assert not [p for p in (tmp_path / "sets").rglob("*") if p.name.startswith("extract-")]


def test_an_archive_larger_than_allowed_is_refused_before_it_is_read(served, monkeypatch):
    monkeypatch.setattr(fetch, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(ValueError, match=r"train.zip is \d+ bytes; allowed: at most 100 bytes"):
        fetch.fetch_dataset("nmnist")


def test_dvs_gesture_and_shd_fetch_into_the_layouts_their_listings_read(monkeypatch, tmp_path):
    gesture = {f"ibmGesture{split}/user0{u}_led/{label}.npy": b"npy" for split in ("Train", "Test")
               for u in (1, 2) for label in (0, 10)}
    files = {"ibmGestureTrain.tar.gz": tar_bytes({k: v for k, v in gesture.items() if "Train" in k}),
             "ibmGestureTest.tar.gz": tar_bytes({k: v for k, v in gesture.items() if "Test" in k}),
             "shd_train.h5.zip": zip_bytes({"shd_train.h5": b"h5"}),
             "shd_test.h5.zip": zip_bytes({"shd_test.h5": b"h5"})}
    server = DatasetServer(files)
    try:
        monkeypatch.setitem(fetch.SOURCES, "dvs-gesture", (server.archive("ibmGestureTrain.tar.gz"),
                                                           server.archive("ibmGestureTest.tar.gz")))
        monkeypatch.setitem(fetch.SOURCES, "shd", (server.archive("shd_train.h5.zip"),
                                                   server.archive("shd_test.h5.zip")))
        monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path))
        gestures = dvs_gesture_files(fetch.fetch_dataset("dvs-gesture"))
        shd = shd_files(fetch.fetch_dataset("shd"))
    finally:
        server.close()
    assert (len(gestures.train), len(gestures.test)) == (4, 4)
    assert gestures.root == tmp_path / "dvs-gesture" / "DVSGesture"
    assert shd == (tmp_path / "shd" / "SHD" / "shd_train.h5", tmp_path / "shd" / "SHD" / "shd_test.h5")


def test_the_real_table_is_tonics_own(monkeypatch):
    from tonic.datasets.dvsgesture import DVSGesture
    from tonic.datasets.hsd import SHD
    from tonic.datasets.nmnist import NMNIST

    monkeypatch.setattr(fetch, "SOURCES", {})
    assert fetch.archives("nmnist") == (fetch.Archive(NMNIST.train_url, "train.zip", NMNIST.train_md5),
                                        fetch.Archive(NMNIST.test_url, "test.zip", NMNIST.test_md5))
    assert [a.md5 for a in fetch.archives("dvs-gesture")] == [DVSGesture.train_md5, DVSGesture.test_md5]
    assert fetch.archives("shd")[0] == fetch.Archive(SHD.base_url + "shd_train.h5.zip", "shd_train.h5.zip",
                                                     SHD.train_md5)


# the command line: snn data fetch NAME [--to DIR]

def test_cli_fetch_prints_the_folder_as_json_and_a_second_run_is_instant(served, tmp_path, capsys):
    assert main(["data", "fetch", "nmnist", "--to", str(tmp_path / "mine")]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result == {"dataset": "nmnist", "folder": str(tmp_path / "mine"), "files": 40,
                      "bytes": fetch.fetched(tmp_path / "mine", "nmnist")["bytes"]}
    assert "nmnist: downloading train.zip" in err                              # the tqdm bar
    assert main(["data", "fetch", "nmnist", "--to", str(tmp_path / "mine"), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == result and len(served.requests) == 2


def test_cli_fetch_failures_exit_2_with_one_error_line(served, monkeypatch, capsys):
    assert main(["data", "fetch", "cifar"]) == 2
    assert capsys.readouterr().err == "error: cannot fetch 'cifar'; allowed: nmnist, dvs-gesture, shd\n"
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (served.archive("train.zip", md5_of=b"other"),))
    assert main(["data", "fetch", "nmnist", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: train.zip from http://127.0.0.1:") and err.count("\n") == 1 and "md5" in err
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (fetch.Archive(closed_port_url("t.zip"), "t.zip", "0" * 32),))
    assert main(["data", "fetch", "nmnist", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach http://127.0.0.1:") and err.count("\n") == 1


def test_cli_fetch_through_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "snn_core", "data", "fetch"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "NAME" in done.stderr
    assert done.stderr.count("\n") == 1
