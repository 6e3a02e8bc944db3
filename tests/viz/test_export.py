"""The snn_viz command line: a run JSON exported as standalone HTML figures, and a bad file refused."""
from snn_app import training


def test_cli_exports_a_run_json_as_standalone_html(tiny, tmp_path, capsys, train_to_end):
    from snn_viz.__main__ import main

    trainer, _ = train_to_end(tiny(epochs=2, train_samples=100))
    run = tmp_path / "run.json"
    run.write_text(training.result_json(trainer))
    out = tmp_path / "figures.html"
    assert main(["export", str(run), "--out", str(out)]) == 0
    assert out.read_text().count('class="plotly-graph-div"') == 3
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["export", str(tmp_path / "bad.json"), "--out", str(out)]) == 2
    assert "is not a run JSON" in capsys.readouterr().err
