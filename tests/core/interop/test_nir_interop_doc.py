"""docs/NIR_INTEROP.md is what ``benchmarks/nir_interop.py`` renders from docs/NIR_INTEROP.json, a full run (not
``--quick``), whose cells say what docs/NIR.md and the export's notes claim; docs/NIR.md points to it instead of a
hand-written library table."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

from nir_interop import EXPORTS, LIBRARIES, NATIVES, render  # noqa: E402

DOCS = ROOT / "docs"


def data() -> dict:
    return json.loads((DOCS / "NIR_INTEROP.json").read_text())


def verdicts(direction: str) -> dict[tuple[str, str], str]:
    return {(cell["library"], cell["network"]): cell["verdict"] for cell in data()["cells"]
            if cell["direction"] == direction}


def test_the_doc_is_the_rendering_of_its_json_from_a_full_run_of_every_case():
    report = data()
    assert (DOCS / "NIR_INTEROP.md").read_text() == render(report)
    assert not report["quick"] and report["command"] == "python benchmarks/nir_interop.py"
    assert set(verdicts("export")) == {(library, name) for library in LIBRARIES for name in EXPORTS}
    assert set(verdicts("import")) == {(native.library, native.name) for native in NATIVES}
    assert {cell["samples"] for cell in report["cells"] if cell["network"].startswith(("mlp", "conv"))
            and cell["verdict"] != "refused"} == {360}                               # the digits test set


def test_the_measured_cells_are_what_the_docs_claim():
    export = verdicts("export")
    for name in ("mlp-lif", "mlp-lif-plif", "mlp-lif-beta0.8", "conv-lif"):      # identical in all three libraries
        assert [export[(library, name)] for library in LIBRARIES] == ["identical"] * 3, name
    assert [export[(library, "mlp-if")] for library in LIBRARIES] == ["refused", "identical", "identical"]
    assert [export[(library, "mlp-cuba")] for library in LIBRARIES] == ["differs", "identical", "differs"]
    assert [export[(library, "events-conv-pool")] for library in LIBRARIES] == ["identical", "refused", "identical"]
    assert [export[(library, "mlp-lif-soft")] for library in LIBRARIES] == ["differs"] * 3
    assert [export[(library, "mlp-lif-vreset")] for library in LIBRARIES] == ["differs", "differs", "refused"]
    assert verdicts("import")[("snntorch", "Leaky-default")] == "differs"
    assert all(verdict == "identical" for (library, name), verdict in verdicts("import").items()
               if name in ("Leaky-zero", "Synaptic-subtract", "LIFBoxCell", "IAFCell", "LIFNode", "LIFNode-r",
                           "IFNode"))


def test_nir_md_points_to_the_generated_table_instead_of_its_own():
    text = (DOCS / "NIR.md").read_text()
    assert "docs/NIR_INTEROP.md" in text and "benchmarks/nir_interop.py" in text
    assert "| neuron | snnTorch" not in text                       # the hand-written table it replaced
