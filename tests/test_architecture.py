"""The house's import rules, read from the source with ``ast`` (nothing is imported): no import cycle, no private
name taken from another module, the rooms of ``snn_core`` import one way, and methods stay out of training/network.

Every ``import`` counts, at module level or inside a function (a lazy import still couples two modules), except
those under ``if TYPE_CHECKING:``, which never run.
"""
import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("snn_core", "snn_app", "snn_viz")
UI = ("streamlit", "plotly", "snn_app", "snn_viz")

# room -> the other snn_core rooms it may import (read the table bottom-up: each room sits on those before it).
# Top-level modules (checkpoint, runtime, files, settings, cli, __main__) are rooms of their own; "__init__" is the
# lazy public API. settings (the SNN_* environment variables) sits below every room that reads one.
LOWER = {"neurons", "network", "metrics", "data", "config", "runtime", "files", "hdf5_safety", "settings", "fields"}
MAY_IMPORT = {
    "settings": set(),                                          # the standard library only
    "fields": set(),                                            # a setting's spec: below the config and the methods
    "neurons": set(),                                           # pure maths
    "data": {"files", "hdf5_safety", "settings"},               # files: atomic writes and pruning of its disk cache;
                                                                # hdf5_safety: SHD files checked before they are read
    "runtime": {"settings"},
    "files": {"settings"},
    "hdf5_safety": {"files"},                                   # h5py: every HDF5 file is checked there (files: the
                                                                # decode limit it shares with the event readers)
    "network": {"neurons"},
    "metrics": {"neurons", "network"},
    # config reads choice lists from the registries and limits from the engines (CONFIG_MAY_IMPORT says which)
    "config": {"neurons", "network", "methods", "data", "settings", "fields"},
    "methods": LOWER,                                           # config: presets build configs, the registry checks
    "checkpoint": LOWER | {"methods"},
    "training": LOWER | {"methods", "checkpoint"},              # methods: hooks and the registry only (see below)
    "results": LOWER | {"methods", "checkpoint", "training"},  # typed run results, the table of runs, statistics
    "experiments": LOWER | {"methods", "checkpoint", "training", "results"},
    "report": LOWER | {"methods", "checkpoint", "training", "results", "experiments"},
    "interop": LOWER | {"methods", "checkpoint"},                # NIR export/import of saved models
    "cli": LOWER | {"methods", "checkpoint", "training", "results", "experiments", "report", "interop"},
    "__main__": {"cli"},
    "__init__": set(),                                          # names load lazily through importlib
}
CONFIG_MAY_IMPORT = {   # config is the one room that looks down into specific modules: these, and no others
    "snn_core.config.run_config": {"snn_core.neurons.registry", "snn_core.neurons.spike", "snn_core.network.encoders",
                                   "snn_core.network.readout", "snn_core.methods.engines",
                                   "snn_core.methods.catalogue", "snn_core.methods.method", "snn_core.data",
                                   "snn_core.data.framing"},
    "snn_core.config.check": {"snn_core.data", "snn_core.methods.catalogue"},       # each method's rules
    # a real dataset's frames are in memory only with the frame cache off: the estimate asks the cache's cap
    "snn_core.config.budget": {"snn_core.data", "snn_core.data.frame_cache", "snn_core.methods.catalogue"},
}
TOP_LEVEL_BELOW_ALL = {"snn_core.fields", "snn_core.settings", "snn_core.files"}   # any room may read these
METHOD_ROOMS = ("training", "network")                           # name no method: hooks and the registry only
METHODS_DIR = ROOT / "snn_core" / "methods"
ANY_METHOD = tuple(f"snn_core.methods.{path.parent.name}" for path in sorted(METHODS_DIR.glob("*/__init__.py")))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    return name.endswith("TYPE_CHECKING")


