"""What ``up`` tells the user when a stack fails or is cancelled (a fake CloudFormation behind
the composition root, since moto never fails a resource)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cli import main
from dockyard.cli.wiring import Wiring
from tests.conftest import example_text
from tests.fakes import FakeAccount, FakeClock, FakeCloudFormation, FakeRetained


@pytest.fixture()
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCloudFormation:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dockyard.yml").write_text(example_text())  # a project, not the example
    api = FakeCloudFormation()
    # The fakes go in where the command's wiring makes its clients.
    for name, value in (("stacks", api), ("account", FakeAccount()),
                        ("retained", FakeRetained()), ("clock", FakeClock())):
        monkeypatch.setattr(Wiring, name, value)
    return api


def test_a_failed_resource_is_shown_with_its_reason_and_exit_1(
        fake: FakeCloudFormation, capsys: pytest.CaptureFixture[str]) -> None:
    reason = "Resource handler returned message: \"Invalid certificate ARN\""
    fake.scripts["acme-edge"] = [
        ([("HttpsListener", "AWS::ElasticLoadBalancingV2::Listener", "CREATE_FAILED", reason)],
         "ROLLBACK_IN_PROGRESS"),
        ([], "ROLLBACK_COMPLETE")]
    code = main(["up", "--yes"])
    captured = capsys.readouterr()
    assert code == 1
    assert "acme-builder   created" in captured.out
    assert "acme-edge      failed    ROLLBACK_COMPLETE" in captured.out
    assert "acme-jenkins" not in captured.out, "stopped at the first failure"
    assert "error: acme-edge failed (ROLLBACK_COMPLETE)" in captured.err
    assert f"HttpsListener (AWS::ElasticLoadBalancingV2::Listener) CREATE_FAILED: {reason}" \
        in captured.err


def test_a_stack_stuck_in_rollback_complete_is_recreated(
        fake: FakeCloudFormation, capsys: pytest.CaptureFixture[str]) -> None:
    from dockyard.aws.cloudformation import Stack

    fake.stacks["acme-builder"] = Stack("acme-builder", "arn:aws:cloudformation:stack/"
                                        "acme-builder", "ROLLBACK_COMPLETE")
    assert main(["up", "--yes", "--only", "builder"]) == 0
    captured = capsys.readouterr()
    assert "acme-builder is left in ROLLBACK_COMPLETE from an earlier attempt" in captured.err
    assert "acme-builder   created" in captured.out


def test_ctrl_c_during_an_update_exits_130(fake: FakeCloudFormation,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from dockyard.aws.cloudformation import Stack

    fake.stacks["acme-builder"] = Stack("acme-builder", "arn:aws:cloudformation:stack/"
                                        "acme-builder", "UPDATE_COMPLETE")
    fake.scripts["acme-builder"] = [([], "UPDATE_IN_PROGRESS"), ([], "UPDATE_IN_PROGRESS")]
    fake.interrupt_after = 0
    code = main(["up", "--yes", "--only", "builder"])
    captured = capsys.readouterr()
    assert code == 130
    assert "cancel_update acme-builder" in fake.calls
    assert "cancelled the update of acme-builder" in captured.err
    assert "error:" not in captured.err  # a cancellation is the user's doing, not an error
