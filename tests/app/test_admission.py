"""Admission control: one memory budget for every session of the server together (``snn_core.config.budget``).

The ledger alone (thread-safe, waits, refusals that say what is reserved and what to lower, releases by replacement
and by garbage collection), then the pages under AppTest with a fresh ledger of a small budget: a run or a file that
does not fit is refused with a visible message, the session goes on, and the run it replaces counts as free."""
import gc
import threading
import time
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from app_runner import ROOT, open_script, shown_text
from snn_core.config import budget as admission
from snn_core.config.budget import MB, AdmissionRefused, Ledger
from snn_core.data.folders import BUNDLED_SAMPLES

SAMPLE = BUNDLED_SAMPLES / "nmnist" / "Train" / "0" / "00002.bin"
PAGE = {"epochs": 2, "train-samples": 200, "test-samples": 60, "hidden": 32}


# ------------------------------------------------------------------------------------------------ the ledger


def test_reservations_fit_the_budget_together_and_a_refusal_names_what_is_reserved():
    ledger = Ledger(budget=1000 * MB)
    mine = ledger.reserve(300 * MB, "this session's run (digits)", owner="me")
    ledger.reserve(400 * MB, "their run (secret name)", owner="them")
    ledger.reserve(100 * MB, "their recording (secret.bin)", kind="recording", owner="them")
    assert ledger.reserved == 800 * MB
    with pytest.raises(AdmissionRefused) as refused:
        ledger.reserve(300 * MB, "this session's twin", owner="me", lower="batch-size or T")
    text = str(refused.value)
    assert isinstance(refused.value, ValueError)
    assert "800 MB of the 1,000 MB budget" in text and "200 MB left" in text and "about 300 MB" in text
    assert "this session's run (digits) 300 MB" in text                     # its own: by name
    assert "1 run of other sessions 400 MB" in text and "1 recording of other sessions 100 MB" in text
    assert "secret" not in text                                               # others': counted, never named
    assert "lower batch-size or T" in text and "SNN_MEMORY_BUDGET_MB" in text
    assert ledger.reserved == 800 * MB                                        # a refusal reserves nothing
    mine.release()
    mine.release()                                                            # idempotent
    assert ledger.reserved == 500 * MB


def test_a_replacement_counts_the_run_it_replaces_as_free():
    ledger = Ledger(budget=1000 * MB)
    ledger.reserve(400 * MB, "other", owner="them")
    old = ledger.reserve(500 * MB, "run", owner="me")
    with pytest.raises(AdmissionRefused):
        ledger.reserve(550 * MB, "run", owner="me")
    new = ledger.reserve(550 * MB, "run", owner="me", replaces=old)          # 400 + 550 fit once 500 is free
    old.release()
    assert ledger.reserved == 950 * MB and new in ledger.held() and old not in ledger.held()


def test_a_reservation_waits_for_a_release_then_is_granted():
    ledger = Ledger(budget=100)
    first = ledger.reserve(80, "first")
    threading.Timer(0.2, first.release).start()
    started = time.monotonic()
    second = ledger.reserve(50, "second", wait=5)
    assert 0.1 < time.monotonic() - started < 4 and ledger.held() == [second]


def test_an_attached_reservation_is_released_when_its_object_is_collected():
    class Run:
        def __init__(self):
            self.me = self                        # a cycle, as a Trainer has: freed only by the collector

    ledger = Ledger(budget=100)
    run = Run()
    ledger.reserve(90, "run").attach(run)
    del run
    assert ledger.reserve(90, "next").nbytes == 90       # refused at first sight: the ledger collects ended runs


def test_many_threads_never_reserve_more_than_the_budget():
    ledger, most, errors = Ledger(budget=10 * MB), [0], []
    guard = threading.Lock()

    def worker():
        for _ in range(200):
            try:
                with ledger.reserve(3 * MB, "run", wait=0.01):
                    with guard:
                        most[0] = max(most[0], ledger.reserved)
            except AdmissionRefused:
                pass
            except Exception as problem:         # noqa: BLE001
                errors.append(problem)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and most[0] <= 9 * MB and ledger.reserved == 0


# ------------------------------------------------------------------------------------------------ the pages


