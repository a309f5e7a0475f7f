"""The platform's stacks in order: ``up`` and ``diff``.

Stacks deploy network -> builder -> edge -> jenkins -> apps, each fed the outputs of the ones
before it, as its template's inputs declare. What the account must tell us (the default VPC, the
hosted zone) is looked up once, before the first stack, so a missing zone fails in seconds
rather than half way through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.aws.account import HostedZone, Identity
from dockyard.aws.cloudformation import ResourceChange, Stack
from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.retained import FileSystem, Repository
from dockyard.config.kinds import behind_load_balancer
from dockyard.config.models import Config, DefaultVpc, GitHub
from dockyard.errors import DockyardError, UsageError
from dockyard.names import (
    TAG_KEY,
    TEST_HEADER_PATTERN,
    Out,
    app_stack_key,
    log_bucket_name,
    new_test_header_value,
)
from dockyard.stacks import status as st
from dockyard.stacks.engine import Confirm, Engine, StackRequest
from dockyard.stacks.properties import PropertyChange
from dockyard.stacks.results import Outcome, StackResult
from dockyard.templates import (
    Built,
    Discovered,
    FromStack,
    Input,
    Retained,
    StackTemplate,
    render_stacks,
)


class RetainedLookup(Protocol):
    """Finding data kept by an earlier ``down`` (``dockyard.aws.retained``, or a fake)."""

    def file_systems(self, project: str) -> list[FileSystem]: ...
    def repositories(self, project: str) -> list[Repository]: ...
    def bucket_exists(self, bucket: str) -> bool: ...


class AccountApi(Protocol):
    """The account lookups ``up`` and ``diff`` make (``dockyard.aws.account``, or a fake)."""

    def identity(self) -> Identity: ...
    def default_vpc(self) -> tuple[str, list[str]]: ...
    def hosted_zone(self, domain: str, zone_id: str | None) -> HostedZone: ...
    def secret_arn(self, name: str, field: str = "") -> str: ...
    def secret_exists(self, ref: str) -> bool | None: ...
    def secret_fields(self, name: str) -> dict[str, str] | None: ...
    def forward_weights(self, stack: str, rule: str) -> dict[str, int]: ...
    def forget_rules(self, stack: str) -> None: ...
    def ongoing_deployment(self, cluster: str, service: str) -> str: ...
    def test_header(self, stack: str, rule: str) -> str: ...
    def serving_port(self, cluster: str, service: str) -> int | None: ...
    def service_exists(self, cluster: str, service: str) -> bool: ...
    def target_group_port(self, stack: str, logical_id: str) -> int | None: ...
    def stack_resources(self, stack: str) -> dict[str, str]: ...


@dataclass
class Platform:
    """One config's stacks, and what it takes to deploy them."""

    cfg: Config
    engine: Engine
    account: AccountApi
    retained: RetainedLookup
    stacks: list[StackTemplate] = field(default_factory=list)
    # Builds (or finds) the images a stack's Built inputs name; without it, a deployed stack
    # keeps the images it has (``diff`` builds nothing).
    images: Callable[[dict[str, dict[str, str]]], dict[str, str]] | None = None
    # What the lookups found that the person should know (a port change waiting for its
    # deploy), each once.
    warnings: list[str] = field(default_factory=list)
    _kept: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.stacks:
            self.stacks = render_stacks(self.cfg)

    def kept(self, source: Retained) -> str:
        """The parameter value adopting kept data: ``yes``/``no`` for a repository, the id (or
        empty) for JENKINS_HOME. Looked up once per run."""
        if self._kept is None:
            project = self.cfg.name
            self._kept = {f"repository:{r.name}": "yes"
                          for r in self.retained.repositories(project)}
            homes = [fs for fs in self.retained.file_systems(project)
                     if fs.name == f"{project}-jenkins-home"]
            if len(homes) > 1:
                ids = ", ".join(fs.file_system_id for fs in homes)
                raise DockyardError(f"several kept JENKINS_HOME file systems: {ids}",
                                    hint="set jenkins.file_system_id to the one to use")
            if homes:
                self._kept["file-system:jenkins-home"] = homes[0].file_system_id
        if source.kind == "bucket":
            return "yes" if self.retained.bucket_exists(self.log_bucket) else "no"
        default = "no" if source.kind == "repository" else ""
        return self._kept.get(f"{source.kind}:{source.name}", default)

    @property
    def log_bucket(self) -> str:
        """The name of this platform's access-log bucket in its account and region."""
        return log_bucket_name(self.cfg.name, self.account.identity().account, self.cfg.region)

    @property
    def tags(self) -> dict[str, str]:
        """Stack tags; CloudFormation copies them onto every resource that takes tags."""
        return {TAG_KEY: self.cfg.name}

    def live(self, stack: StackTemplate) -> Stack | None:
        """The deployed stack, if there is one."""
        return self.engine.api.describe(stack.name)


