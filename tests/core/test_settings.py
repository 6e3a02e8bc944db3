"""The SNN_* environment settings: one record each, read and refused one way, all checked at once, and README's
table generated from them."""
import re
from pathlib import Path

import pytest

from snn_core import settings

ROOT = Path(__file__).resolve().parents[2]
MEGABYTES = [s for s in settings.SETTINGS if isinstance(s.kind, settings.Megabytes)]


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Environment settings\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_readme_lists_exactly_the_settings_with_the_generated_table():
    section = readme_section()
    listed = set(re.findall(r"^\| `(SNN_[A-Z_]+)` \|", section, flags=re.M))
    assert listed == {s.name for s in settings.SETTINGS}
    assert settings.describe() in section, 'regenerate: python -c "from snn_core import settings; ' \
                                           'print(settings.describe())"'


def test_every_variable_the_code_reads_is_a_setting():
    """No module reads an SNN_* variable past the settings: each name in the engine is one of them."""
    named = set()
    for path in (ROOT / "snn_core").rglob("*.py"):
        named |= set(re.findall(r"\bSNN_[A-Z_]+[A-Z]\b", path.read_text()))
    assert named == {s.name for s in settings.SETTINGS}


def test_unset_or_blank_is_the_default():
    for setting in settings.SETTINGS:
        assert settings.read(setting, {}) == settings.read(setting, {setting.name: "  "}) == setting.default
    assert settings.check_all({}) == []


@pytest.mark.parametrize("setting", MEGABYTES, ids=lambda s: s.name)
@pytest.mark.parametrize("text", ["lots", "nan", "inf", "-inf", "-1", "1e999"])
def test_a_size_is_a_finite_number(setting, text):
    with pytest.raises(ValueError, match=rf"^{setting.name}='{re.escape(text)}' is not {setting.is_not}; allowed: "
                                         rf"{re.escape(setting.allowed)}, or unset for "):
        settings.read(setting, {setting.name: text})
    assert settings.read(setting, {setting.name: " 2.5 "}) == 2.5


@pytest.mark.parametrize("setting", MEGABYTES, ids=lambda s: s.name)
def test_zero_is_allowed_where_it_means_something(setting):
    if setting.kind.zero:
        assert settings.read(setting, {setting.name: "0"}) == 0
    else:
        with pytest.raises(ValueError, match="positive number of megabytes"):
            settings.read(setting, {setting.name: "0"})


def test_counts_are_ascii_digits_within_their_range():
    threads, workers = settings.THREADS, settings.LOADER_WORKERS
    assert settings.read(threads, {threads.name: "256"}) == 256 and settings.read(workers, {workers.name: "0"}) == 0
    for text in ("0", "257", "-1", "2.0", "two", "²", "9" * 5000):
        with pytest.raises(ValueError, match=r"SNN_THREADS='.*' is not valid; allowed: an integer 1\.\.256, "
                                             r"or unset for 1$"):
            settings.read(threads, {threads.name: text})
    with pytest.raises(ValueError, match="SNN_LOADER_WORKERS='two' is not valid; allowed: a whole number of worker "
                                         r"processes >= 0 \(0 = read in the training process\)"):
        settings.read(workers, {workers.name: "two"})


def test_a_long_bad_value_is_cut_in_the_message():
    problem = str(pytest.raises(ValueError, settings.read, settings.THREADS, {"SNN_THREADS": "x" * 10_000}).value)
    assert "'" + "x" * (settings.SHOWN - 1) + "…'" in problem and len(problem) < 200


def test_folders_and_the_flag_take_any_text():
    assert settings.read(settings.FRAME_CACHE_DIR, {"SNN_FRAME_CACHE_DIR": "/tmp/x"}) == Path("/tmp/x")
    assert settings.read(settings.DATA_DIR, {"SNN_DATA_DIR": "~/data"}) == Path("~/data")   # expanded by its reader
    assert settings.read(settings.TRACEBACK, {"SNN_TRACEBACK": "0"}) is True                # set is on


def test_check_all_names_every_bad_setting_in_order():
    environ = {"SNN_THREADS": "many", "SNN_MEMORY_BUDGET_MB": "0", "SNN_DATA_CACHE_MB": "12", "OTHER": "x"}
    problems = settings.check_all(environ)
    assert [p.split("=")[0] for p in problems] == ["SNN_MEMORY_BUDGET_MB", "SNN_THREADS"]
    assert problems[0] == ("SNN_MEMORY_BUDGET_MB='0' is not a memory budget; allowed: a positive number of megabytes "
                           "(e.g. 8000), or unset for half the machine's memory")
