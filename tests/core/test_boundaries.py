"""The engine stays UI-free: importing every module of it pulls in neither streamlit nor plotly."""
import subprocess
import sys


def test_engine_imports_no_ui_libraries():
    code = ("import pkgutil, sys, snn_core\n"
            "names = [m.name for m in pkgutil.walk_packages(snn_core.__path__, 'snn_core.')\n"
            "         if m.name != 'snn_core.__main__']\n"
            "for name in names: __import__(name)\n"
            "assert len(names) > 30, names\n"
            "print(sorted(m for m in ('streamlit', 'plotly') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
