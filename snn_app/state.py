"""Session state: what one browser session owns (config, trainer, play flag, step log), in one place.

The model being trained lives here, never in a global cache: caches are shared between users.
"""
from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

import streamlit as st

from snn_core.config.check import check
from snn_core.config.run_config import RunConfig

from . import sidebar, url_state

STEP_LOG_LENGTH = 5000     # per-step training losses kept for the live chart
FIGURE_MEMO_SIZE = 48      # built figures kept per session


def start_session() -> None:
    """Defaults for every key; on a session's first run, settings come from the URL.

    A link whose settings cannot run together still fills the sidebar (which lists the problems),
    while the session runs the defaults until they are fixed."""
    if "config" in st.session_state:
        return
    cfg, notices = url_state.decode(st.query_params.to_dict())
    sidebar.seed_widgets(cfg)
    st.session_state.config = RunConfig() if check(cfg) else cfg
    st.session_state.url_notices = notices
    st.session_state.trainer = None
    st.session_state.running = False
    st.session_state.step_log = deque(maxlen=STEP_LOG_LENGTH)


def publish_config(cfg: RunConfig) -> None:
    """Make ``cfg`` the session's config and mirror it in the URL (re-written on every run:
    Streamlit clears query parameters when the user navigates between pages)."""
    st.session_state.config = cfg
    wanted = url_state.encode(cfg)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def show_url_notices() -> None:
    notices = st.session_state.url_notices
    if notices:
        st.warning("The link had settings that could not be used:\n\n" + "\n".join(f"- {n}" for n in notices))
        if st.button("Dismiss", key="dismiss_url_notices"):
            st.session_state.url_notices = []
            st.rerun()


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
