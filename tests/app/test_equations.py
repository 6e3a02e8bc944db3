"""Each equation once: every LaTeX constant of snn_core (``*_EQUATIONS``, ``*_LATEX``) is rendered by a page."""
import importlib
import pkgutil
import re

import snn_core
from app_runner import ROOT, open_script

NAME = re.compile(r"[A-Z0-9_]*(_EQUATIONS|_LATEX)$")


def equation_constants() -> dict[str, str]:
    """``module.NAME`` -> LaTeX of every equation constant, each counted in the module that defines it."""
    found = {}
    for module in pkgutil.walk_packages(snn_core.__path__, "snn_core."):
        if module.name.endswith("__main__"):
            continue
        namespace = vars(importlib.import_module(module.name))
        for name, value in namespace.items():
            if NAME.match(name) and isinstance(value, str) and value not in found.values():
                found[f"{module.name}.{name}"] = value
    return found


def rendered_equations() -> set[str]:
    """The LaTeX that the pages using ``st.latex`` show on their first run, before anything is trained."""
    shown = set()
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        if "st.latex(" in page.read_text():
            at = open_script(f"app_pages/{page.name}", timeout=120)
            assert not at.exception, page.name
            shown |= {element.value.removeprefix("$$\n").removesuffix("\n$$") for element in at.latex}   # $$ added
    return shown


def test_every_equation_constant_is_shown_on_a_page():
    constants = equation_constants()
    names = {name.rsplit(".", 1)[1] for name in constants}
    assert {"LIF_EQUATIONS", "CUBA_EQUATIONS", "LOSS_LATEX", "CI_LATEX"} <= names
    shown = rendered_equations()
    missing = [name for name, latex in constants.items() if latex not in shown]
    assert not missing, f"not rendered by any page (render it with st.latex near its figure, or delete it): {missing}"
