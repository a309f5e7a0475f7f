"""The roles pipeline builds assume with their Jenkins id token (dockyard.trust), and what
each may do.

- ``<name>-pipeline-untrusted`` (builder stack): any build of the platform's jobs. It runs the
  untrusted kaniko task definitions (tagged ``dockyard:app=untrusted``), passes only their
  roles, writes only ``contexts/untrusted/`` and ``digests/untrusted/``, reads only untrusted
  build logs, and reads or completes images only in ``<name>/quarantine/*``.
- ``<name>-pipeline-<app>`` (the app's stack): the deploy branches of the app's job. It builds
  into the app's repository (passing the app's own kaniko role), runs the app's one-off tasks,
  registers the app's task definitions (passing only the app's roles) and deploys the app's
  service; every ECS action names the app's resources or requires the app's tag, so it can
  touch no other app and not the Jenkins controller.

Both are scoped by resource names, never by ``*`` where AWS offers a resource: the only
wildcards are the actions AWS gives no resource to (``ecs:DescribeTaskDefinition``,
``ecr:GetAuthorizationToken``), and each is said where it is granted.
"""

from __future__ import annotations

from typing import Any

from awacs import aws as iam
from troposphere import GetAtt, Ref, Sub
from troposphere import iam as tp_iam

from dockyard import trust
from dockyard.config.models import Config
from dockyard.names import APP_TAG, log_group_name
from dockyard.templates.policies import allow, pipeline_role, web_identity_trust

_ARN = "arn:${AWS::Partition}"
_ECS = f"{_ARN}:ecs:${{AWS::Region}}:${{AWS::AccountId}}"
_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def _families(cfg: Config, families: list[str]) -> list[Sub]:
    return [Sub(f"{_ECS}:task-definition/{family}:*") for family in families]


def _cluster(cfg: Config) -> Sub:
    return Sub(f"{_ECS}:cluster/{cfg.name}")


def _tasks(cfg: Config) -> Sub:
    return Sub(f"{_ECS}:task/{cfg.name}/*")


def _stack(cfg: Config, key: str) -> Sub:
    return Sub(f"{_ARN}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/"
               f"{cfg.stack_name(key)}/*")


def task_statements(cfg: Config, value: str, families: list[str]) -> list[iam.Statement]:
    """Run ``families`` on the platform's cluster, tagged ``dockyard:app=value``, and follow
    and stop only tasks carrying that tag."""
    return [
        # A pipeline's tasks never have ECS Exec: `dockyard exec` is for people, into a
        # service's tasks (apps.<name>.exec).
        allow(["ecs:RunTask"], _families(cfg, families), iam.Condition([
            iam.ArnEquals("ecs:cluster", _cluster(cfg)),
            iam.StringEquals(f"aws:RequestTag/{APP_TAG}", value),
            iam.StringEqualsIfExists("ecs:enable-execute-command", "false")]), sid="RunTasks"),
        allow(["ecs:TagResource"], [_tasks(cfg)], iam.Condition(iam.StringEquals({
            "ecs:CreateAction": "RunTask", f"aws:RequestTag/{APP_TAG}": value})),
              sid="TagTasks"),
        allow(["ecs:DescribeTasks", "ecs:StopTask"], [_tasks(cfg)], iam.Condition(
            iam.StringEquals(f"aws:ResourceTag/{APP_TAG}", value)), sid="FollowTasks"),
    ]


def build_statements(cfg: Config, destination: str, *, bucket: str, logs: Any,
                     passed: list[Any], repositories: list[str]) -> list[iam.Statement]:
    """What a build for ``destination`` (an app, or ``untrusted``) needs besides starting its
    tasks: pass its kaniko roles, its own contexts and digest files, its build logs, reading
    and completing its images, and the builder stack's outputs."""
    prefixes = [trust.context_prefix(destination), trust.digest_prefix(destination)]
    repos = [Sub(f"{_ARN}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{name}")
             for name in repositories]
    return [
        allow(["iam:PassRole"], passed, iam.Condition(iam.StringEquals(_TASKS)),
              sid="PassBuildRoles"),
        # ``bucket``: the logical id of the bucket, or of the parameter naming it
        allow(["s3:GetObject", "s3:PutObject"],
              [Sub(f"{_ARN}:s3:::${{{bucket}}}/{prefix}*") for prefix in prefixes],
              sid="BuildInputs"),
        allow(["logs:GetLogEvents"], [logs], sid="BuildLogs"),
        # DescribeImages and BatchGetImage verify the pushed digest; PutImage writes the image
        # index of a multi-architecture build.
        allow(["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:PutImage"], repos, sid="Images"),
        allow(["cloudformation:DescribeStacks"], [_stack(cfg, "builder")],
              sid="ReadBuilderStack"),
    ]


def untrusted_pipeline_role(cfg: Config, provider: Any, *, bucket: str, logs: Any,
                            families: list[str], passed: list[Any]) -> tp_iam.Role:
    """The role of every untrusted build (builder stack)."""
    trust_policy = web_identity_trust(Ref(provider), trust.issuer_host(cfg), trust.AUDIENCE,
                                      subjects=trust.untrusted_subjects(cfg), like=True)
    return pipeline_role(
        "UntrustedPipelineRole", trust.pipeline_role(cfg, None),
        f"dockyard {cfg.name}: untrusted pipeline builds (pull requests, other branches) build "
        "into quarantine", trust_policy, trust.max_session_seconds(cfg, None),
        *task_statements(cfg, trust.UNTRUSTED, families),
        *build_statements(cfg, trust.UNTRUSTED, bucket=bucket,
                          logs=GetAtt(logs, "Arn"), passed=passed,
                          repositories=[f"{cfg.name}/quarantine/*"]))


