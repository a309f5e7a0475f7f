"""Finding where an app runs, from dockyard.yml and the deployed stacks."""

from __future__ import annotations

from dockyard.aws.cloudformation import StackReader
from dockyard.aws.errors import AwsPreconditionError
from dockyard.config.models import Config
from dockyard.deploy.definition import AppTarget, target_from_outputs
from dockyard.errors import UsageError
from dockyard.names import Out, app_stack_key
from dockyard.rules import shown


def check_app(cfg: Config, app: str) -> None:
    """Refuse an app that dockyard.yml does not declare."""
    if app not in cfg.apps:
        names = ", ".join(sorted(cfg.apps)) or "none"
        raise UsageError(f"APP {shown(app)}: dockyard.yml declares no such app (apps: {names})")


def find_target(stacks: StackReader, cfg: Config, app: str) -> AppTarget:
    """The app's target, from the builder and app stacks (two DescribeStacks)."""
    check_app(cfg, app)
    builder = stacks.describe(cfg.stack_name("builder"))
    if builder is None or not builder.outputs.get(Out.CLUSTER_ARN):
        raise AwsPreconditionError(f"{cfg.stack_name('builder')} is not deployed in {cfg.region}",
                                   hint="run: dockyard up")
    name = cfg.stack_name(app_stack_key(app))
    app_stack = stacks.describe(name)
    if app_stack is None or not app_stack.outputs.get(Out.SECURITY_GROUP_ID):
        raise AwsPreconditionError(f"{name} is not deployed in {cfg.region}",
                                   hint=f"run: dockyard up --only {app_stack_key(app)}")
    return target_from_outputs(cfg, app, builder.outputs, app_stack.outputs)