@dataclass(frozen=True)
class Diff:
    """What deploying one stack would do: ``create``, ``update`` or ``none``."""

    key: str
    name: str
    action: str
    changes: list[ResourceChange]
    details: dict[str, list[PropertyChange]] = field(default_factory=dict)
    parameters: list[PropertyChange] = field(default_factory=list)


def select(platform: Platform, only: list[str]) -> list[StackTemplate]:
    """The stacks named by ``--only`` (keys like ``edge`` or full names), in deploy order."""
    if not only:
        return list(platform.stacks)
    known = {s.key: s for s in platform.stacks} | {s.name: s for s in platform.stacks}
    unknown = [name for name in only if name not in known]
    if unknown:
        keys = ", ".join(s.key for s in platform.stacks)
        raise UsageError(f"--only {unknown[0]}: no such stack; this config has: {keys}")
    wanted = {known[name].key for name in only}
    return [s for s in platform.stacks if s.key in wanted]


def discover(platform: Platform) -> dict[str, str]:
    """Preflight: check the credentials, then look up what the stacks' parameters need."""
    cfg = platform.cfg
    platform.account.identity()
    facts: dict[str, str] = {}
    if isinstance(cfg.network, DefaultVpc):
        vpc_id, subnets = platform.account.default_vpc()
        facts["default-vpc-id"] = vpc_id
        facts["default-vpc-subnets"] = ",".join(subnets)
    zone = platform.account.hosted_zone(cfg.edge.domain, cfg.edge.hosted_zone_id)
    facts["hosted-zone-id"] = zone.zone_id
    if cfg.jenkins.github:
        _check_github_secret(platform)
    if cfg.jenkins.sign_in.github:
        _check_sign_in_secret(platform)
    needed = {source.fact for stack in platform.stacks for source in stack.inputs.values()
              if isinstance(source, Discovered)}
    live: dict[tuple[str, str], dict[str, int]] = {}
    for fact in sorted(needed):
        if fact.startswith("secret-arn:"):
            name = fact.removeprefix("secret-arn:")
            facts[fact] = platform.account.secret_arn(name, _secret_field(cfg, name))
        elif fact.startswith("forward-weight:"):
            _, stack, rule, group = fact.split(":")
            if (stack, rule) not in live:
                live[stack, rule] = platform.account.forward_weights(stack, rule)
            facts[fact] = str(live[stack, rule].get(group, 0) if live[stack, rule]
                              else first_weight(fact))
        elif fact.startswith("test-header:"):
            _, stack, rule = fact.split(":")
            value = platform.account.test_header(stack, rule)
            # A stack from before the value was secret wants the app's name: replaced.
            facts[fact] = value if re.fullmatch(TEST_HEADER_PATTERN, value) \
                else new_test_header_value()
        elif fact.startswith(("serving-port:", "created-port:")):
            facts[fact] = str(_port(platform, fact))
        elif fact.startswith("service-exists:"):
            app = fact.removeprefix("service-exists:")
            facts[fact] = str(platform.account.service_exists(cfg.name, app)).lower()
    _check_kinds_kept(platform)
    _check_back_to_rolling(platform)
    return facts


