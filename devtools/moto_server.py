"""A local AWS emulator for trying dockyard without an account (and for the end-to-end tests).

    .venv/bin/python -m devtools.moto_server [--port 4575] [--config dockyard.yml]
    .venv/bin/python -m devtools.moto_server [--name shop] [--write-config dockyard.yml]

Starts moto in server mode on localhost, creates what dockyard expects to find in an account
(a public hosted zone for the domain, an ACM certificate for ``*.<domain>`` and the project's
GitHub credentials secret), prints the environment to point dockyard at it, and runs until
Ctrl-C. The account follows a project: ``--config`` reads an existing dockyard.yml (one from
``dockyard init --name shop``) for its region, domain and secret; ``--write-config`` writes the
bundled example under ``--name`` with the emulator's certificate instead.
The default port is not 5000, which macOS' AirPlay receiver takes.

moto 5.2 forgets a stack's outputs when the stack was created or updated through a change set;
:func:`patch_moto` recomputes them after each execution, as CloudFormation does, and sets
LastUpdatedTime on updates ("This field will only be returned if the stack has been updated at
least once", CloudFormation API Reference, Stack). moto never rolls an ECS deployment;
devtools/ecs plays that part (including failures and rollbacks).

ECS's time is kept as ECS keeps it: a canary bakes for its minutes, a hook waits for its
timeout. ``--time-factor N`` runs that clock N times faster than the wall (devtools/ecs/clock.py),
and the printed environment hands the same factor to dockyard, whose waits shrink with it.

``--strict`` starts the strict profile instead (devtools/strict): AWS's host names through an
HTTPS proxy, IAM for role sessions, stale reads, quotas and seeded faults.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REGION = "ap-southeast-2"
DOMAIN = "example.com"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def patch_moto() -> None:
    """Make change-set executions refresh stack outputs and parameters (moto leaves them as
    they were), let ECS
    deployments roll (see devtools/ecs), and create the resource types moto's CloudFormation
    skips (see strict/cfn_models.py)."""
    from moto.cloudformation import models

    import devtools.strict.cfn_models  # noqa: F401  (registers the models)
    from devtools import scans
    from devtools.ecs import patch_ecs

    patch_ecs()
    scans.install()
    if getattr(models.ChangeSet.apply, "_dockyard_patched", False):
        return
    original = models.ChangeSet.apply

    def apply(self: Any) -> None:
        from moto.core.utils import utcnow

        original(self)
        self.stack.template_dict = self.template_dict
        # The stack now has the change set's parameter values (CloudFormation API Reference,
        # ExecuteChangeSet: the stack is updated "using the input information that was
        # provided when the specified change set was created"); moto keeps the first ones, so
        # every later identical change set looked like a change.
        if self.parameters:
            self.stack.parameters = self.parameters
        self.stack.output_map = self.stack._create_output_map()
        if self.change_set_type != "CREATE":
            self.stack.last_updated_time = utcnow()

    apply._dockyard_patched = True  # type: ignore[attr-defined]
    models.ChangeSet.apply = apply  # type: ignore[method-assign]


def task_steps(describes_per_step: int = 1) -> None:
    """How ECS tasks advance: one status (RUNNING, DEACTIVATING, ... STOPPED) per this many
    DescribeTasks calls. A large number keeps tasks running (for cancel and timeout tests)."""
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual",
                                               "times": describes_per_step})


def start(port: int = 0) -> tuple[Any, str]:
    """Start a threaded moto server on localhost; returns it and its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    patch_moto()
    task_steps(1)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def reset(endpoint: str) -> None:
    """Forget everything the emulator holds (moto's own reset call)."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


GITHUB_SECRET = "acme/github"
# What the GitHub App's secret holds (README, "GitHub access"), with stand-in values: a PKCS#8
# PEM frame around no key, and a webhook secret.
GITHUB_STAND_IN = {
    "private_key": "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n",
    "webhook_secret": "not-a-real-webhook-secret"}
NAME = "acme"
DEFAULT_PORT = 4575


def seed(endpoint: str, region: str = REGION, domain: str = DOMAIN, *,
         github_secret: str | None = GITHUB_SECRET) -> str:
    """Create what an account would have before ``up``: the hosted zone, a certificate (its ARN
    is returned) and the project's GitHub credentials secret ``github_secret`` (stand-in
    values; none when None)."""
    import boto3

    session = boto3.Session(region_name=region, aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    route53 = session.client("route53", endpoint_url=endpoint)
    if not route53.list_hosted_zones_by_name(DNSName=domain + ".")["HostedZones"]:
        route53.create_hosted_zone(Name=domain, CallerReference=f"dockyard-{time.time()}")
    secrets = session.client("secretsmanager", endpoint_url=endpoint)
    if github_secret and not secrets.list_secrets(
            Filters=[{"Key": "name", "Values": [github_secret]}])["SecretList"]:
        secrets.create_secret(Name=github_secret, SecretString=json.dumps(GITHUB_STAND_IN))
    acm = session.client("acm", endpoint_url=endpoint)
    return str(acm.request_certificate(DomainName=f"*.{domain}")["CertificateArn"])


def example_config(certificate_arn: str, name: str = NAME, region: str = REGION,
                   domain: str = DOMAIN) -> str:
    """The bundled example of project ``name``, using ``certificate_arn`` instead of ``auto``."""
    from dockyard.config import starter_text

    return starter_text(name=name, region=region, domain=domain).replace(
        "certificate: auto", f"certificate: {certificate_arn}", 1)


@dataclass(frozen=True)
class Project:
    """What the emulated account is seeded for: the project's region, domain and GitHub
    secret, and the config to write (None: a config of the user's own is served)."""

    name: str
    region: str
    domain: str
    github_secret: str | None
    write_to: str | None = None
    text: str | None = None  # the config served, when it is the user's own


READY = "Ctrl-C stops it."


def announced(lines: Iterable[str]) -> tuple[str, dict[str, str]]:
    """What a started emulator printed, up to the line that says it is ready, and the
    variables it tells the other shell to export (``export NAME=VALUE``)."""
    printed = []
    for line in lines:
        printed.append(line)
        if READY in line:
            break
    text = "".join(printed)
    return text, dict(re.findall(r"^\s+export (\w+)=(\S+)$", text, re.MULTILINE))


def project_of(args: argparse.Namespace) -> Project:
    """The project the arguments name: an existing dockyard.yml's (``--config``), else the
    example under ``--name`` in ``--region`` and ``--domain``. Raises ValueError with a line
    to print."""
    if args.config is None:
        github = None if args.without_github_secret else f"{args.name}/github"
        return Project(args.name, args.region, args.domain, github, args.write_config)
    from dockyard.config import parse_config
    from dockyard.errors import ConfigError

    try:
        with open(args.config, encoding="utf-8") as source:
            text = source.read()
        config = parse_config(text, args.config)
    except OSError as err:
        raise ValueError(f"--config: cannot read {args.config}: {err.strerror or err}") from None
    except ConfigError as err:
        raise ValueError(f"--config: {err.problems[0]}") from None
    hooks = config.jenkins.github
    secret = None if args.without_github_secret or hooks is None else hooks.credentials_secret
    return Project(config.name, config.region, config.edge.domain, secret, text=text)


def _free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` (moto's server would otherwise report the
    clash from its own thread and leave this one waiting)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a local AWS emulator for dockyard.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="PATH",
                        help="serve the project of this dockyard.yml (its region, domain and "
                             "GitHub secret), from `dockyard init` or your own")
    source.add_argument("--write-config", metavar="PATH",
                        help="write the example dockyard.yml (under --name) using the "
                             "emulator's certificate")
    parser.add_argument("--name", default=NAME, help=f"the example's project name (default "
                                                      f"{NAME}; with --write-config)")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--domain", default=DOMAIN)
    parser.add_argument("--kaniko", action="store_true",
                        help="also play kaniko's part for build tasks (see fake_kaniko.py)")
    parser.add_argument("--without-github-secret", action="store_true",
                        help="do not create the project's GitHub secret (NAME/github), to "
                             "create it yourself")
    parser.add_argument("--time-factor", type=float, default=None, metavar="N",
                        help="run ECS's clock N times faster than the wall (default: "
                             "DOCKYARD_EMULATOR_TIME_FACTOR, else 1): with 60, a 10-minute bake "
                             "takes 10 s")
    parser.add_argument("--strict", action="store_true",
                        help="the strict profile (devtools/strict): AWS's host names through an "
                             "HTTPS proxy, IAM for role sessions, stale reads, quotas, faults")
    args = parser.parse_args()
    try:
        project = project_of(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    from devtools.ecs import CLOCK, FACTOR_ENV
    from devtools.ecs.clock import factor_from_env

    try:
        factor = factor_from_env() if args.time_factor is None else args.time_factor
        CLOCK.set_factor(factor)
    except ValueError as err:
        print(f"--time-factor: {err}", file=sys.stderr)
        return 2
    time_env = {FACTOR_ENV: f"{CLOCK.factor:g}"} if CLOCK.factor != 1 else {}
    if args.strict:
        return _strict(args, project, time_env)
    if args.port and not _free(args.port):
        print(f"port {args.port} is in use (another emulator still running?): stop that one, "
              f"or pass --port with a free port", file=sys.stderr)
        return 2
    server, endpoint = start(args.port)
    certificate = seed(endpoint, project.region, project.domain,
                       github_secret=project.github_secret)
    if args.kaniko:
        from devtools.fake_kaniko import FakeKaniko

        FakeKaniko(endpoint, region=project.region).start()
    _write_config(project, certificate)
    print(f"moto is serving AWS at {endpoint} (region {project.region}, project "
          f"{project.name}); in another shell:\n")
    print(f"  export PATH={os.path.dirname(sys.executable)}:$PATH")
    folder = project.write_to or args.config
    if folder:
        print(f"  cd {os.path.dirname(os.path.abspath(folder))}")
    print(f"  export AWS_ENDPOINT_URL={endpoint}")
    for key, value in {**CREDENTIALS, **time_env}.items():
        print(f"  export {key}={value}")
    print(f"\nhosted zone: {project.domain}; certificate: {certificate}\n{READY}",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def _write_config(project: Project, certificate: str) -> None:
    if project.write_to is None:
        return
    if os.path.exists(project.write_to):
        print(f"{project.write_to} exists: not overwriting it (serve it with --config)",
              file=sys.stderr)
        return
    with open(project.write_to, "w", encoding="utf-8") as out:
        out.write(example_config(certificate, project.name, project.region, project.domain))
    print(f"wrote {project.write_to}", file=sys.stderr)


def _strict(args: argparse.Namespace, project: Project, time_env: dict[str, str]) -> int:
    from devtools.fake_kaniko import FakeKaniko
    from devtools.strict.account import CREDENTIALS_PATH, StrictAccount

    account = StrictAccount(region=project.region).start()
    certificate = seed(account.inspector, project.region, project.domain,
                       github_secret=project.github_secret)
    if args.kaniko:
        FakeKaniko(account, region=project.region).start()
    _write_config(project, certificate)
    from devtools.jenkins_oidc import JenkinsIssuer, serve_tokens
    from dockyard.config import parse_config

    served = project.text or example_config(certificate, project.name, project.region,
                                            project.domain)
    issuer = JenkinsIssuer(parse_config(served, "dockyard.yml"))
    account.publish(issuer)  # what AWS STS reaches at https://jenkins.<domain>/oidc
    _, tokens = serve_tokens(issuer)
    print("a strict emulated AWS account is running; in another shell:\n")
    for key, value in {**account.env(), **time_env}.items():
        print(f"  export {key}={value}")
    print(f"\nto act as a pipeline build after `up` (Jenkins' issuer is played too), instead "
          f"of the keys:\n  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n"
          f"  export DOCKYARD_ACCOUNT_ID=123456789012 "
          f"DOCKYARD_ID_TOKEN=$(curl -s {tokens}/token/web/main)   # or /token/web/PR-12\n"
          f"to act as any role of the account:\n"
          f"  export AWS_CONTAINER_CREDENTIALS_FULL_URI={account.world}{CREDENTIALS_PATH}"
          "role/ROLE-NAME\n"
          f"inspect the account without the strict rules at {account.inspector}\n"
          f"hosted zone: {project.domain}; certificate: {certificate}\n{READY}",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        account.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
