"""What ``dockyard rollback`` should do, decided from what ECS says: a pure function over the
service (DescribeServices) and its completed deployments (ListServiceDeployments), so that it
is the same from any machine and any number of times.

Every ``deploy`` registers a new task definition revision, so a deployment that puts an
*older* completed revision back in service is a rollback (``dockyard rollback``, or anyone's
UpdateService to an earlier revision). That is how a second rollback knows the first one
happened, with nothing kept on the machine that ran it: ECS's own history says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockyard.aws.services import CompletedDeployment, Deployment, ServiceState
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import short_arn

# A deployment takes more than a minute (its tasks start, then pass their health checks), so a
# service whose PRIMARY deployment began this long before ECS's newest completed one is an
# earlier view of the service, not the same deployment seen through two APIs.
STALE_SECONDS = 30.0


class NothingToRollBackError(DockyardError):
    """No earlier deployment of the app completed."""

    exit_code = ExitCode.AWS_PRECONDITION


@dataclass(frozen=True)
class RollTo:
    """Roll the service from ``current`` back to ``target``, a revision whose deployment
    completed. ``under_way`` is the deployment of ``current`` still rolling out, if any."""

    target: str
    current: str
    under_way: Deployment | None = None


@dataclass(frozen=True)
class AlreadyBack:
    """The service is already on (or already rolling back to) ``on``, rolled back from
    ``rolled_back_from``; ``by`` names the deployment that did it."""

    on: str
    rolled_back_from: str
    at: datetime | None
    by: str
    under_way: bool = False

    def sentence(self, app: str) -> str:
        """The line that says why nothing is done."""
        when = f" at {self.at.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}" if self.at else ""
        if self.under_way:
            return (f"{app} is already rolling back to {short_arn(self.on)} from "
                    f"{short_arn(self.rolled_back_from)} (deployment {self.by}, started{when}): "
                    "nothing to do")
        return (f"{app} is already on {short_arn(self.on)}, rolled back from "
                f"{short_arn(self.rolled_back_from)}{when}: nothing to do")


Decision = RollTo | AlreadyBack


def decide(app: str, state: ServiceState, history: list[CompletedDeployment]) -> Decision:
    """What a rollback of ``app`` does, given the service and its completed deployments
    (newest first). Raises :class:`NothingToRollBackError` when no earlier revision completed.
    """
    primary = state.primary
    current = primary.task_definition if primary else state.task_definition
    runs = _runs(history)
    good = {run.task_definition for run in runs}
    if stale(state, history):
        # DescribeServices still shows the service from before its newest deployment (ECS API
        # Reference, "Eventual consistency"): what that deployment completed is what runs.
        primary, current = None, runs[0].task_definition
    if primary is not None and primary.rollout_state == "FAILED" and runs:
        # ECS is undoing it (circuit breaker, alarm, hook): back to the last completed one.
        return AlreadyBack(runs[0].task_definition, current, primary.created_at,
                           primary.deployment_id, under_way=True)
    if primary is not None and primary.rollout_state == "IN_PROGRESS" and current in good:
        leaving = next((d.task_definition for d in state.deployments if d is not primary), "")
        if leaving and leaving != current:  # not a redeploy of the same revision
            return AlreadyBack(current, leaving, primary.created_at, primary.deployment_id,
                               under_way=True)
    if runs and runs[0].task_definition == current and len(runs) > 1 and \
            current in {run.task_definition for run in runs[1:]}:
        # ``by`` is an ECS deployment id, as in every other answer: the service's own when it
        # is the one that completed (the history's record has an id of another kind).
        by = primary.deployment_id if primary is not None and \
            primary.task_definition == current else short_arn(runs[0].arn)
        return AlreadyBack(current, runs[1].task_definition, runs[0].started_at, by)
    if runs and runs[0].task_definition != current and current in good and \
            primary is not None and primary.rollout_state == "COMPLETED":
        # ECS's history lags DescribeServices: the rollback's own record is not listed yet.
        return AlreadyBack(current, runs[0].task_definition, primary.created_at,
                           primary.deployment_id)
    target = next((run.task_definition for run in runs if run.task_definition != current), "")
    if not target:
        raise NothingToRollBackError(
            f"no earlier deployment of {app} completed: nothing to roll back to "
            f"(it runs {short_arn(current)})")
    under_way = primary if primary is not None and primary.rollout_state == "IN_PROGRESS" \
        else None
    return RollTo(target, current, under_way)


def stale(state: ServiceState, history: list[CompletedDeployment]) -> bool:
    """Whether ``state`` shows a deployment older than the newest one ECS's history says
    completed: a read from before that deployment, to be read again."""
    primary, newest = state.primary, history[0] if history else None
    if primary is None or primary.created_at is None or newest is None or \
            newest.started_at is None:
        return False
    return (newest.started_at - primary.created_at).total_seconds() > STALE_SECONDS


def _runs(history: list[CompletedDeployment]) -> list[CompletedDeployment]:
    """The history with repeats of one revision in a row (a forced new deployment) kept
    once, the newest of each: each entry then differs from the one before it."""
    runs: list[CompletedDeployment] = []
    for entry in history:
        if not runs or runs[-1].task_definition != entry.task_definition:
            runs.append(entry)
    return runs
