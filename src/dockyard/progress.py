"""The one way long operations report what they are doing: ``up``, ``down``, builds, deploys,
rollbacks and the Jenkins wait all call a :class:`Progress`, which the CLI renders live on a
terminal, as timestamped lines in logs and CI, or as NDJSON events with ``--events``
(dockyard.ui.progress).

Each call names its subject (a stack, an app, an architecture, an image) and says one thing:
a step (``note``), a line a task wrote (``line``), a change in a progressive deployment
(``deployment``), or, for stacks, the change set, a resource's event and the stack's result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from dockyard.aws.cloudformation import ResourceChange, StackEvent
    from dockyard.stacks.results import StackResult


DeploymentEventKind = Literal["stage", "traffic", "hook", "status"]


@dataclass(frozen=True)
class DeploymentEvent:
    """One change in a blue-green, canary or linear deployment, as ECS reports it
    (DescribeServiceDeployments): a new lifecycle ``stage``, production ``traffic`` moved, a
    PAUSE ``hook`` awaiting or answered, or the deployment's ``status`` (a rollback)."""

    kind: DeploymentEventKind
    app: str
    deployment_arn: str
    revision: str = ""  # the target service revision's ARN
    stage: str = ""
    description: str = ""  # what the stage means, in words
    production_percent: float | None = None  # of production traffic on the new revision
    test_percent: float | None = None
    hook_id: str = ""
    hook_status: str = ""  # AWAITING_ACTION, SUCCEEDED, FAILED, TIMED_OUT
    status: str = ""  # the deployment's: IN_PROGRESS, ROLLBACK_IN_PROGRESS, ...
    reason: str = ""

    def fields(self) -> dict[str, Any]:
        """The event's fields, as ``--events`` carries them (without ``kind``)."""
        return {k: v for k, v in asdict(self).items() if k != "kind"}

    def text(self) -> str:
        """The event as a line for people."""
        if self.kind == "stage":
            return f"stage {self.stage}: {self.description}".rstrip(": ")
        if self.kind == "traffic":
            return f"production traffic: {self.production_percent:g}% on the new revision"
        if self.kind == "hook":
            return f"hook {self.hook_id} at {self.stage}: {self.hook_status}"
        return f"{self.status}: {self.reason}"


class Progress(Protocol):
    """What a long operation tells the person (or program) watching it."""

    def note(self, subject: str, text: str) -> None:
        """A step: ``deploying web@sha256:...``, ``amd64: task 3f2a is RUNNING``."""
        ...

    def line(self, subject: str, text: str) -> None:
        """A line a task wrote (kaniko's log, the controller's); ``subject`` '' for a single
        task, else which one (``amd64``, ``jenkins-controller``)."""
        ...

    def deployment(self, event: DeploymentEvent) -> None:
        """A change in a progressive deployment."""
        ...

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """A stack's change set, about to be applied."""
        ...

    def event(self, event: StackEvent) -> None:
        """One of a stack's resource events."""
        ...

    def result(self, result: StackResult) -> None:
        """How a stack's turn ended."""
        ...
