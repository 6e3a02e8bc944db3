"""Open a recording: the zip guards and uploads (snn_app.recording), and the page under AppTest on real files.

AppTest cannot drive ``st.file_uploader``, so the page is opened through its path field here; the browser test
(tests/browser) uploads a file for real.
"""
import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_runner import ROOT, shown_text
from snn_app import recording
from snn_core.config.run_config import RunConfig, with_dataset_defaults
from snn_core.data.folders import BUNDLED_SAMPLES
from snn_core.data.readers import describe, read_events
from snn_core.training.trainer import Trainer

EVT2_EVENTS = 539_481          # prophesee_gen3_evt2.raw, as SOURCES.md states
TINY_NMNIST = {"dataset": "nmnist", "epochs": 1, "train-samples": 40, "test-samples": 20, "T": 4,
               "channels": "4,8", "batch-size": 20}


def zip_bytes(members: dict[str, bytes]) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    data.seek(0)
    return data


def nmnist_file(real_data: Path, digit: int = 3) -> Path:
    return sorted((real_data / "nmnist" / "Train" / str(digit)).glob("*.bin"))[0]


# ------------------------------------------------------------------------------------------------ the zip guards


@pytest.mark.parametrize("member", ["../evil.bin", "inner/../../evil.bin", "/etc/evil.bin", "C:/evil.bin",
                                    "..\\evil.bin"])
def test_a_member_that_would_leave_the_folder_refuses_the_whole_archive(tmp_path, member):
    archive = zip_bytes({"good.bin": b"\0" * 10, member: b"\0" * 10})
    with pytest.raises(ValueError, match="zip slip") as refused:
        recording.extract_zip(archive, tmp_path / "out", name="upload.zip")
    assert "upload.zip" in str(refused.value) and repr(member) in str(refused.value)
    assert not (tmp_path / "evil.bin").exists() and not (tmp_path / "out" / "good.bin").exists()   # nothing written


def test_too_many_files_and_too_many_bytes_are_refused_with_the_limit(tmp_path):
    many = zip_bytes({f"r{i}.bin": b"\0" * 5 for i in range(4)})
    with pytest.raises(ValueError, match="holds 4 files; allowed: at most 3"):
        recording.extract_zip(many, tmp_path, max_files=3)
    large = zip_bytes({"big.bin": b"\0" * 300_000, "small.bin": b"\0" * 5})     # compresses to almost nothing
    with pytest.raises(ValueError, match=r"expand to 0.3 MB; allowed: at most 0.2 MB from one archive"):
        recording.extract_zip(large, tmp_path, max_mb=0.2)
    assert not list(tmp_path.iterdir())


def test_only_event_files_are_extracted_folders_kept(tmp_path):
    archive = zip_bytes({"notes.txt": b"hi", "a/b/x.bin": b"\0" * 5, "y.NPY": b"\0", "__MACOSX/a/._x.bin": b"\0",
                         "a/._z.bin": b"\0"})
    files = recording.extract_zip(archive, tmp_path)
    assert [str(f.relative_to(tmp_path.resolve())) for f in files] == ["a/b/x.bin", "y.NPY"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x.bin", "y.NPY"]


def test_an_archive_without_event_files_or_not_a_zip_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"notes.zip: holds no event files; allowed: files ending in \.bin"):
        recording.extract_zip(zip_bytes({"notes.txt": b"hi"}), tmp_path, name="notes.zip")
    with pytest.raises(ValueError, match="fake.zip: is not a readable zip archive"):
        recording.extract_zip(io.BytesIO(b"not a zip"), tmp_path, name="fake.zip")


def test_an_upload_keeps_its_name_and_a_lower_case_suffix_and_is_capped(real_data):
    source = real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw"
    opened = recording.open_upload("folder/Camera.RAW", io.BytesIO(source.read_bytes()), source.stat().st_size)
    [path] = opened.files
    assert opened.name == "Camera.RAW" and path.name == "Camera.raw" and opened.label(path) == "Camera.raw"
    assert describe(read_events(path))["events"] == EVT2_EVENTS
    assert opened.shown(f"{path}: is truncated") == "Camera.raw: is truncated"
    folder = opened.root
    del opened
    assert not folder.exists()                                   # the session dropped it: the folder is gone
    with pytest.raises(ValueError, match=r"big.bin: 201 MB; allowed: at most 200 MB per upload"):
        recording.open_upload("big.bin", io.BytesIO(b""), 201 * 2**20)
    with pytest.raises(ValueError, match=r"notes.txt: unknown suffix '.txt'; allowed: .bin"):
        recording.open_upload("notes.txt", io.BytesIO(b"hi"), 2)