def app_pipeline_role(cfg: Config, app: str, *, provider: Any, bucket: str, build_logs: Any,
                      kaniko_families: list[str], passed_to_tasks: list[Any],
                      passed_to_ecs: list[Any], app_logs: list[Any]) -> tp_iam.Role:
    """The role of the trusted builds of ``app``'s job (the app's stack)."""
    trust_policy = web_identity_trust(provider, trust.issuer_host(cfg), trust.AUDIENCE,
                                      subjects=trust.trusted_subjects(cfg, app))
    family = f"{cfg.name}-{app}"
    service = Sub(f"{_ECS}:service/{cfg.name}/{app}")
    repository = cfg.repository_of(app)
    builds = cfg.apps[app].image_from is None
    deploys = [
        *task_statements(cfg, app, [*kaniko_families, f"{family}-run"]),
        *(build_statements(cfg, app, bucket=bucket, logs=build_logs, passed=passed_to_tasks,
                           repositories=[repository]) if builds
          else _image_from_statements(cfg, repository, passed_to_tasks)),
        # A service deployed by a pipeline gets ECS Exec only when dockyard.yml (as `up` last
        # applied it) gives it, apps.<app>.exec; turning it off is always allowed, so a
        # commit that turns it off deploys before the next `up`.
        allow(["ecs:CreateService", "ecs:UpdateService"], [service], iam.Condition([
            iam.ArnLikeIfExists("ecs:task-definition",
                                Sub(f"{_ECS}:task-definition/{family}:*")),
            iam.StringEqualsIfExists("ecs:enable-execute-command",
                                     ["true", "false"] if cfg.apps[app].exec else "false")]),
              sid="Deploy"),
        allow(["ecs:DescribeServices", "ecs:ListServiceDeployments"], [service],
              sid="ReadService"),
        # deploy holds the image to ECR's scan of it (apps.<app>.deploy.critical_findings)
        allow(["ecr:DescribeImageScanFindings"], [Sub(
            f"{_ARN}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{repository}")],
              sid="ReadScanFindings"),
        # The Service Authorization Reference lists both resource types as required.
        allow(["ecs:DescribeServiceRevisions"],
              [service, Sub(f"{_ECS}:service-revision/{cfg.name}/{app}/*")],
              sid="ReadRevisions"),
        # Stop: a deploy cancelled before its smoke test rolls its own deployment back.
        allow(["ecs:DescribeServiceDeployments", "ecs:ContinueServiceDeployment",
               "ecs:StopServiceDeployment"],
              [Sub(f"{_ECS}:service-deployment/{cfg.name}/{app}/*")], sid="FollowDeployments"),
        allow(["ecs:RegisterTaskDefinition"], _families(cfg, [family, f"{family}-run"]),
              sid="RegisterTaskDefinitions"),
        allow(["ecs:TagResource"], [service, *_families(cfg, [family, f"{family}-run"])],
              iam.Condition(iam.StringEquals(
                  "ecs:CreateAction", ["CreateService", "RegisterTaskDefinition"])),
              sid="TagOnCreate"),
        # status reads the app's scaling range; DescribeScalableTargets has no resource type.
        allow(["application-autoscaling:DescribeScalableTargets"], ["*"], sid="ReadScaling"),
        # DescribeTaskDefinition has no resource type: AWS authorizes it on "*" only.
        allow(["ecs:DescribeTaskDefinition"], ["*"], sid="ReadTaskDefinitions"),
        allow(["ecs:ListTasks"], ["*"], iam.Condition(iam.ArnEquals("ecs:cluster",
                                                                    _cluster(cfg))),
              sid="ListTasks"),
        allow(["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"],
              app_logs, sid="AppLogs"),
        allow(["cloudformation:DescribeStacks"],
              [_stack(cfg, "edge"), _stack(cfg, f"app-{app}")], sid="ReadAppStacks"),
    ]
    if passed_to_ecs:  # a progressive strategy's infrastructure role goes to ECS itself
        deploys.append(allow(["iam:PassRole"], passed_to_ecs, iam.Condition(iam.StringEquals(
            "iam:PassedToService", "ecs.amazonaws.com")), sid="PassTrafficRole"))
    subjects = ", ".join(trust.trusted_subjects(cfg, app))
    does = f"build, migrate and deploy {app}" if builds else \
        f"migrate and deploy {app} with {repository}'s images"
    return pipeline_role(
        "PipelineRole", trust.pipeline_role(cfg, app),
        f"dockyard {cfg.name}: trusted builds of {app} ({subjects}) {does}", trust_policy,
        trust.max_session_seconds(cfg, app), *deploys)


def _image_from_statements(cfg: Config, repository: str,
                           passed: list[Any]) -> list[iam.Statement]:
    """An app that runs another app's images (apps.<name>.image_from) builds nothing: it
    passes its own task roles and reads, never writes, the images it deploys."""
    return [
        allow(["iam:PassRole"], passed, iam.Condition(iam.StringEquals(_TASKS)),
              sid="PassTaskRoles"),
        allow(["ecr:DescribeImages", "ecr:BatchGetImage"], [Sub(
            f"{_ARN}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{repository}")],
              sid="ReadImages"),
        allow(["cloudformation:DescribeStacks"], [_stack(cfg, "builder")],
              sid="ReadBuilderStack"),
    ]


def app_log_arns(cfg: Config, app: str) -> list[Sub]:
    """The ARNs of an app's log group (FilterLogEvents, DescribeLogStreams) and of its streams
    (GetLogEvents: ``log-group:NAME:log-stream:STREAM``)."""
    group = (f"{_ARN}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:"
             f"{log_group_name(cfg.name, f'apps/{app}')}")
    return [Sub(group), Sub(group + ":*")]
