"""A benchmark that rewrites its doc keeps the sections other benchmarks appended (``benchmarks/doc_file.py``)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from doc_file import KEPT, write_keeping_tail  # noqa: E402


def test_a_rewrite_keeps_everything_from_the_marker_on(tmp_path):
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(f"# old table\n1\n\n{KEPT}\n\n## Library comparison\nsee ENGINE_BENCHMARK.md\n")
    write_keeping_tail(doc, "# new table\n2\n")
    assert doc.read_text() == f"# new table\n2\n\n{KEPT}\n\n## Library comparison\nsee ENGINE_BENCHMARK.md\n"
    fresh = tmp_path / "NEW.md"
    write_keeping_tail(fresh, "# only this\n")
    assert fresh.read_text() == "# only this\n"


def test_both_generated_docs_carry_the_marker():
    docs = Path(__file__).resolve().parents[1] / "docs"
    for name in ("PERFORMANCE.md", "APP_PERFORMANCE.md"):
        assert KEPT in (docs / name).read_text(), name
