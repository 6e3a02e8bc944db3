"""Trainer.fork: a run continued under another config from its current weights, optimiser state and position."""
import pytest
import torch

from snn_core.training.trainer import Trainer, copy_matching_state

RUN = {"train-samples": 96, "test-samples": 20, "batch-size": 16, "epochs": 2, "lr-schedule": "cosine"}
CONV = {**RUN, "dataset": "events-shape", "arch": "conv", "channels": "4", "hidden": "16", "T": "4"}


def states_equal(a: torch.nn.Module, b: torch.nn.Module, keys=None) -> bool:
    ours, theirs = a.state_dict(), b.state_dict()
    return all(torch.equal(ours[k], theirs[k]) for k in (keys or ours))


def test_a_fork_with_the_same_config_continues_exactly_as_the_run_would(tiny):
    run = Trainer(tiny(RUN, encoding="poisson"))
    for _ in range(8):                                       # past an epoch's end: batch order, cursor, history
        run.step()
    fork = run.fork(run.cfg)
    assert states_equal(fork.model, run.model)
    assert (fork.steps, fork.epoch, len(fork.history)) == (run.steps, run.epoch, len(run.history))
    assert fork.optimizer.param_groups[0]["lr"] == run.optimizer.param_groups[0]["lr"]
    for _ in range(6):                                       # through the end of training
        assert fork.step().loss == run.step().loss
    assert states_equal(fork.model, run.model)
    assert fork.finished and run.finished
    timeless = [{**r.to_dict(), "train_seconds": 0} for r in (fork.history[-1], run.history[-1])]
    assert timeless[0] == timeless[1]


def test_a_fork_with_another_setting_starts_equal_and_diverges(tiny):
    run = Trainer(tiny(RUN))
    for _ in range(3):
        run.step()
    fork = run.fork(run.cfg.with_values({"max-spikes": 1}))
    assert fork.cfg.neuron.max_spikes == 1 and fork.steps == 3
    assert states_equal(fork.model, run.model)
    run.step(), fork.step()
    assert not states_equal(fork.model, run.model)
    assert run.cfg.neuron.max_spikes == 0                  # the run itself is untouched


def test_the_fork_owns_its_weights(tiny):
    run = Trainer(tiny(RUN))
    run.step()
    fork = run.fork(run.cfg)
    with torch.no_grad():
        next(fork.model.parameters()).add_(1.0)
    assert not states_equal(fork.model, run.model)


def test_a_method_with_extra_modules_forks_by_name_and_shape(tiny):
    """ASA adds gate modules the run does not have; every weight the two share is copied, with Adam's moments."""
    run = Trainer(tiny(CONV))
    run.step()
    fork = run.fork(run.cfg.with_values({"asa": "clean"}))
    shared = set(run.model.state_dict()) & set(fork.model.state_dict())
    assert shared and set(fork.model.state_dict()) - shared               # the gates are extra
    assert states_equal(fork.model, run.model, shared)
    theirs = run.parameters_by_name()
    for name, param in fork.parameters_by_name().items():
        if name in theirs:
            assert torch.equal(fork.optimizer.state[param]["exp_avg"], run.optimizer.state[theirs[name]]["exp_avg"])
    fork.step()
    assert fork.steps == 2


def test_copy_matching_state_skips_other_names_and_shapes():
    source, target = torch.nn.Linear(3, 2), torch.nn.Sequential()
    target.add_module("weight_holder", torch.nn.Linear(3, 2))
    assert copy_matching_state(target, source) == []
    wider = torch.nn.Linear(4, 2)
    assert copy_matching_state(wider, source) == ["bias"]
    assert torch.equal(wider.bias, source.bias) and not torch.equal(wider.weight[:, :3], source.weight)


def test_a_fork_that_changes_the_batches_is_refused(tiny):
    run = Trainer(tiny(RUN))
    run.step()
    with pytest.raises(ValueError, match="allowed: the same train-samples and batch-size"):
        run.fork(run.cfg.with_values({"batch-size": 32}))
