"""CloudFormation templates as code: pure functions of the config, no AWS calls.

:func:`render_stacks` returns every stack of the platform in deployment order (network, builder,
edge, jenkins, then one per app); each knows where its parameters come from at deploy time.
"""

from __future__ import annotations

from dockyard.config import limits
from dockyard.config.models import Config, CreateNetwork
from dockyard.errors import ConfigError
from dockyard.templates.app import app_stack
from dockyard.templates.builder import builder_stack
from dockyard.templates.edge import edge_stack
from dockyard.templates.jenkins import jenkins_stack
from dockyard.templates.network import network_stack
from dockyard.templates.stack import (
    Built,
    Discovered,
    FromStack,
    Input,
    Retained,
    StackTemplate,
    Value,
)

__all__ = ["Built", "Discovered", "FromStack", "Input", "Retained", "StackTemplate", "Value",
           "render_stacks"]


def render_stacks(cfg: Config) -> list[StackTemplate]:
    """Every stack for ``cfg``, in the order they must be deployed."""
    stacks = [network_stack(cfg)] if isinstance(cfg.network, CreateNetwork) else []
    stacks += [builder_stack(cfg), edge_stack(cfg), jenkins_stack(cfg)]
    stacks += [app_stack(cfg, name) for name in cfg.apps]
    for stack in stacks:
        check_quotas(stack)
    return stacks


def check_quotas(stack: StackTemplate) -> None:
    """Refuse a template CloudFormation would refuse for its size ("AWS CloudFormation quotas"),
    as a config error: it is the config that made it this big."""
    body = stack.to_dict()
    size = len(stack.to_compact_json().encode())  # the body `up` sends
    problems = [f"{stack.name}: its template is {size:,} bytes; CloudFormation takes "
                f"{limits.TEMPLATE_BODY_BYTES:,} in a request"] \
        if size > limits.TEMPLATE_BODY_BYTES else []
    for section, most in limits.TEMPLATE_COUNTS.items():
        count = len(body.get(section) or {})
        if count > most:
            problems.append(f"{stack.name}: {count} {section.lower()}; CloudFormation takes "
                            f"{most} per template")
    if problems:
        raise ConfigError(problems, hint="the config asks for more than one stack can hold: "
                                         "fewer secrets, env values or jobs")
