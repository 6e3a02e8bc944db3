"""The engine stays UI-free: importing all of it pulls in neither streamlit nor plotly."""
import subprocess
import sys


def test_engine_imports_no_ui_libraries():
    code = ("import sys, snn_core, snn_core.cli, snn_core.run, snn_core.trainer, snn_core.data.events, "
            "snn_core.asa, snn_core.redundancy, snn_core.compare, snn_core.reproduce, snn_core.verdict, "
            "snn_core.playground, snn_core.checkpoint; "
            "print(sorted(m for m in ('streamlit', 'plotly') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
