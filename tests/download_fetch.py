"""Fetching a download button's file in an AppTest as the browser would (tests/app/test_downloads*.py)."""
import threading

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.testing.v1 import app_test


def keep_media_managers(monkeypatch) -> list[MediaFileManager]:
    """The media file managers AppTest makes for its runs (a new one per run), kept to fetch the buttons' files."""
    managers = []

    def kept(storage):
        managers.append(MediaFileManager(storage))
        return managers[-1]

    monkeypatch.setattr(app_test, "MediaFileManager", kept)
    return managers


def fetched(manager: MediaFileManager, button) -> bytes:
    """A button's file as the browser gets it: a lazy one built on a thread of its own with no script context (as
    Streamlit's download thread builds it: ``st.session_state`` is not there), an eager one read back; a failed
    build raises ``MediaFileStorageError`` (what the button's red note reports)."""
    url = button.proto.url
    if button.proto.deferred_file_id:
        outcome = {}

        def download():
            try:
                outcome["url"] = manager.execute_deferred(button.proto.deferred_file_id)
            except MediaFileStorageError as problem:
                outcome["problem"] = problem

        thread = threading.Thread(target=download)
        thread.start()
        thread.join()
        if "problem" in outcome:
            raise outcome["problem"]
        url = outcome["url"]
    return manager.read_file(url.rsplit("/", 1)[1].split(".")[0]).content
