"""The composition root: one object per command, built from the global options.

It loads the config, opens the AWS session and makes each client wrapper once, on first use, so
a command that never touches AWS never imports boto3. Domain code (builds/, deploy/, stacks/)
receives the wrappers it needs from here and never builds a client itself
(tests/project/test_layering.py holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dockyard.polling import Clock, SystemClock
from dockyard.ui.console import Console

if TYPE_CHECKING:
    from dockyard.aws.account import Account
    from dockyard.aws.cloudformation import CloudFormation
    from dockyard.aws.ecs import Ecs
    from dockyard.aws.retained import RetainedData
    from dockyard.aws.services import Services, TargetHealth
    from dockyard.aws.session import AwsSession
    from dockyard.aws.storage import Logs, Objects, Registry
    from dockyard.builds.builder import BuildClients
    from dockyard.cli.common import RunState
    from dockyard.config import Config, LoadedConfig
    from dockyard.ui.progress import Reporter


@dataclass
class Wiring:
    """What a command works with: its options, console, clock, config and AWS clients."""

    run: RunState

    @cached_property
    def clock(self) -> Clock:
        """The one clock every wait of the command uses."""
        return SystemClock()

    @property
    def console(self) -> Console:
        """The command's stdout and stderr."""
        return self.run.console

    @cached_property
    def progress(self) -> Reporter:
        """Where long operations report: NDJSON events on stdout with ``--events``, else a
        live view on a terminal, else timestamped lines on stderr."""
        from dockyard.ui.progress import LiveReporter, NdjsonReporter, PlainReporter

        if self.run.events:
            return NdjsonReporter(self.console)
        if self.console.interactive:
            return LiveReporter(self.console)
        return PlainReporter(self.console)

    @property
    def output(self) -> str:
        """``text`` or ``json`` (``--output``)."""
        return self.run.output

    def result(self, document: dict[str, Any], text: str | None) -> None:
        """Write a command's result on stdout: the last event with ``--events``, one JSON
        document with ``--output json``, else ``text`` (nothing when None)."""
        if self.run.events:
            self.progress.summary(document)
        elif self.output == "json":
            self.console.json(document)
        elif text is not None:
            self.console.data(text)

    @cached_property
    def loaded(self) -> LoadedConfig:
        """dockyard.yml (from ``--config``), with ``--region`` applied."""
        return self.run.load_config()

    @property
    def cfg(self) -> Config:
        """The validated config."""
        return self.loaded.config

    @cached_property
    def aws(self) -> AwsSession:
        """One session for the whole command, in the config's region."""
        from dockyard.aws.session import make_session

        return make_session(self.run.profile, self.cfg.region,
                            self.console.note if self.run.debug else None)

    @cached_property
    def stacks(self) -> CloudFormation:
        """CloudFormation."""
        from dockyard.aws.cloudformation import CloudFormation

        return CloudFormation(self.aws.client("cloudformation"))

    @cached_property
    def cluster(self) -> str:
        """The platform's ECS cluster (the builder stack's output), '' before the first up."""
        from dockyard.names import Out

        builder = self.stacks.describe(self.cfg.stack_name("builder"))
        return builder.outputs.get(Out.CLUSTER_ARN, "") if builder else ""

    @cached_property
    def tasks(self) -> Ecs:
        """ECS tasks and clusters."""
        from dockyard.aws.ecs import Ecs

        return Ecs(self.aws.client("ecs"))

    @cached_property
    def services(self) -> Services:
        """ECS services, deployments and task definitions."""
        from dockyard.aws.services import Services

        return Services(self.aws.client("ecs"))

    @cached_property
    def logs(self) -> Logs:
        """CloudWatch Logs, read in loops that must not be held by one throttled read."""
        from dockyard.aws.session import BRIEF
        from dockyard.aws.storage import Logs

        return Logs(self.aws.client("logs", attempts=BRIEF))

    @cached_property
    def targets(self) -> TargetHealth:
        """The load balancer's health of target groups."""
        from dockyard.aws.services import TargetHealth

        return TargetHealth(self.aws.client("elbv2"))

    @cached_property
    def objects(self) -> Objects:
        """S3."""
        from dockyard.aws.storage import Objects

        return Objects(self.aws.client("s3"))

    @cached_property
    def registry(self) -> Registry:
        """ECR."""
        from dockyard.aws.storage import Registry

        return Registry(self.aws.client("ecr"))

    @cached_property
    def account(self) -> Account:
        """Who the caller is, the VPC, the hosted zone, the GitHub secret."""
        from dockyard.aws.account import Account

        return Account(self.aws.client("sts"), self.aws.client("ec2"),
                       self.aws.client("route53"), self.aws.client("secretsmanager"),
                       cloudformation=self.aws.client("cloudformation"),
                       elb=self.aws.client("elbv2"))

    @cached_property
    def retained(self) -> RetainedData:
        """What ``down`` keeps: EFS, ECR repositories, backups, the context bucket."""
        from dockyard.aws.retained import RetainedData

        return RetainedData(self.aws.client("efs"), self.aws.client("ecr"),
                            self.aws.client("backup"), self.aws.client("s3"))

    def secret_text(self, name: str) -> str | None:
        """A secret's text from Secrets Manager, or None when there is no such secret."""
        from dockyard.aws.secrets import secret_text

        return secret_text(self.aws.client("secretsmanager"), name)

    @cached_property
    def build_clients(self) -> BuildClients:
        """What a build needs from AWS."""
        from dockyard.builds.builder import BuildClients

        return BuildClients(stacks=self.stacks, tasks=self.tasks, logs=self.logs,
                            objects=self.objects, registry=self.registry,
                            signing_expiry=self.aws.credentials_expire)
