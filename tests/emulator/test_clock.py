"""The emulator's virtual clock, and the check that moto still has what the emulator patches."""

from __future__ import annotations

import time

import pytest
from devtools import moto_internals
from devtools.ecs.clock import VirtualClock, factor_from_env


def test_virtual_time_runs_at_its_factor_and_keeps_what_has_passed() -> None:
    clock = VirtualClock(1000.0)
    time.sleep(0.05)
    passed = clock.now()
    assert passed >= 50  # 0.05 s of the wall at 1000x
    clock.set_factor(1.0)
    assert clock.now() >= passed, "a new factor does not turn time back"
    clock.advance(3600)
    assert clock.now() >= passed + 3600
    assert (clock.stamp() - clock.stamp(0)).total_seconds() >= passed + 3600
    with pytest.raises(ValueError, match="above 0"):
        clock.set_factor(0)


def test_a_driven_clock_follows_its_source_from_where_it_was() -> None:
    clock = VirtualClock()
    fake = [100.0]
    before = clock.now()
    clock.drive(lambda: fake[0])
    assert clock.now() == pytest.approx(before, abs=0.1)
    fake[0] += 25
    assert clock.now() == pytest.approx(before + 25, abs=0.1)
    clock.drive(None)
    assert clock.now() >= before + 25


def test_the_factor_from_the_environment_is_checked() -> None:
    assert factor_from_env({}) == 1.0
    assert factor_from_env({"DOCKYARD_EMULATOR_TIME_FACTOR": "60"}) == 60.0
    for bad in ("0", "-1", "quick", "inf"):
        with pytest.raises(ValueError, match="DOCKYARD_EMULATOR_TIME_FACTOR"):
            factor_from_env({"DOCKYARD_EMULATOR_TIME_FACTOR": bad})


def test_moto_has_every_internal_the_emulator_patches() -> None:
    assert moto_internals.missing() == []


def test_a_moto_without_one_of_them_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.elbv2 import models

    monkeypatch.delattr(models.FakeTargetGroup, "health_for")
    with pytest.raises(moto_internals.MotoMismatch,
                       match=r"lacks moto\.elbv2\.models\.FakeTargetGroup\.health_for.*"
                             r"checked against moto 5\.2\.6"):
        moto_internals.require()