# ------------------------------------------------------------------------------------------------ the page


def recording_page(trainer: Trainer | None = None) -> AppTest:
    """The app opened on Open a recording, with ``trainer`` as the session's model."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.session_state["trainer"] = trainer
    return app.switch_page("app_pages/recording.py").run()


def open_file(app: AppTest, path: Path | str) -> AppTest:
    app.text_input(key="recording_path").set_value(str(path)).run()
    assert not app.exception
    return app


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def titles(app: AppTest) -> list[str]:
    """Each chart's title as one line (long ones are broken with <br> to fit a narrow column)."""
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return [spec["layout"]["title"]["text"].replace("<br>", " ") for spec in specs]


@pytest.fixture(scope="module")
def nmnist_trainer(real_data) -> Trainer:
    values = with_dataset_defaults({**TINY_NMNIST, "data-dir": str(real_data / "nmnist")})
    trainer = Trainer(RunConfig().with_values(values))
    trainer.run_epoch()
    return trainer


def test_an_evt2_file_shows_its_statistics_events_and_frames(real_data):
    app = open_file(recording_page(), real_data / "dvs_recordings" / "prophesee_gen3_evt2.raw")
    assert metric(app, "events") == f"{EVT2_EVENTS:,}" and metric(app, "sensor") == "640x480"
    assert metric(app, "duration") == "50.0 ms" and not app.error
    assert titles(app) == ["Events over time", "The recording in 8 frames"]
    assert any("downsampled to 128x96" in caption.value for caption in app.caption)      # a VGA view is shrunk
    assert "No model yet" in app.info[0].value


def test_an_nmnist_file_shows_its_event_count(real_data):
    path = nmnist_file(real_data)
    app = open_file(recording_page(), path)
    assert metric(app, "events") == f"{describe(read_events(path))['events']:,}" and not app.error


def test_a_truncated_file_shows_an_error_naming_it_and_the_session_goes_on(real_data, tmp_path):
    broken = tmp_path / "broken.bin"
    broken.write_bytes(nmnist_file(real_data).read_bytes()[:1003])
    app = open_file(recording_page(), broken)
    message = shown_text(app.error[0].value)
    assert str(broken) in message and "truncated" in message and not app.metric
    open_file(app, nmnist_file(real_data))
    assert not app.error and metric(app, "events")


def test_a_zip_slip_archive_is_refused_and_a_good_archive_lists_its_files(real_data, tmp_path):
    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_bytes({"../evil.bin": nmnist_file(real_data).read_bytes()}).getvalue())
    app = open_file(recording_page(), evil)
    assert "'../evil.bin'" in shown_text(app.error[0].value) and "zip slip" in shown_text(app.error[0].value)
    good = tmp_path / "two.zip"
    first, second = nmnist_file(real_data, 1), nmnist_file(real_data, 7)
    good.write_bytes(zip_bytes({f"one/{first.name}": first.read_bytes(), f"seven/{second.name}": second.read_bytes()})
                     .getvalue())
    open_file(app, good)
    assert app.selectbox(key="recording_member").options == [f"one/{first.name}", f"seven/{second.name}"]
    assert metric(app, "events") == f"{describe(read_events(first))['events']:,}"
    app.selectbox(key="recording_member").set_value(f"seven/{second.name}").run()
    assert not app.exception and metric(app, "events") == f"{describe(read_events(second))['events']:,}"


