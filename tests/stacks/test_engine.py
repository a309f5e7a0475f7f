"""The change-set engine against a fake CloudFormation: what moto cannot show."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from dockyard.aws.cloudformation import Stack
from dockyard.aws.errors import AwsPreconditionError
from dockyard.errors import Cancelled, DockyardError
from dockyard.stacks.engine import Engine, StackRequest
from dockyard.stacks.results import Outcome
from dockyard.ui.progress import PlainReporter
from tests.fakes import FakeClock, FakeCloudFormation, text_console

REQUEST = StackRequest(key="edge", name="acme-edge", template="{}",
                       parameters={"VpcId": "vpc-1"}, tags={"dockyard:name": "acme"})


def engine(api: FakeCloudFormation) -> tuple[Engine, FakeClock, io.StringIO]:
    console, _, err = text_console()
    clock = FakeClock()
    return Engine(api, clock, PlainReporter(console)), clock, err


def yes(stack: str, changes: object) -> bool:
    return True


def test_create_streams_resource_events_in_order() -> None:
    api = FakeCloudFormation(scripts={"acme-edge": [
        ([("LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", "CREATE_IN_PROGRESS", "")],
         "CREATE_IN_PROGRESS"),
        ([("LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", "CREATE_COMPLETE", ""),
          ("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_IN_PROGRESS",
           "Resource creation Initiated")], "CREATE_IN_PROGRESS"),
        ([("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_COMPLETE", "")],
         "CREATE_COMPLETE"),
    ]})
    eng, clock, err = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.CREATED
    assert result.outputs == {"Url": "https://acme-edge.example.com/"}
    stamped = [line[9:] for line in err.getvalue().splitlines() if line[2:3] == ":"]
    resources = [line for line in stamped
                 if line.startswith("acme-edge  ") and "acme-edge  acme-edge" not in line]
    assert resources == [
        "acme-edge  LoadBalancerSecurityGroup  CREATE_IN_PROGRESS",
        "acme-edge  LoadBalancerSecurityGroup  CREATE_COMPLETE",
        "acme-edge  LoadBalancer  CREATE_IN_PROGRESS  Resource creation Initiated",
        "acme-edge  LoadBalancer  CREATE_COMPLETE",
    ]
    assert clock.sleeps == [0.25, 0.5], "polled quickly at first, never sleeping for real"
    assert "acme-edge: created" in err.getvalue()


def test_a_failed_resource_is_reported_with_its_reason() -> None:
    reason = "Certificate ARN 'arn:aws:acm:x' is not valid (Service: ElasticLoadBalancingV2)"
    api = FakeCloudFormation(scripts={"acme-edge": [
        ([("HttpsListener", "AWS::ElasticLoadBalancingV2::Listener", "CREATE_FAILED", reason)],
         "ROLLBACK_IN_PROGRESS"),
        ([("HttpsListener", "AWS::ElasticLoadBalancingV2::Listener", "DELETE_COMPLETE", "")],
         "ROLLBACK_COMPLETE"),
    ]})
    eng, _, err = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.FAILED
    assert not result.ok
    assert result.status == "ROLLBACK_COMPLETE"
    assert [(f.logical_id, f.reason) for f in result.failures] == [("HttpsListener", reason)]
    assert f"HttpsListener (AWS::ElasticLoadBalancingV2::Listener) CREATE_FAILED: {reason}" \
        in err.getvalue()


def test_no_changes_is_an_outcome_not_an_error() -> None:
    api = FakeCloudFormation(empty={"acme-edge"})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_COMPLETE", outputs={"DnsName": "lb.example"})
    eng, _, _ = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.NO_CHANGES
    assert result.ok
    assert result.outputs == {"DnsName": "lb.example"}
    assert "delete_change_set" in api.calls
    assert not any(c.startswith("execute") for c in api.calls)


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again() -> None:
    api = FakeCloudFormation()
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "ROLLBACK_COMPLETE")
    eng, _, err = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.CREATED
    order = [c for c in api.calls if not c.startswith("describe")]
    assert order[:3] == ["delete_stack acme-edge", "create_change_set acme-edge CREATE",
                         "execute acme-edge"]
    assert "left in ROLLBACK_COMPLETE from an earlier attempt: deleting it" in err.getvalue()


def test_throttled_event_reads_are_retried_not_fatal() -> None:
    api = FakeCloudFormation(throttle_events=2, scripts={"acme-edge": [
        ([("Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", "")], "CREATE_IN_PROGRESS"),
        ([("Queue", "AWS::SQS::Queue", "CREATE_COMPLETE", "")], "CREATE_COMPLETE")]})
    eng, clock, err = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.CREATED
    assert api.calls.count("throttled") == 2
    # each throttled read backs off longer than the last (5 s interval, doubled, jittered)
    assert len(clock.sleeps) == 2
    assert 5 <= clock.sleeps[0] <= 10 <= clock.sleeps[1] <= 20, clock.sleeps
    text = err.getvalue()
    assert text.index("Queue  CREATE_IN_PROGRESS") < text.index("Queue  CREATE_COMPLETE")


def test_declining_leaves_the_stack_untouched() -> None:
    api = FakeCloudFormation()
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_COMPLETE")
    eng, _, _ = engine(api)
    result = eng.deploy(REQUEST, lambda stack, changes: False)
    assert result.outcome == Outcome.DECLINED
    assert not any(c.startswith("execute") for c in api.calls)
    assert api.stacks["acme-edge"].status == "UPDATE_COMPLETE"


def test_declining_a_creation_removes_the_empty_stack() -> None:
    api = FakeCloudFormation()
    eng, _, _ = engine(api)
    eng.deploy(REQUEST, lambda stack, changes: False)
    assert "delete_stack acme-edge" in api.calls


def test_an_error_while_asking_leaves_nothing_behind() -> None:
    api = FakeCloudFormation()
    eng, _, _ = engine(api)

    def broken(stack: str, changes: object) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        eng.deploy(REQUEST, broken)
    assert "delete_change_set" in api.calls
    assert "delete_stack acme-edge" in api.calls


def test_ctrl_c_during_an_update_cancels_it() -> None:
    api = FakeCloudFormation(interrupt_after=1, scripts={"acme-edge": [
        ([], "UPDATE_IN_PROGRESS"), ([], "UPDATE_IN_PROGRESS"), ([], "UPDATE_COMPLETE")]})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_COMPLETE")
    eng, _, err = engine(api)
    with pytest.raises(Cancelled) as caught:
        eng.deploy(REQUEST, yes)
    assert "cancel_update acme-edge" in api.calls
    assert "cancelled the update of acme-edge, now UPDATE_ROLLBACK_COMPLETE" in caught.value.message
    assert "CloudFormation rolls it back" in err.getvalue()


def test_ctrl_c_during_a_creation_says_why_it_cannot_cancel() -> None:
    api = FakeCloudFormation(interrupt_after=0, scripts={"acme-edge": [
        ([], "CREATE_IN_PROGRESS"), ([], "CREATE_COMPLETE")]})
    eng, _, _ = engine(api)
    with pytest.raises(Cancelled) as caught:
        eng.deploy(REQUEST, yes)
    assert not any(c.startswith("cancel_update") for c in api.calls)
    assert "a creation cannot be cancelled" in (caught.value.hint or "")


def test_a_busy_stack_is_not_touched() -> None:
    api = FakeCloudFormation()
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_IN_PROGRESS")
    eng, _, _ = engine(api)
    with pytest.raises(Exception, match="busy"):
        eng.deploy(REQUEST, yes)
    assert not any(c.startswith("create_change_set") for c in api.calls)


def test_delete_reports_a_resource_that_cannot_be_deleted() -> None:
    api = FakeCloudFormation(scripts={"delete acme-edge": [
        ([("ContextBucket", "AWS::S3::Bucket", "DELETE_FAILED", "The bucket is not empty")],
         "DELETE_FAILED")]})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "CREATE_COMPLETE")
    eng, _, err = engine(api)
    result = eng.delete("edge", "acme-edge")
    assert result.outcome == Outcome.FAILED
    assert "ContextBucket (AWS::S3::Bucket) DELETE_FAILED: The bucket is not empty" \
        in err.getvalue()


def test_preflight_errors_are_aws_preconditions() -> None:
    assert AwsPreconditionError("x").exit_code == 3


# -- eventual consistency and stacks left in failed states --------------------------------------

def test_a_stale_review_in_progress_after_execute_is_not_a_verdict() -> None:
    api = FakeCloudFormation(stale_reads=2)
    eng, clock, _ = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.CREATED, result
    assert result.outputs == {"Url": "https://acme-edge.example.com/"}
    assert len(clock.sleeps) >= 2, "it kept asking while DescribeStacks lagged"


def test_stale_outputs_of_the_previous_update_never_flow_on() -> None:
    before = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge", "UPDATE_COMPLETE",
                   outputs={"Url": "https://old.example.com/"},
                   updated=datetime(2026, 11, 1, tzinfo=UTC))
    api = FakeCloudFormation(stale_reads=3)
    api.stacks["acme-edge"] = before
    eng, _, _ = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.UPDATED
    assert result.outputs == {"Url": "https://acme-edge.example.com/"}, \
        "the outputs are those of this update, not the stale previous ones"


def test_a_stale_complete_status_after_delete_is_not_a_failure() -> None:
    api = FakeCloudFormation(stale_reads=2)
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "CREATE_COMPLETE")
    eng, _, _ = engine(api)
    result = eng.delete("edge", "acme-edge")
    assert result.outcome == Outcome.DELETED, result


def test_update_rollback_failed_is_continued_before_the_update() -> None:
    api = FakeCloudFormation()
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_ROLLBACK_FAILED")
    eng, _, err = engine(api)
    result = eng.deploy(REQUEST, yes)
    assert result.outcome == Outcome.UPDATED, result
    order = [c for c in api.calls if not c.startswith("describe")]
    assert order[:2] == ["continue_update_rollback acme-edge",
                         "create_change_set acme-edge UPDATE"]
    assert "UPDATE_ROLLBACK_FAILED from an earlier update: continuing the rollback" \
        in err.getvalue()


def test_a_rollback_that_cannot_continue_names_the_resources_to_skip() -> None:
    api = FakeCloudFormation(scripts={"continue acme-edge": [
        ([("Service", "AWS::ECS::Service", "UPDATE_FAILED", "Service was deleted by hand")],
         "UPDATE_ROLLBACK_FAILED")]})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "UPDATE_ROLLBACK_FAILED")
    eng, _, _ = engine(api)
    with pytest.raises(DockyardError) as caught:
        eng.deploy(REQUEST, yes)
    assert "acme-edge cannot be rolled back (UPDATE_ROLLBACK_FAILED)" in caught.value.message
    assert "--resources-to-skip Service" in (caught.value.hint or "")
    assert not any(c.startswith("create_change_set") for c in api.calls)


def test_delete_failed_is_retried_once() -> None:
    api = FakeCloudFormation(scripts={"delete acme-edge": [
        ([("AgentSecurityGroup", "AWS::EC2::SecurityGroup", "DELETE_FAILED",
           "resource sg-1 has a dependent object")], "DELETE_FAILED")]})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "CREATE_COMPLETE")
    eng, _, err = engine(api)
    first = [([("AgentSecurityGroup", "AWS::EC2::SecurityGroup", "DELETE_FAILED",
                "resource sg-1 has a dependent object")], "DELETE_FAILED")]
    api.scripts["delete acme-edge"] = first
    original = api.delete_stack

    def delete_then_succeed(name: str) -> None:
        original(name)
        api.scripts["delete acme-edge"] = [([], "DELETE_COMPLETE")]

    api.delete_stack = delete_then_succeed  # type: ignore[method-assign]
    result = eng.delete("edge", "acme-edge")
    assert result.outcome == Outcome.DELETED
    assert api.calls.count("delete_stack acme-edge") == 2
    assert "DELETE_FAILED: deleting it once more" in err.getvalue()


def test_a_delete_failed_stack_is_not_updated() -> None:
    api = FakeCloudFormation()
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "DELETE_FAILED")
    eng, _, _ = engine(api)
    with pytest.raises(DockyardError) as caught:
        eng.deploy(REQUEST, yes)
    assert "DELETE_FAILED" in caught.value.message
    assert "dockyard down" in (caught.value.hint or "")


def test_a_stale_delete_failed_after_the_retry_is_not_its_verdict() -> None:
    """After the second DeleteStack, DescribeStacks may still show the first DELETE_FAILED;
    the retry's own outcome is waited for."""
    api = FakeCloudFormation(stale_reads=2, scripts={"delete acme-edge": [
        ([("AgentSecurityGroup", "AWS::EC2::SecurityGroup", "DELETE_FAILED",
           "resource sg-1 has a dependent object")], "DELETE_FAILED")]})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "CREATE_COMPLETE")
    eng, _, _ = engine(api)
    original = api.delete_stack

    def delete_then_succeed(name: str) -> None:
        original(name)
        api.scripts["delete acme-edge"] = [([], "DELETE_IN_PROGRESS"), ([], "DELETE_COMPLETE")]

    api.delete_stack = delete_then_succeed  # type: ignore[method-assign]
    result = eng.delete("edge", "acme-edge")
    assert api.calls.count("delete_stack acme-edge") == 2
    assert result.outcome == Outcome.DELETED, result


def test_a_retry_that_fails_again_is_reported_once_its_own_event_is_in() -> None:
    failed = [([("AgentSecurityGroup", "AWS::EC2::SecurityGroup", "DELETE_FAILED",
                "resource sg-1 has a dependent object")], "DELETE_FAILED")]
    api = FakeCloudFormation(stale_reads=2, scripts={"delete acme-edge": failed})
    api.stacks["acme-edge"] = Stack("acme-edge", "arn:aws:cloudformation:stack/acme-edge",
                                    "CREATE_COMPLETE")
    eng, _, _ = engine(api)
    result = eng.delete("edge", "acme-edge")
    assert api.calls.count("delete_stack acme-edge") == 2
    assert result.outcome == Outcome.FAILED
    assert [e.logical_id for e in result.failures].count("AgentSecurityGroup") == 2, \
        "both attempts' failures, the retry's read after it happened"
