"""The batch tests compare worker processes (one torch thread each) with runs here: run these on one thread too,
so both sides compute alike and two cores are not oversubscribed."""
import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
