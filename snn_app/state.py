"""Session state: what one browser session owns (config, trainer, its live run and twin), in one place.

The model being trained lives here, never in a global cache: caches are shared between users.
"""
from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable

import streamlit as st

from snn_core.config.check import check
from snn_core.config.run_config import RunConfig

from . import challenges, sidebar, url_state
from .live import LiveRun

FIGURE_MEMO_SIZE = 48      # built figures kept per session


def owner() -> str:
    """This session's token in the server-wide memory ledger (``snn_core.config.budget.LEDGER``): its own reservations
    are named to it in a refusal, other sessions' only counted."""
    return st.session_state.setdefault("admission_owner", uuid.uuid4().hex)


def start_session() -> None:
    """Defaults for every key; on a session's first run, settings come from the URL.

    A link whose settings cannot run together still fills the sidebar (which lists the problems),
    while the session runs the defaults until they are fixed. A challenge's link from Home is applied
    even in an open session: the user asked for its settings by clicking it."""
    first_run = "config" not in st.session_state
    params = st.query_params.to_dict()
    if first_run:
        st.session_state.trainer = None
        st.session_state.live = LiveRun()
    elif url_state.CHALLENGE not in params:
        return
    _open_link(params)


def _open_link(params: dict) -> None:
    """The URL's settings into the sidebar's widgets, the session's config and its classroom mode."""
    cfg, notices = url_state.decode(params)
    classroom, challenge, app_notices = url_state.app_settings(params)
    sidebar.seed_widgets(cfg)
    sidebar.set_classroom(classroom)
    st.session_state.config = RunConfig() if check(cfg) else cfg
    st.session_state.url_notices = notices + app_notices
    st.session_state.challenge = challenge
    live_run().pause()                        # a run in progress pauses: the new settings are for a new one


def live_run() -> LiveRun:
    """The session's live run (``snn_app.live``), following ``st.session_state.trainer``: a run replaced elsewhere
    (Home's quick start, a model opened from a file, Reset) pauses the old one and starts fresh logs."""
    live = st.session_state.setdefault("live", LiveRun())
    live.attach(st.session_state.get("trainer"))
    return live


def publish_config(cfg: RunConfig) -> None:
    """Make ``cfg`` the session's config and mirror it (and the classroom mode) in the URL, re-written on every
    run: Streamlit clears query parameters when the user navigates between pages."""
    st.session_state.config = cfg
    wanted = url_state.encode(cfg, classroom=sidebar.classroom())
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def show_url_notices() -> None:
    """The link's notices, each escaped (``url_state.escape_markdown``): they quote the link's own text, which
    must show as text, never as a link or an image (``?[click](http://evil.example)=1``)."""
    notices = st.session_state.url_notices
    if notices:
        items = "\n".join(f"- {url_state.escape_markdown(n)}" for n in notices)
        st.warning("The link had settings that could not be used:\n\n" + items)
        if st.button("Dismiss", key="dismiss_url_notices"):
            st.session_state.url_notices = []
            st.rerun()


def show_challenge(page_title: str) -> None:
    """The banner of the challenge the user opened from Home, on its page (``challenges.banner``)."""
    challenges.banner(page_title)


def memo_figure(key: Hashable, build: Callable):
    """The figure ``build()`` makes, kept per session under ``key`` (what it shows, e.g. run and epoch).

    Building a Plotly figure costs ~30 ms (every property is validated); re-sending a built one ~2 ms.
    ``st.cache_data`` would return a pickled copy, and unpickling re-validates (~17 ms), so figures are
    kept here, uncopied, least recently used first out (benchmarks/app_refresh.py measures the effect).
    """
    memo = st.session_state.setdefault("figure_memo", OrderedDict())
    if key in memo:
        memo.move_to_end(key)
    else:
        memo[key] = build()
        while len(memo) > FIGURE_MEMO_SIZE:
            memo.popitem(last=False)
    return memo[key]
