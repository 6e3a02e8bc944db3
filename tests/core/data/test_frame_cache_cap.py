"""The frame cache's size cap (SNN_FRAME_CACHE_MB): megabytes >= 0, 0 turning the cache off; NaN and infinity were
taken (NaN called negative, infinity failing later) and are refused now, by name."""
import pytest

from snn_core.data.frame_cache import cap_bytes


@pytest.mark.parametrize("text", ["inf", "nan", "-1", "abc"])
def test_a_bad_cap_is_refused_naming_the_setting_and_what_is_allowed(monkeypatch, text):
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", text)
    with pytest.raises(ValueError, match=rf"^SNN_FRAME_CACHE_MB='{text}' is not a cache size; allowed: a number of "
                                         r"megabytes >= 0 \(0 turns the cache off\), or unset for 2048$"):
        cap_bytes()


def test_the_cap_in_bytes_zero_off_and_the_default(monkeypatch):
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", "0")
    assert cap_bytes() == 0
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", "1.5")
    assert cap_bytes() == 3 * 2**19
    monkeypatch.delenv("SNN_FRAME_CACHE_MB")
    assert cap_bytes() == 2048 * 2**20
