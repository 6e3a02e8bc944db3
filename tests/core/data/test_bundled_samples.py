"""The real recordings bundled with the repository (data/samples, its SOURCES.md): every file is there with the
checksum SHA256SUMS.txt states, N-MNIST is in the layout ``nmnist_files`` reads, and a fresh clone (nothing
fetched, no data/nmnist) trains ``nmnist`` on the bundle with an empty data folder."""
import hashlib

import pytest

from snn_core.config.run_config import RunConfig, with_dataset_defaults
from snn_core.data import load_dataset, readers
from snn_core.data.folders import BUNDLED_SAMPLES, NMNIST_CLASSES, nmnist_files, resolve_root
from snn_core.training.trainer import Trainer

PER_DIGIT = 20
FORMATS = {"dvs_recordings/prophesee_gen3_evt2.raw": "evt2", "dvs_recordings/prophesee_gen41_evt3.raw": "evt3",
           "dvs_recordings/inivation_320x240.aedat4": "aedat4",
           "dvs_recordings/prophesee_gen41_evt3_decoded.npy": "npy",
           "dvs128_clips_unlabeled/clip_01.bin": "nmnist-bin", "nmnist/Train/0/00002.bin": "nmnist-bin"}
MAX_MB = 12.5                   # the bundle travels with every clone: keep it small


def listed() -> dict[str, str]:
    """SHA256SUMS.txt as {path relative to data/samples: sha256}."""
    lines = (BUNDLED_SAMPLES / "SHA256SUMS.txt").read_text().splitlines()
    return {name.removeprefix("./"): digest for digest, name in (line.split(maxsplit=1) for line in lines if line)}


def test_every_listed_file_is_there_with_its_checksum_and_nothing_else_is():
    sums = listed()
    assert len(sums) == 10 * PER_DIGIT + 6                     # N-MNIST, four camera files, a clip and its label row
    for name, digest in sums.items():
        assert hashlib.sha256((BUNDLED_SAMPLES / name).read_bytes()).hexdigest() == digest, name
    present = {str(p.relative_to(BUNDLED_SAMPLES)) for p in BUNDLED_SAMPLES.rglob("*") if p.is_file()}
    assert present - set(sums) == {"SHA256SUMS.txt", "SOURCES.md"}
    assert sum((BUNDLED_SAMPLES / name).stat().st_size for name in present) < MAX_MB * 2**20


def test_nmnist_has_twenty_recordings_per_digit_in_its_release_layout():
    files = nmnist_files(BUNDLED_SAMPLES / "nmnist")
    assert files.class_names == NMNIST_CLASSES and not files.test         # Train/<digit>/*.bin, no Test/
    assert len(files.train) == 10 * PER_DIGIT
    for label, digit in enumerate(NMNIST_CLASSES):
        paths = [path for path, of in files.train if of == label]
        assert len(paths) == PER_DIGIT and all(p.parent.name == digit and p.stem.isdigit() for p in paths)
    assert (BUNDLED_SAMPLES / "nmnist" / "Train" / "0" / "00002.bin").is_file()    # MNIST training image 2, a zero


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_recording_format_reads(name):
    recording = readers.read_events(BUNDLED_SAMPLES / name)
    assert recording.format == FORMATS[name] and len(recording.events) > 1000


def test_a_fresh_clone_trains_nmnist_on_the_bundle_with_an_empty_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "fetched"))      # nothing fetched
    monkeypatch.chdir(tmp_path)                                          # no data/nmnist under the working folder
    assert resolve_root("", "nmnist") == BUNDLED_SAMPLES / "nmnist"
    values = with_dataset_defaults({"dataset": "nmnist", "data-dir": "", "T": 4, "epochs": 1, "channels": "4,8",
                                    "train-samples": 40, "test-samples": 20, "batch-size": 20, "data-seed": 17})
    load_dataset.cache_clear()
    trainer = Trainer(RunConfig().with_values(values), device="cpu")
    assert f"from {BUNDLED_SAMPLES / 'nmnist'}:" in trainer.dataset.source
    assert "36 training, 4 validation and 20 test recordings" in trainer.dataset.source
    record = trainer.run_epoch()
    assert trainer.finished and 0.0 <= record.test_accuracy <= 1.0
    load_dataset.cache_clear()


def test_the_bundle_is_documented():
    sources = (BUNDLED_SAMPLES / "SOURCES.md").read_text()
    for needed in ("slayerPytorch", "expelliarmus", "neuromorphs/tonic", "GPL-3.0", "GPL-2.0", "N-MNIST",
                   "INFERRED-UNVERIFIED", "01beeeb6a181546d6c6830382ce6086bfc587836"):
        assert needed in sources, needed