def import_nodes(tree: ast.AST, type_checking: bool):
    """Every Import/ImportFrom below ``tree``, skipping ``if TYPE_CHECKING:`` bodies unless ``type_checking``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        if isinstance(child, ast.If) and is_type_checking(child.test) and not type_checking:
            for node in child.orelse:
                yield from import_nodes(ast.Module(body=[node], type_ignores=[]), type_checking)
            continue
        yield from import_nodes(child, type_checking)


@cache
def imports(module: str, type_checking: bool = False) -> tuple[tuple[str, str | None, int], ...]:
    """``(imported module, name taken from it or None, line)`` for each import in ``module``, resolved to absolute
    names; ``from package import submodule`` names the submodule."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in import_nodes(ast.parse(path.read_text()), type_checking):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
            continue
        base = ".".join([*package[:len(package) - node.level + 1], *filter(None, [node.module])]) if node.level \
            else node.module
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.append((submodule, None, node.lineno) if submodule in MODULES else (base, alias.name, node.lineno))
    return tuple(found)


def edges(module: str) -> set[str]:
    """The first-party modules that ``module`` imports."""
    return {target for target, _, _ in imports(module) if target.split(".")[0] in PACKAGES}


def hinted_edges(module: str) -> set[str]:
    """``edges``, plus the modules imported for type hints only."""
    return {target for target, _, _ in imports(module, type_checking=True) if target.split(".")[0] in PACKAGES}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def core_modules() -> list[str]:
    return [module for module in MODULES if module.split(".")[0] == "snn_core"]


def test_the_graph_covers_every_module_and_resolves_every_first_party_import():
    assert len(core_modules()) > 50 and {"snn_app.sidebar", "snn_viz.sample_figures"} <= set(MODULES)
    unknown = {f"{module} -> {target}" for module in MODULES for target in edges(module) if target not in MODULES}
    assert not unknown


def test_no_import_cycle_even_through_type_hint_imports():
    """Depth-first search over the module graph, ``if TYPE_CHECKING:`` imports included (a loop of hints is a loop of
    knowledge: the rooms below the config name it through ``fields.Config``); a module met again while still on the
    path closes a cycle."""
    done, path, cycles = set(), [], []

    def visit(module: str) -> None:
        path.append(module)
        for target in sorted(hinted_edges(module)):
            if target in path:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in done:
                visit(target)
        path.pop()
        done.add(module)

    for module in MODULES:
        if module not in done:
            visit(module)
    assert not cycles, cycles


def test_no_module_imports_a_private_name_of_another_module():
    taken = [f"{module}:{line} takes {name} from {target}" for module in MODULES
             for target, name, line in imports(module)
             if name and name.startswith("_") and not name.startswith("__")]
    assert not taken, "make the name public in its module, with a docstring, or move it where both use it"


def test_tests_use_public_names_only():
    """The tests import public names of the three packages too (``snn_core._EXPORTS`` is read, not imported)."""
    taken = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                taken += [f"{path.relative_to(ROOT)}: {alias.name} from {node.module}" for alias in node.names
                          if alias.name.startswith("_")]
    assert not taken


def test_every_room_is_in_the_table():
    assert {room(module) for module in core_modules()} == set(MAY_IMPORT)


@pytest.mark.parametrize("name", sorted(MAY_IMPORT))
def test_rooms_import_only_the_rooms_below_them(name):
    crossing = sorted(f"{module} -> {target}" for module in core_modules() if room(module) == name
                      for target in edges(module)
                      if target.startswith("snn_core") and room(target) not in MAY_IMPORT[name] | {name})
    assert not crossing, f"{name} may import only {sorted(MAY_IMPORT[name])}"


def test_config_looks_into_the_registries_and_engine_limits_only():
    for module in (m for m in core_modules() if room(m) == "config"):
        below = {target for target in edges(module) if target.startswith("snn_core") and room(target) != "config"
                 and target not in TOP_LEVEL_BELOW_ALL}
        assert below <= CONFIG_MAY_IMPORT.get(module, set()), (module, sorted(below))


def test_the_neurons_room_imports_nothing_of_the_house_not_even_for_type_hints():
    """Pure maths: its modules import torch and each other, never the config or the network."""
    outside = [f"{module} -> {target}" for module in core_modules() if room(module) == "neurons"
               for target, _, _ in imports(module, type_checking=True)
               if target.split(".")[0] in PACKAGES and room(target) != "neurons"]
    assert outside == []


