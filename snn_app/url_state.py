"""The run config in the page URL: one loop writes it, one loop reads it back (TF Playground's idea).

Only fields that differ from the defaults are written, by their CLI names, so a shared link is
short and readable (``?dataset=events-shape&arch=conv&T=4``). Reading never fails: a value that
is unknown or invalid is dropped, the default is kept, and a notice says what happened. The link's
values are applied all at once (one value on its own is tried only when the whole set fails), so a
rule across fields (``snn_core.config.check``) is judged on the whole link, never on a half-applied
one; each problem it finds gets a notice too.

A link is anyone's text: notices quote its keys and values cut to ``SHOWN_LENGTH`` characters, and
whatever shows a notice passes it through ``escape_markdown`` so that it reads as text, never as a
link, an image or formatting.

Two link parameters are the app's, not the run's: ``mode=class`` opens the sidebar in classroom (Basic) mode
(absent: Advanced), and ``challenge=<key>`` marks a guided challenge's link from Home (``snn_app.pages``), whose
settings are applied even in a session that is already open.
"""
from __future__ import annotations

from collections.abc import Mapping

from snn_core.config.check import check
from snn_core.config.run_config import ALIASES, RunConfig, cli_index

from .pages import CHALLENGES
from .text import escape_markdown  # noqa: F401 - notices are escaped with it (state.py, tests)

MODE = "mode"                 # ?mode=class: the sidebar shows the classroom (Basic) settings
CLASSROOM = "class"
CHALLENGE = "challenge"       # ?challenge=<key>: a link from Home's guided challenges
APP_PARAMS = (MODE, CHALLENGE)
SHOWN_LENGTH = 60             # characters of a link's key or value quoted in a notice
def _quoted(text: str) -> str:
    """A link's key or value as a notice quotes it: repr, cut to ``SHOWN_LENGTH``."""
    shown = repr(text)
    return shown if len(shown) <= SHOWN_LENGTH else shown[:SHOWN_LENGTH - 1] + "…"


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def encode(cfg: RunConfig, classroom: bool = False) -> dict[str, str]:
    """Query parameters for ``cfg``: CLI name -> text, non-default fields only (and ``mode=class`` in Basic)."""
    default = RunConfig()
    params = {MODE: CLASSROOM} if classroom else {}
    for cli, (section, fld) in sorted(cli_index().items()):
        value = getattr(getattr(cfg, section), fld.name)
        if value != getattr(getattr(default, section), fld.name):
            params[cli] = _text(value)
    return params


def decode(params: Mapping[str, str | list[str]]) -> tuple[RunConfig, list[str]]:
    """The config a URL describes, with one notice per value that could not be used and one per
    problem of the settings together (the config is then the link's, for the sidebar to show, and
    ``check`` of it is not empty).

    Every known value is applied at once; only if that fails is each value tried alone (on the defaults, where
    no other field can make it fail) to say which ones are dropped, and the rest are applied together."""
    values, notices = {}, []
    index = cli_index()
    for key, raw in params.items():
        if key in APP_PARAMS:                             # the app's own (see ``app_settings``)
            continue
        if key not in index and key not in ALIASES:       # an alias such as K works as in the CLI
            notices.append(f"Ignored unknown link setting {_quoted(key)}.")
            continue
        values[key] = _last(raw)
    try:
        cfg = RunConfig().with_values(values)
    except ValueError:
        values = {key: value for key, value in values.items() if _usable(key, value, notices)}
        cfg = RunConfig().with_values(values)
    notices += [f"The link's settings cannot run together: {problem}" for problem in check(cfg)]
    return cfg, notices


def _usable(key: str, value: str, notices: list[str]) -> bool:
    """Whether ``key=value`` is valid on its own; if not, a notice says so (and the default is kept)."""
    try:
        RunConfig().with_values({key: value})
    except ValueError as problem:
        notices.append(f"Link setting {key}={_quoted(value)} is not valid, so the default is used ({problem}).")
        return False
    return True


def _last(raw: str | list[str]) -> str:
    """A repeated parameter's last value (``?T=2&T=6`` means T=6); an empty list is an empty value."""
    if isinstance(raw, list):
        return raw[-1] if raw else ""
    return raw


def app_settings(params: Mapping[str, str | list[str]]) -> tuple[bool, str | None, list[str]]:
    """The link's app parameters: (classroom mode?, the challenge's key or None, a notice per bad value)."""
    notices = []
    mode = _last(params.get(MODE, ""))
    if mode not in ("", CLASSROOM):
        notices.append(f"Link setting {MODE}={_quoted(mode)} is not valid, so the Advanced settings are shown; "
                       f"allowed: {MODE}={CLASSROOM} (classroom mode), or no {MODE} (Advanced).")
    key = _last(params.get(CHALLENGE, "")) or None
    known = [item.key for item in CHALLENGES]
    if key is not None and key not in known:
        notices.append(f"Link setting {CHALLENGE}={_quoted(key)} is not a challenge, so none is shown; allowed: "
                       f"{', '.join(known)}.")
        key = None
    return mode == CLASSROOM, key, notices


def challenge_params(key: str, classroom: bool = False) -> dict[str, str]:
    """The query parameters of a challenge's link: its settings (over the defaults), the mode, and its key."""
    item = next(c for c in CHALLENGES if c.key == key)
    return {**encode(RunConfig().with_values(dict(item.settings)), classroom), CHALLENGE: key}