def test_a_trained_nmnist_model_predicts_the_recording(real_data, nmnist_trainer):
    app = open_file(recording_page(nmnist_trainer), nmnist_file(real_data))
    assert not app.error and not app.warning
    [answer] = [m.value for m in app.markdown if m.value.startswith("Predicted class")]
    assert any(f"**{name}**" in answer for name in nmnist_trainer.dataset.class_names)
    assert {"Readout score per step", "conv1 spikes", "conv1 firing rate per time step"} <= set(titles(app))
    app.radio(key="recording_layer").set_value("fc1").run()
    assert not app.exception and "fc1 spikes" in titles(app)


def test_a_recording_of_another_sensor_says_why_the_model_cannot_take_it(real_data, nmnist_trainer):
    clip = sorted((real_data / "dvs128_clips_unlabeled").glob("*.bin"))[0]
    app = open_file(recording_page(nmnist_trainer), clip)
    text = app.warning[0].value
    assert "The model expects 2x34x34 frames" in text and "frames to 2x128x128" in text and "frame-size 34" in text
    assert metric(app, "sensor") == "128x128" and "Readout score per step" not in titles(app)


def test_a_fresh_clone_opens_each_bundled_sample_from_the_picker():
    app = recording_page()
    field = app.text_input(key="recording_path")
    assert field.placeholder == "e.g. data/samples/nmnist/Train/0/00002.bin" and "shared" not in field.placeholder
    assert app.selectbox(key="recording_sample").options == list(recording.SAMPLES)        # one of each format
    for name, part in recording.SAMPLES.items():
        app.selectbox(key="recording_sample").set_value(name).run()
        path = BUNDLED_SAMPLES / part
        assert not app.exception and not app.error, name
        assert app.text_input(key="recording_path").value == f"data/samples/{part}"         # the path it opened
        assert metric(app, "events") == f"{describe(read_events(path))['events']:,}", name
        assert app.selectbox(key="recording_sample").value == name
    open_file(app, "data/samples/dvs_recordings/../dvs_recordings/prophesee_gen3_evt2.raw")    # typed: same file
    assert app.selectbox(key="recording_sample").value == "Prophesee EVT 2.0 (.raw, 640x480)"
    assert metric(app, "events") == f"{EVT2_EVENTS:,}"


class Upload(io.BytesIO):
    """What st.file_uploader returns: the bytes, with the browser's file name, a size and an id."""

    def __init__(self, path: Path, name: str):
        super().__init__(path.read_bytes())
        self.name, self.size, self.file_id = name, path.stat().st_size, f"upload-{name}"


def test_an_upload_and_a_typed_path_together_say_which_one_is_shown(monkeypatch, tmp_path):
    from streamlit.delta_generator import DeltaGenerator

    uploaded = Upload(BUNDLED_SAMPLES / "dvs_recordings" / "prophesee_gen3_evt2.raw", "my_[camera].raw")
    app = recording_page()
    monkeypatch.setattr(DeltaGenerator, "file_uploader", lambda *args, **kwargs: uploaded)   # AppTest cannot upload
    nmnist = BUNDLED_SAMPLES / "nmnist" / "Train" / "0" / "00002.bin"
    open_file(app, nmnist)
    notice = shown_text(app.info[0].value)
    assert notice.startswith(f"Showing the upload **my_[camera].raw**; the path **{nmnist}** is not used")
    assert "my\\_\\[camera\\]" in app.info[0].value                         # the name is escaped, not Markdown
    assert metric(app, "events") == f"{EVT2_EVENTS:,}" and not app.error     # the upload is what is shown
    open_file(app, "")
    assert not [info for info in app.info if "Showing the upload" in info.value]
    assert metric(app, "events") == f"{EVT2_EVENTS:,}"


def test_a_digits_model_cannot_take_a_recording(real_data, tiny):
    app = open_file(recording_page(Trainer(tiny())), nmnist_file(real_data))
    assert "trained on digits: static images" in app.warning[0].value


def test_a_highly_compressed_member_is_refused_from_the_directory_before_extracting(tmp_path):
    import hostile_files

    bomb = hostile_files.zip_bomb(tmp_path)                       # 1 GiB of zeros, about 5 MB on disk
    with pytest.raises(ValueError, match=r"'bomb.bin' states 1,024 MB compressed .* to 1 .*at most 100 to 1"):
        recording.extract_zip(bomb, tmp_path / "out")
    assert not (tmp_path / "out" / "bomb.bin").exists()