def test_the_engine_never_imports_the_ui():
    found = sorted(f"{module} -> {target}" for module in core_modules() for target, _, _ in imports(module)
                   if target.split(".")[0] in UI)
    assert not found


def test_figures_know_no_streamlit_and_no_page_glue():
    found = sorted(f"{module} -> {target}" for module in MODULES if module.startswith("snn_viz")
                   for target, _, _ in imports(module) if target.split(".")[0] in ("streamlit", "snn_app"))
    assert not found


@pytest.mark.parametrize("name", ["network", "training"])
def test_training_and_network_name_no_specific_method(name):
    """Adding a method touches no file in training/ or network/: they reach methods through hooks and the registry."""
    named = sorted(f"{module} -> {target}" for module in core_modules() if room(module) == name
                   for target in edges(module) if target.startswith(ANY_METHOD))
    assert not named


# the modules that loop over the methods' records (methods.catalogue.METHODS) and must name none of them
SHARED = ("snn_core.config", "snn_core.methods.registry", "snn_core.methods.engines", "snn_core.methods.method",
          "snn_core.methods.hooks", "snn_core.interop.nir_graph", "snn_core.interop.nir_import", "snn_core.training",
          "snn_core.network", "snn_app.sidebar", "snn_app.twin", "snn_app.network_view", "snn_app.method_readings",
          "snn_viz.network_figures")


def method_words() -> set[str]:
    """Every name a method brings: its own, and its settings' field and CLI names."""
    from snn_core.methods.catalogue import METHODS
    return {method.name for method in METHODS} | {word for method in METHODS for setting in method.settings
                                                  for word in (setting.name, setting.field.metadata["cli"])}


def code_words(tree: ast.AST) -> set[str]:
    """The identifiers, attribute names and string constants of ``tree``, docstrings and comments left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif isinstance(node, ast.alias):
            words.update(node.name.split("."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            words.update(node.module.split("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.update(re.findall(r"[A-Za-z_][\w-]*", node.value))
    return words


def test_no_shared_module_names_any_method():
    """A method is one record: the code that loops over the records (config, check, budget, registry, engines, NIR,
    the sidebar, Compare live's twin menu, the network view) never names one, so adding a method edits none of them."""
    words = method_words()
    named = {module: sorted(code_words(ast.parse(MODULES[module].read_text())) & words)
             for module in MODULES if module.startswith(SHARED)}
    assert {module: found for module, found in named.items() if found} == {}
    assert len(named) > 20                                         # the prefixes match the modules they mean


# the keys of a result's JSON form (RunResult, Comparison, Sweep, their statistics): read only in snn_core/results/
RESULT_KEYS = {"metrics", "history", "timing", "per_seed", "paired", "summary", "points", "paired_vs_first",
               "ci_low", "ci_high", "wins", "losses", "ties", "failed_runs", "unfinished_runs", "cached",
               "test_accuracy", "test_loss", "validation_accuracy", "nasfr", "spikes_per_sample", "silent_fraction",
               "layer_firing_rates", "layer_firing_rates_per_step", "layer_spikes_per_sample", "redundancy",
               "robustness", "decision_step_mean", "accuracy_vs_tcut", "reversal_agreement", "epochs_to_target"}


def string_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, key)`` of every ``x["key"]`` and ``x.get("key", ...)`` in ``tree`` whose key is a result key."""
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and isinstance(node.args[0], ast.Constant)):
            key = node.args[0].value
        if isinstance(key, str) and key in RESULT_KEYS:
            found.append((node.lineno, key))
    return found


def test_no_result_is_read_by_string_outside_its_records():
    """Results are typed records (``snn_core.results``): a renamed metric fails where it is read, not far away at run
    time. Their JSON form is read and written in that room alone; everyone else reads attributes and table columns."""
    paths = [path for module, path in MODULES.items() if not module.startswith("snn_core.results")]
    paths += sorted((ROOT / "app_pages").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    reads = {str(path.relative_to(ROOT)): found for path in paths
             if (found := string_reads(ast.parse(path.read_text())))}
    assert reads == {}
