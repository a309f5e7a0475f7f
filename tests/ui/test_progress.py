"""The three progress renderings, fed the same engine calls."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from dockyard.aws.cloudformation import ResourceChange, StackEvent
from dockyard.stacks.results import Outcome, StackResult
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


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def live(monkeypatch: pytest.MonkeyPatch) -> tuple[Console, LiveReporter, Clock, Terminal]:
    for name in ("CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    err, clock = Terminal(), Clock()
    console = Console(io.StringIO(), err, no_color=True)
    return console, LiveReporter(console, clock=clock), clock, err


def summary(err: Terminal) -> list[str]:
    """The lines after the live view's last redraw: what stays on the screen."""
    return err.getvalue().rsplit("\x1b[2K", 1)[-1].splitlines()


def test_live_view_leaves_each_step_with_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    console, reporter, clock, err = live(monkeypatch)
    reporter.note("context", "packing 12 files")
    clock.now += 1.5
    reporter.note("context", "uploaded context 3f2a")
    reporter.note("build", "task 9c1e is RUNNING")
    reporter.line("", "INFO[0001] Retrieving image manifest")
    clock.now += 42
    reporter.note("build", "pushed sha256:abcd")
    reporter.note("deploy", "deploying web@sha256:abcd")
    console.note("a line from elsewhere goes above the view")
    clock.now += 70
    reporter.note("deploy", "deployment completed")
    console.finish(ok=True)
    assert [line.split()[:3] for line in summary(err)] == [
        ["✓", "context", "1.5s"], ["✓", "build", "42s"], ["✓", "deploy", "1m10s"],
        ["total", "1m53s"]]
    text = err.getvalue()
    assert text.index("INFO[0001] Retrieving image manifest") < text.index("total")
    assert "a line from elsewhere goes above the view" in text
    assert console.overlay is None, "the view is gone: later lines are plain"


def test_live_view_marks_the_step_that_was_running_when_the_command_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    console, reporter, clock, err = live(monkeypatch)
    reporter.note("build", "pushed sha256:abcd")
    reporter.note("deploy", "deploying web@sha256:abcd")
    clock.now += 12
    console.finish(ok=False)
    console.error("deploy: rolled back")
    lines = summary(err)
    assert lines[0].split()[:2] == ["✓", "build"]
    assert lines[1].split()[:3] == ["x", "deploy", "12s"]
    assert lines[-1] == "error: deploy: rolled back", "errors come after the summary"


def test_live_view_shows_a_stack_as_one_step_with_its_outcome(
        monkeypatch: pytest.MonkeyPatch) -> None:
    console, reporter, clock, err = live(monkeypatch)
    reporter.changes("acme-edge", CHANGES)
    clock.now += 30
    reporter.event(EVENT)
    reporter.result(FAILED)
    console.finish(ok=False)
    assert summary(err)[0].split()[:4] == ["x", "acme-edge", "30s", "failed"]


def test_live_view_steps_aside_for_a_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    console, reporter, _clock, err = live(monkeypatch)
    reporter.note("acme-builder", "2 changes")
    console.pause()
    assert console.overlay is None
    written = len(err.getvalue())
    console.note("Apply 2 change(s) to acme-builder? [y/N]")
    assert err.getvalue()[written:] == "Apply 2 change(s) to acme-builder? [y/N]\n"
    reporter.note("acme-builder", "applying")
    assert console.overlay is reporter, "the next report brings the view back"
    console.finish(ok=True)


def test_after_the_summary_lines_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    console, reporter, _clock, err = live(monkeypatch)
    reporter.note("deploy", "deploying web@sha256:abcd")
    console.data("the result")
    reporter.note("deploy", "a late line")
    console.finish(ok=True)
    assert err.getvalue().count("total") == 1, "one summary, before the result"
    assert err.getvalue().endswith("a late line\n")