def _check_kinds_kept(platform: Platform) -> None:
    """Refuse to change a deployed app's kind (web <-> worker) in place: its security group
    would be replaced (its description names what it lets in) under the running tasks, which
    keep the old one, so CloudFormation could not delete it, and the load balancer's own group
    would stay referenced by it."""
    cfg = platform.cfg
    for stack in platform.stacks:
        app = stack.key.removeprefix("app-")
        if not stack.key.startswith("app-") or app not in cfg.apps:
            continue
        live = platform.account.stack_resources(stack.name)
        if "SecurityGroup" not in live:
            continue
        was = "web" if "TargetGroup" in live else "worker"
        wanted = cfg.apps[app].kind
        if (was == "web") != behind_load_balancer(cfg.apps[app]):
            raise UsageError(
                f"apps.{app}.kind: {app} is deployed as a {was}; a {wanted} has another "
                "security group, which cannot replace the one its running tasks hold",
                hint=f"keep kind: {was} for {app}, and add the {wanted} as an app of its "
                     "own name")


def _port(platform: Platform, fact: str) -> int:
    """The port a running app listens on (``serving-port:APP``), or the one its app stack's
    target group was created with (``created-port:STACK:GROUP``); dockyard.yml's port when
    there is none yet. A running app on another port than dockyard.yml's is warned about."""
    cfg = platform.cfg
    kind, _, rest = fact.partition(":")
    if kind == "created-port":
        stack, _, group = rest.partition(":")
        app = next(a for a in cfg.apps if cfg.stack_name(app_stack_key(a)) == stack)
        return platform.account.target_group_port(stack, group) or cfg.apps[app].listen_port
    app, wanted = rest, cfg.apps[rest].listen_port
    serving = platform.account.serving_port(cfg.name, app)  # the builder names the cluster
    if serving is not None and serving != wanted and \
            port_warning(app, serving, wanted) not in platform.warnings:
        platform.warnings.append(port_warning(app, serving, wanted))
    return serving or wanted


def port_warning(app: str, serving: int, wanted: int) -> str:
    """What a port change does, and the order in which it causes no outage."""
    return (f"warning: apps.{app}.port is {wanted} in dockyard.yml but {app}'s running tasks "
            f"listen on {serving}. `dockyard up` opens {wanted} beside {serving} and keeps the "
            f"target groups, so they go on serving; then `dockyard deploy {app} --image ...` "
            f"moves the tasks to {wanted} with no gap, and the next `dockyard up` closes "
            f"{serving}. Deploying before `up` is refused; a stack updated without a deploy "
            "after it keeps both ports open.")


def _check_back_to_rolling(platform: Platform) -> None:
    """Refuse to make a progressive app's stack rolling while production is on its alternate
    target group (as after an odd number of blue/green deployments): the rolling stack's rule
    forwards to its first group alone, which has no tasks, and the alternate group, which
    has them all, would be deleted with the tasks still registered."""
    cfg = platform.cfg
    for stack in platform.stacks:
        app = stack.key.removeprefix("app-")
        if not stack.key.startswith("app-") or app not in cfg.apps or \
                cfg.apps[app].deploy.progressive:
            continue
        weights = platform.account.forward_weights(stack.name, "HostRule")
        if weights.get("AlternateTargetGroup", 0) > 0:
            raise UsageError(
                f"apps.{app}.deploy.strategy: rolling would send {app}'s traffic to the app "
                f"stack's first target group, but production is on its alternate one "
                f"({weights.get('AlternateTargetGroup')}% after a blue/green deployment), "
                "where the tasks are",
                hint=f"first move production back: dockyard deploy {app} --image <the running "
                     f"image> --strategy blue-green (then `dockyard up`)")


def _settled(platform: Platform, stack: StackTemplate, facts: dict[str, str],
             outputs: dict[str, dict[str, str]]) -> None:
    """Right before a progressive app's stack is updated: refuse while one of its deployments
    is under way, and read the rules' weights again. ECS moves them during a deployment; an
    update carrying weights read earlier would send production back to the target group the
    deployment just left."""
    app = stack.key.removeprefix("app-")
    cfg = platform.cfg
    if not stack.key.startswith("app-") or app not in cfg.apps or \
            not cfg.apps[app].deploy.progressive:
        return
    builder = outputs.get("builder") or _live_outputs(platform, "builder") or {}
    cluster = builder.get(Out.CLUSTER_ARN, "")
    ongoing = platform.account.ongoing_deployment(cluster, app) if cluster else ""
    if ongoing:
        raise AwsPreconditionError(
            f"{stack.name}: a deployment of {app} is under way ({ongoing}); updating its stack "
            "now could move production traffic to the target group the deployment is leaving",
            hint=f"dockyard status {app} --wait follows it to its end; then run `dockyard up` "
                 "again")
    platform.account.forget_rules(stack.name)
    live: dict[str, dict[str, int]] = {}
    for fact in [f for f in facts if f.startswith(f"forward-weight:{stack.name}:")]:
        _, _, rule, group = fact.split(":")
        if rule not in live:
            live[rule] = platform.account.forward_weights(stack.name, rule)
        facts[fact] = str(live[rule].get(group, 0) if live[rule] else first_weight(fact))


