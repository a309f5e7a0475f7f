"""The composition root: one object per command, built from the global options.

It loads the config, opens the AWS session and makes each client wrapper once, on first use, so
a command that never touches AWS never imports boto3. Domain code (builds/, deploy/, stacks/)
receives the wrappers it needs from here and never builds a client itself
(tests/project/test_layering.py holds it to that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dockyard.polling import Clock, clock_from_env
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
    from dockyard.deploy.scaling import Scaling
    from dockyard.trust import Acting, Build
    from dockyard.ui.progress import Reporter


# The environment a pipeline step runs dockyard with (the library binds the token; the agent's
# task definition names the account).
ID_TOKEN_ENV = "DOCKYARD_ID_TOKEN"
ACCOUNT_ENV = "DOCKYARD_ACCOUNT_ID"


@dataclass
class Wiring:
    """What a command works with: its options, console, clock, config and AWS clients."""

    run: RunState
    acting: Acting | None = None
    session_for_seconds: float = 3600.0

    @cached_property
    def clock(self) -> Clock:
        """The one clock every wait of the command uses (the local emulator's, when
        DOCKYARD_EMULATOR_TIME_FACTOR asks for it)."""
        return clock_from_env(os.environ)

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
    def pipeline_build(self) -> Build | None:
        """The Jenkins build this command runs for, when a pipeline step runs it with its id
        token (``DOCKYARD_ID_TOKEN``); None for an operator."""
        from dockyard.trust import read_token

        token = os.environ.get(ID_TOKEN_ENV, "").strip()
        return read_token(token) if token else None

    def act_for_build(self, repository: str, seconds: float) -> Acting | None:
        """Before any AWS call of ``dockyard build --repo REPOSITORY``: in a pipeline, the role
        of the build's tier (the app's, or the untrusted one); None for an operator."""
        from dockyard import trust

        build = self.pipeline_build
        if build is None:
            return None
        return self._act(trust.for_build(self.cfg, build, repository), seconds)

    def act_for_app(self, app: str, what: str, seconds: float) -> Acting | None:
        """Before any AWS call of a command acting on ``app`` (deploy, run, rollback): in a
        pipeline, the app's role, refused for a build not trusted with it."""
        from dockyard import trust
        from dockyard.deploy.targets import check_app

        build = self.pipeline_build
        if build is None:
            return None
        check_app(self.cfg, app)
        return self._act(trust.for_app(self.cfg, build, app, what), seconds)

    def _act(self, acting: Acting, seconds: float) -> Acting:
        if "aws" in self.__dict__:
            raise RuntimeError("the identity is chosen before the first AWS call")
        self.acting, self.session_for_seconds = acting, seconds
        side = f"trusted for {acting.app}" if acting.trusted else \
            "untrusted: it builds into quarantine and deploys nothing"
        self.console.note(f"pipeline build {acting.build.subject} ({side}): as {acting.role}")
        return acting

    @cached_property
    def aws(self) -> AwsSession:
        """One session for the whole command, in the config's region: the operator's
        credentials, or in a pipeline the role its build's token is exchanged for."""
        from dockyard.aws.session import make_session

        log = self.console.note if self.run.debug else None
        build = self.pipeline_build
        if build is None:
            return make_session(self.run.profile, self.cfg.region, log)
        return self._web_identity_session(build, log)

    def _web_identity_session(self, build: Build, log: Any) -> AwsSession:
        from dockyard import trust
        from dockyard.aws.errors import AwsPreconditionError
        from dockyard.aws.session import WebIdentity, web_identity_session

        account = os.environ.get(ACCOUNT_ENV, "").strip()
        if not (account.isascii() and account.isdigit() and len(account) == 12):
            raise AwsPreconditionError(
                f"{ACCOUNT_ENV} is not set to an AWS account id: a pipeline build needs it to "
                "name the role its token is exchanged for",
                hint="the agents' task definition sets it; outside Jenkins, unset "
                     f"{ID_TOKEN_ENV} to use your own credentials")
        acting = self.acting or trust.for_any(self.cfg, build)
        seconds = trust.session_seconds(self.cfg, acting.app, self.session_for_seconds)
        identity = WebIdentity(token=os.environ[ID_TOKEN_ENV].strip(),
                               role_arn=trust.role_arn(self.cfg, account, acting.role),
                               session_name=build.session_name(), seconds=seconds,
                               subject=build.subject)
        return web_identity_session(identity, self.cfg.region, log)

    @cached_property
    def stacks(self) -> CloudFormation:
        """CloudFormation."""
        from dockyard.aws.cloudformation import CloudFormation

        return CloudFormation(self.aws.client("cloudformation"), self.cfg.stacks.role_arn)

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
    def scaling(self) -> Scaling:
        """Application Auto Scaling of the apps' services."""
        from dockyard.deploy.scaling import Scaling

        return Scaling(self.aws.client("application-autoscaling"))

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
                       elb=self.aws.client("elbv2"), ecs=self.aws.client("ecs"))

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