@pytest.fixture
def ledger(monkeypatch):
    """A fresh server-wide ledger of 50 MB (a tiny run needs about 1 MB); the wait is kept short."""
    fresh = Ledger(budget=50 * MB)
    monkeypatch.setattr(admission, "LEDGER", fresh)
    monkeypatch.setattr(admission, "WAIT_SECONDS", 0.05)
    return fresh


def test_a_run_that_does_not_fit_beside_other_sessions_is_refused_and_the_session_goes_on(tiny_values, ledger):
    others = ledger.reserve(49.9 * MB, "another session's run", owner="another session")
    at = open_script("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.trainer is None
    message = shown_text(at.error[0].value)
    assert message.startswith("Cannot train with these settings: the server's memory budget is shared")
    assert "1 run of other sessions 50 MB" in message and "batch size" in message.lower()
    others.release()
    at.button(key="step").click().run()                    # room again: the same session trains
    assert not at.error and at.session_state.trainer.steps == 1
    assert [r.kind for r in ledger.held()] == ["run"] and ledger.held()[0].owner == at.session_state.admission_owner


def test_reset_near_the_budget_replaces_the_run_and_a_dropped_twin_gives_its_memory_back(tiny_values, tiny, ledger):
    need = admission.run_bytes(tiny(PAGE))
    filler = ledger.reserve(ledger.budget() - int(1.5 * need), "another session", owner="another session")
    at = open_script("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    first = at.session_state.trainer
    at.button(key="reset").click().run()                    # old + new would not fit; the new replaces the old
    assert not at.error and at.session_state.trainer is not first
    assert sum(r.nbytes for r in ledger.held() if r.kind == "run") == filler.nbytes + need
    at.toggle(key="twin_on").set_value(True).run()          # a twin needs as much again: refused, the run goes on
    assert "No twin with this setting" in at.error[0].value and "does not fit now" in shown_text(at.error[0].value)
    at.toggle(key="twin_on").set_value(False).run()
    filler.release()
    at.toggle(key="twin_on").set_value(True).run()         # switched on again: tried again, and now it fits
    at.button(key="step").click().run()
    assert not at.error and at.session_state.live.twin is not None and len(ledger.held()) == 2
    at.toggle(key="twin_on").set_value(False).run()
    assert len(ledger.held()) == 1                          # the twin's reservation went with it


def recording_page() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    return app.switch_page("app_pages/recording.py").run()


def test_opening_a_file_reserves_its_decoded_size_and_a_refusal_is_shown(ledger):
    app = recording_page()
    blocker = ledger.reserve(ledger.budget() - SAMPLE.stat().st_size, "another session", owner="another session")
    app.text_input(key="recording_path").set_value(str(SAMPLE)).run()
    assert not app.exception
    assert "Cannot open it: the server" in shown_text(app.error[0].value)
    assert "1 run of other sessions" in shown_text(app.error[0].value)
    blocker.release()
    app.run()
    assert not app.error and [r.kind for r in ledger.held()] == ["recording"]
    assert ledger.held()[0].nbytes == SAMPLE.stat().st_size * 16
    app.text_input(key="recording_path").set_value("").run()
    gc.collect()
    assert ledger.held() == []                              # closed: given back


def test_file_and_member_names_show_as_text_never_as_links_or_images(tmp_path, ledger):
    hostile = "[x](http://evil/img.png)"
    archive = tmp_path / "![y](evil.png).zip"                # a member name may hold "/", a file name not
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(f"{hostile}.bin", SAMPLE.read_bytes())
        out.writestr("**bold** <b>x</b>.bin", SAMPLE.read_bytes())
    app = recording_page()
    app.text_input(key="recording_path").set_value(str(archive)).run()
    assert not app.exception and not app.error
    member = next(option for option in app.selectbox(key="recording_member").options if option.startswith("[x]"))
    app.selectbox(key="recording_member").set_value(member).run()
    label = app.selectbox(key="recording_member").label
    rendered = [label, *(c.value for c in app.caption), *(m.value for m in app.markdown), *(i.value for i in app.info)]
    assert "![y](evil.png).zip" in shown_text(label)
    assert member in shown_text(" ".join(c.value for c in app.caption))
    for text in rendered:
        assert "](evil" not in text
        assert "](http" not in text and "![" not in text and "<b>" not in text and "**bold**" not in text
