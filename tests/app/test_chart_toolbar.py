"""Every chart of every page exports from its toolbar: each ``plotly_chart`` call passes a Plotly ``config``."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_plotly_chart_call_passes_the_export_config():
    missing = []
    for path in sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("snn_app/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "plotly_chart":
                if not any(keyword.arg == "config" for keyword in node.keywords):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"plotly_chart without config= (no SVG export): {missing}"
