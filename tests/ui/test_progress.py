"""The three progress renderings, fed the same engine calls."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from dockyard.aws.cloudformation import ResourceChange, StackEvent
from dockyard.stacks.engine import Outcome, StackResult
from dockyard.ui.console import Console
from dockyard.ui.progress import LiveReporter, NdjsonReporter, PlainReporter, change_lines

EVENT = StackEvent("e1", "acme-edge", "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                   "CREATE_FAILED", "Subnets are in the same zone",
                   datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
CHANGES = [ResourceChange("Add", "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
           ResourceChange("Modify", "HttpsListener", "AWS::ElasticLoadBalancingV2::Listener",
                          replacement="True"),
           ResourceChange("Remove", "OldRule", "AWS::ElasticLoadBalancingV2::ListenerRule")]
FAILED = StackResult("edge", "acme-edge", Outcome.FAILED, "ROLLBACK_COMPLETE",
                     failures=[EVENT])


def drive(reporter: PlainReporter | NdjsonReporter) -> None:
    reporter.changes("acme-edge", CHANGES)
    reporter.event(EVENT)
    reporter.result(FAILED)


def test_change_lines_show_action_and_replacement() -> None:
    lines = change_lines(CHANGES)
    assert lines[0].split() == ["+", "add", "LoadBalancer",
                                "AWS::ElasticLoadBalancingV2::LoadBalancer"]
    assert lines[1].split()[-2:] == ["replacement:", "yes"]
    assert lines[2].split()[:3] == ["-", "remove", "OldRule"]


def test_plain_lines_are_timestamped_and_name_the_failure() -> None:
    err = io.StringIO()
    drive(PlainReporter(Console(out=io.StringIO(), err=err)))
    text = err.getvalue()
    assert "acme-edge: 3 changes" in text
    assert "acme-edge  LoadBalancer  CREATE_FAILED  Subnets are in the same zone" in text
    assert "acme-edge: failed" in text
    stamped = [line for line in text.splitlines() if not line.startswith("  ")]
    assert all(line[2] == ":" and line[5] == ":" for line in stamped), stamped


def test_ndjson_is_one_object_per_line_on_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    drive(NdjsonReporter(Console(out=out, err=err)))
    documents = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["event"] for d in documents] == ["changes", "resource", "stack"]
    assert documents[1]["reason"] == "Subnets are in the same zone"
    assert documents[2]["failures"][0]["resource"] == "LoadBalancer"
    assert err.getvalue() == ""


def test_live_view_ends_with_the_same_summary_lines() -> None:
    err = io.StringIO()
    reporter = LiveReporter(Console(out=io.StringIO(), err=err))
    drive(reporter)
    text = err.getvalue()
    assert "acme-edge: failed" in text
    assert "LoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) CREATE_FAILED" in text