def first_weight(fact: str) -> str:
    """A rule's weight for a target group before ECS has moved anything: all traffic to the
    app stack's first target group."""
    return "100" if fact.endswith(":TargetGroup") else "0"


def _secret_field(cfg: Config, name: str) -> str:
    """Where dockyard.yml names the secret ``name`` (the first app that does)."""
    return next((f"apps.{app}.secrets.{key}" for app, settings in cfg.apps.items()
                 for key, ref in settings.secrets.items() if ref == name), "")


def github_secret_keys(github: GitHub) -> list[str]:
    """The keys the GitHub secret's JSON must hold (the JCasC file reads each)."""
    login = ["private_key"] if github.app_id else ["username", "token"]
    return login + (["webhook_secret"] if github.webhook_secret else [])


def _check_github_secret(platform: Platform) -> None:
    """Jenkins reads its GitHub credentials from this secret; a wrong one would surface only as
    failing branch scans, so it is checked before anything is deployed."""
    github = platform.cfg.jenkins.github
    assert github is not None
    name = github.credentials_secret
    wanted = github_secret_keys(github)
    example = "{" + ", ".join(f'"{k}": "..."' for k in wanted) + "}"
    keys = platform.account.secret_fields(name)
    if keys is None:
        raise AwsPreconditionError(
            f"jenkins.github.credentials_secret: the secret {name} does not exist",
            hint=f"aws secretsmanager create-secret --region {platform.cfg.region} --name {name} "
                 f"--secret-string '{example}'")
    missing = [k for k in wanted if k not in keys]
    if missing:
        raise AwsPreconditionError(
            f"jenkins.github.credentials_secret: the secret {name} lacks "
            f"{', '.join(missing)}", hint=f"it must hold JSON like {example}: aws secretsmanager "
                                          f"put-secret-value --region {platform.cfg.region} "
                                          f"--secret-id {name} --secret-string '{example}'")
    if github.app_id and (label := keys["private_key"]) != "PRIVATE KEY":
        found = f"a {label} key (PKCS#1, as GitHub downloads it)" if label == "RSA PRIVATE KEY" \
            else "no PEM private key"
        raise AwsPreconditionError(
            f"jenkins.github.credentials_secret: the secret {name}'s private_key holds {found}; "
            "Jenkins reads a GitHub App's key only in PKCS#8 (BEGIN PRIVATE KEY)",
            hint="openssl pkcs8 -topk8 -nocrypt -in app.private-key.pem -out app.pkcs8.pem, then "
                 "put the new file's text in private_key")


def _check_sign_in_secret(platform: Platform) -> None:
    """Jenkins reads the OAuth App's client secret at start; without it no one could sign in
    (the agents still join), so it is checked before anything is deployed."""
    sign_in = platform.cfg.jenkins.sign_in.github
    assert sign_in is not None
    name = sign_in.client_secret
    if platform.account.secret_exists(name) is False:
        raise AwsPreconditionError(
            f"jenkins.sign_in.github.client_secret: the secret {name} does not exist",
            hint=f"aws secretsmanager create-secret --region {platform.cfg.region} --name "
                 f"{name} --secret-string '<the OAuth App client secret>'")


AfterDeploy = Callable[[StackTemplate, StackResult, dict[str, dict[str, str]]], None]


