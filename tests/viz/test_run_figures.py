"""Learning curves of a run: validation accuracy is drawn next to train and test when the run measured it."""
from dataclasses import replace

from snn_core.training.trainer import EpochRecord
from snn_viz.run_figures import RunSeries, pair_accuracy_curves, training_curves


def _history(validation: list[float | None]) -> list[EpochRecord]:
    return [EpochRecord(epoch, epoch, 0.0, 0.5, 0.0, 0.4 + epoch / 10, 0.0, 0.0, 0.0, {}, validation_accuracy=value)
            for epoch, value in enumerate(validation, start=1)]


def test_the_validation_curve_is_a_third_line_when_the_run_has_a_validation_split():
    fig = training_curves(_history([0.61, 0.72]))
    assert [trace.name for trace in fig.data] == ["train", "test", "validation"]
    assert list(fig.data[2].y) == [0.61, 0.72] and fig.data[2].line.dash == "dash"
    assert [trace.name for trace in training_curves(_history([None, None])).data] == ["train", "test"]


def test_each_run_of_a_pair_gets_its_validation_line():
    with_val = RunSeries("main", _history([0.5, 0.6]))
    without = RunSeries("twin", [replace(record, validation_accuracy=None) for record in with_val.history])
    names = [trace.name for trace in pair_accuracy_curves([with_val, without]).data]
    assert names == ["main test", "main validation", "main train", "twin test", "twin train"]
