"""What the Download buttons hand out (snn_app.training): CSV and JSON of the run and standalone HTML figures."""
import csv
import io
import json

from snn_app import training
from snn_core.config.run_config import RunConfig


def test_history_csv_has_one_row_per_epoch_with_layer_rates(tiny, train_to_end):
    trainer, _ = train_to_end(tiny(epochs=2, train_samples=100))
    rows = list(csv.DictReader(io.StringIO(training.history_csv(trainer.history))))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[-1]["rate_fc1"]) == trainer.history[-1].layer_firing_rates["fc1"]
    assert float(rows[-1]["test_accuracy"]) == trainer.history[-1].test_accuracy


def test_metrics_csv_and_run_json_agree_with_the_cli_format(tiny, train_to_end):
    trainer, _ = train_to_end(tiny(epochs=2, train_samples=100))
    result = json.loads(training.result_json(trainer))
    assert set(result) == {"config", "history", "metrics", "data"}
    assert result["data"] == {"source": "digits (generated)", "class_names": [str(d) for d in range(10)]}
    assert RunConfig.from_dict(result["config"]) == trainer.cfg
    metrics = dict(line.split(",") for line in training.metrics_csv(trainer).strip().splitlines()[1:])
    assert float(metrics["test_accuracy"]) == result["metrics"]["test_accuracy"]
    assert "firing_rate_fc1" in metrics


def test_figures_html_is_standalone_and_holds_every_figure(tiny, train_to_end):
    trainer, losses = train_to_end(tiny(epochs=2, train_samples=100))
    page = training.figures_html(trainer, losses)
    assert page.startswith("<!DOCTYPE html>") and "SNN Explorer run: digits" in page
    assert page.count('class="plotly-graph-div"') == 4
    assert '<script src="https://cdn.plot.ly' not in page and len(page) > 1_000_000   # plotly.js embedded