def up(platform: Platform, only: list[str], confirm: Confirm,
       after: AfterDeploy | None = None) -> list[StackResult]:
    """Deploy the selected stacks in order; stop at the first that does not succeed.

    ``after`` runs once a stack is in place (the CLI waits for Jenkins there).
    """
    selected = select(platform, only)
    facts = discover(platform)
    outputs: dict[str, dict[str, str]] = {}
    results: list[StackResult] = []
    for stack in selected:
        _settled(platform, stack, facts, outputs)
        request = _request(platform, stack, facts, outputs)
        result = platform.engine.deploy(request, confirm)
        results.append(result)
        if not result.ok:
            break
        outputs[stack.key] = result.outputs
        if after is not None:
            after(stack, result, outputs)
    return results


def diff(platform: Platform, only: list[str] | None = None) -> list[Diff]:
    """What ``up`` (of the stacks ``only`` names, else all) would change, stack by stack;
    change sets are deleted afterwards."""
    selected = select(platform, only or [])
    facts = discover(platform)
    outputs: dict[str, dict[str, str]] = {}
    diffs: list[Diff] = []
    for stack in selected:
        live = platform.live(stack)
        if live is None or st.needs_cleanup(live.status):
            diffs.append(Diff(stack.key, stack.name, "create", _all_added(stack)))
            continue
        missing = [d for d in stack.depends_on if d not in outputs and
                   _live_outputs(platform, d) is None]
        if missing:
            raise AwsPreconditionError(
                f"{stack.name} exists but {platform.cfg.stack_name(missing[0])} does not",
                hint="run `dockyard up` to bring the platform back in order")
        preview = platform.engine.preview(_request(platform, stack, facts, outputs))
        outputs[stack.key] = preview.outputs
        action = "none" if preview.outcome == Outcome.NO_CHANGES else "update"
        diffs.append(Diff(stack.key, stack.name, action, preview.changes, preview.details,
                          preview.parameters))
    return diffs


def _request(platform: Platform, stack: StackTemplate, facts: dict[str, str],
             outputs: dict[str, dict[str, str]]) -> StackRequest:
    for dependency in stack.depends_on:
        if dependency not in outputs:
            found = _live_outputs(platform, dependency)
            if found is None:
                name = platform.cfg.stack_name(dependency)
                raise AwsPreconditionError(
                    f"{stack.name} needs {name}, which is not deployed",
                    hint=f"deploy it first: dockyard up --only {dependency}")
            outputs[dependency] = found
    needs_live = any(isinstance(s, Built | Retained) for s in stack.inputs.values())
    live = platform.live(stack) if needs_live else None
    if live is not None and st.needs_cleanup(live.status):
        live = None  # a failed creation's values are not worth keeping

    def lookup(name: str, source: Input) -> str:
        if isinstance(source, Discovered):
            return facts[source.fact]
        if isinstance(source, Built) and platform.images is not None:
            return platform.images(outputs)[source.image]
        if live is not None and name in live.parameters:
            return live.parameters[name]  # a deployed stack keeps its image and adoptions
        if isinstance(source, Built):
            raise DockyardError(f"{stack.name} needs the {source.image} image, which "
                                "`dockyard up` builds", hint="run dockyard up")
        assert isinstance(source, Retained)
        return platform.kept(source)

    for source in stack.inputs.values():
        if isinstance(source, FromStack) and source.output not in outputs[source.stack]:
            name = platform.cfg.stack_name(source.stack)
            raise AwsPreconditionError(
                f"{stack.name} needs the output {source.output} of {name}, which a dockyard "
                "before this one did not write", hint=f"update it first: dockyard up --only "
                                                      f"{source.stack}")
    return StackRequest(key=stack.key, name=stack.name, template=stack.to_compact_json(),
                        parameters=stack.parameter_values(outputs, lookup), tags=platform.tags)


def _live_outputs(platform: Platform, key: str) -> dict[str, str] | None:
    stack = platform.engine.api.describe(platform.cfg.stack_name(key))
    if stack is None or not st.is_success(stack.status):
        return None
    return stack.outputs


def _all_added(stack: StackTemplate) -> list[ResourceChange]:
    resources = stack.to_dict().get("Resources", {})
    return [ResourceChange(action="Add", logical_id=name, resource_type=r["Type"])
            for name, r in resources.items()]
