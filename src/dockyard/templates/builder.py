"""The ``<name>-builder`` stack: the cluster, Jenkins' image repositories, the build-context
bucket, kaniko task definitions, the agents' secrets, Jenkins' OIDC issuer and the untrusted
builds' role. Nothing here grows with the number of apps (their repositories, kaniko and
pipeline roles live in their own stacks), so the template stays far below CloudFormation's
51,200-byte TemplateBody limit.

kaniko comes in two kinds of task definition per architecture:
- trusted builds and Jenkins' images: no task role of its own (each build passes its
  destination's, so it pushes only there), the registry credentials when there are any;
- untrusted builds: the quarantine role (push to ``<name>/quarantine/*``, pull the trusted
  layer caches, which it never writes: ``--no-push-cache``), no registry credentials, logs of
  its own.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Join, Output, Ref, Sub, ecs, iam, s3
from troposphere import ec2 as tp_ec2
from troposphere.logs import LogGroup

from dockyard import trust
from dockyard.config.models import Config
from dockyard.names import (
    ARCH_TO_CPU,
    BUILD_STREAM_PREFIX,
    KANIKO_CONTAINER,
    Out,
    log_group_name,
)
from dockyard.templates.agents import add_agents
from dockyard.templates.pipelines import untrusted_pipeline_role
from dockyard.templates.placement import assign_public_ip, network_inputs
from dockyard.templates.policies import (
    ECR_PULL,
    ECR_PUSH,
    allow,
    ecr_pull_statements,
    ecr_repository_arn,
    logs_write_statement,
    task_role,
)
from dockyard.templates.repositories import (
    JENKINS_IMAGES,
    add_repositories,
    repository_names,
)
from dockyard.templates.stack import (
    Discovered,
    Input,
    StackTemplate,
    add_parameter,
    log_group,
    logical_id,
    new_template,
    private_bucket,
    suppress,
    tag_resources,
)
from dockyard.templates.trail import (
    ADOPT_PARAMETER,
    adopt_log_bucket,
    log_bucket,
    log_bucket_policy,
    log_bucket_ref,
    server_access_logging,
)
from dockyard.trust import PLATFORM, UNTRUSTED, context_prefix

CONTEXT_EXPIRY_DAYS = 7

__all__ = ["builder_architectures", "builder_stack", "repository_names"]


def builder_architectures(cfg: Config) -> list[str]:
    """The architectures the builder has a kaniko task definition for: the apps' (first one
    the default) and the one Jenkins runs on, whose images ``up`` builds."""
    return list(dict.fromkeys([*cfg.builder.architectures, cfg.jenkins.architecture]))


def kaniko_family(cfg: Config, arch: str, *, untrusted: bool = False) -> str:
    """The task definition family of kaniko for ``arch``."""
    return f"{cfg.name}-kaniko-{'untrusted-' if untrusted else ''}{arch}"


def build_log_group(cfg: Config, *, untrusted: bool = False) -> str:
    """The log group kaniko writes to: trusted builds' and Jenkins', or untrusted builds'."""
    return log_group_name(cfg.name, "builds-untrusted" if untrusted else "builds")


def builder_stack(cfg: Config) -> StackTemplate:
    """Render the builder stack for ``cfg``."""
    t = new_template(cfg, "ECS cluster, image repositories, build contexts and kaniko tasks")
    vpc = add_parameter(t, "VpcId", "AWS::EC2::VPC::Id", "The VPC builds run in.")
    subnets = add_parameter(t, "TaskSubnets", "List<AWS::EC2::Subnet::Id>",
                            "Subnets build tasks run in.")
    auth = cfg.builder.registry_auth_secret
    if auth:
        add_parameter(t, "RegistryAuthSecretArn", "String",
                      f"The ARN of {auth}: a Docker config JSON for other registries.")

    cluster = t.add_resource(suppress(ecs.Cluster(
        "Cluster",
        ClusterName=cfg.name,
        CapacityProviders=["FARGATE", "FARGATE_SPOT"],
        DefaultCapacityProviderStrategy=[
            ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)],
        # ECS Exec sessions (apps.<name>.exec) are written where the task's awslogs
        # configuration sends its logs: each app's own log group (ECS API Reference,
        # ExecuteCommandConfiguration.logging DEFAULT).
        Configuration=ecs.ClusterConfiguration(
            ExecuteCommandConfiguration=ecs.ExecuteCommandConfiguration(Logging="DEFAULT")),
    ), ("CKV_AWS_65", "Container Insights costs per metric; off until the user opts in")))

    inputs: dict[str, Input] = {"VpcId": network_inputs(cfg)["VpcId"],
                                "TaskSubnets": network_inputs(cfg)["TaskSubnets"]}
    if auth:
        inputs["RegistryAuthSecretArn"] = Discovered(f"secret-arn:{auth}")
    repos, adoptions = add_repositories(t, cfg, [f"{cfg.name}/{i}" for i in JENKINS_IMAGES])
    inputs.update(adoptions)

    if cfg.access_logs.enabled:
        inputs[ADOPT_PARAMETER] = adopt_log_bucket(t)
        t.add_resource(log_bucket(cfg))
        # The context bucket's generated name: <stack>-contextbucket-<random> (lower case).
        t.add_resource(log_bucket_policy(cfg, [Sub(
            "arn:${AWS::Partition}:s3:::${AWS::StackName}-contextbucket-*")]))
    bucket = t.add_resource(_context_bucket(cfg))
    t.add_resource(_tls_only_policy(bucket))
    logs = t.add_resource(log_group("BuildLogGroup", build_log_group(cfg),
                                    cfg.builder.log_retention_days))
    untrusted_logs = t.add_resource(log_group(
        "UntrustedBuildLogGroup", build_log_group(cfg, untrusted=True),
        cfg.builder.log_retention_days))
    execution_role = t.add_resource(task_role(
        "ExecutionRole", f"dockyard {cfg.name}: pulls the kaniko executor and writes build logs "
                         "(trusted builds and Jenkins' images)",
        logs_write_statement(GetAtt(logs, "Arn")),
        *ecr_pull_statements([cfg.builder.executor_image], []),
        *([allow(["secretsmanager:GetSecretValue"], [Ref("RegistryAuthSecretArn")],
                 sid="ReadRegistryCredentials")] if auth else []),
    ))
    # Untrusted builds get neither the registry credentials nor the trusted builds' logs.
    untrusted_execution = t.add_resource(task_role(
        "UntrustedExecutionRole", f"dockyard {cfg.name}: pulls the kaniko executor and writes "
                                  "untrusted build logs",
        logs_write_statement(GetAtt(untrusted_logs, "Arn")),
        *ecr_pull_statements([cfg.builder.executor_image], [])))
    kaniko_role = t.add_resource(task_role(
        "KanikoRole", f"dockyard {cfg.name}: kaniko pushes Jenkins' images and their layer "
                      "caches, nothing else",
        *kaniko_statements(cfg, [Sub(f"${{{bucket.title}.Arn}}/{context_prefix(PLATFORM)}*")],
                           push=[f"{cfg.name}/{image}{cache}" for image in JENKINS_IMAGES
                                 for cache in ("", "-cache")]),
        name=trust.kaniko_role(cfg, PLATFORM)))
    untrusted_kaniko = t.add_resource(task_role(
        "UntrustedKanikoRole", f"dockyard {cfg.name}: kaniko of an untrusted build pushes to "
                               "quarantine, reads the trusted cache",
        *kaniko_statements(cfg, [Sub(f"${{{bucket.title}.Arn}}/{context_prefix(UNTRUSTED)}*")],
                           push=[f"{cfg.name}/quarantine/*"],
                           pull=[f"{cfg.name}/*-cache"]),
        name=trust.kaniko_role(cfg, UNTRUSTED)))
    # A Dockerfile's RUN steps reach arbitrary package mirrors, so builds may go out anywhere;
    # nothing can connect in.
    security_group = t.add_resource(tp_ec2.SecurityGroup(
        "BuildSecurityGroup",
        GroupDescription=f"dockyard {cfg.name} builds: no inbound; outbound to registries and "
                         "package mirrors",
        VpcId=Ref(vpc),
        SecurityGroupEgress=[tp_ec2.SecurityGroupRule(
            IpProtocol="-1", CidrIp="0.0.0.0/0",
            Description="Builds fetch base images, packages and sources from the internet")],
    ))

    definitions = {}
    for arch in builder_architectures(cfg):
        definitions[Out.task_definition(arch)] = t.add_resource(_kaniko_task_definition(
            cfg, arch, execution_role, None, logs))
        definitions[Out.task_definition(arch, untrusted=True)] = t.add_resource(
            _kaniko_task_definition(cfg, arch, untrusted_execution, untrusted_kaniko,
                                    untrusted_logs))
    agents = add_agents(t, cfg, vpc=vpc)
    provider = t.add_resource(iam.OIDCProvider(
        "JenkinsIssuer", Url=trust.issuer_url(cfg), ClientIdList=[trust.AUDIENCE]))
    if cfg.jenkins.jobs:
        t.add_resource(untrusted_pipeline_role(
            cfg, provider, bucket=bucket.title, logs=untrusted_logs,
            families=[kaniko_family(cfg, a, untrusted=True) for a in builder_architectures(cfg)],
            passed=[GetAtt(untrusted_kaniko, "Arn"), GetAtt(untrusted_execution, "Arn")]))

    outputs = {
        Out.CLUSTER_NAME: Ref(cluster),
        Out.CLUSTER_ARN: GetAtt(cluster, "Arn"),
        Out.CONTEXT_BUCKET: Ref(bucket),
        Out.BUILD_LOG_GROUP: Ref(logs),
        Out.UNTRUSTED_LOG_GROUP: Ref(untrusted_logs),
        Out.EXECUTION_ROLE_ARN: GetAtt(execution_role, "Arn"),
        Out.KANIKO_ROLE_ARN: GetAtt(kaniko_role, "Arn"),
        Out.BUILD_SECURITY_GROUP_ID: Ref(security_group),
        Out.SUBNETS: Join(",", Ref(subnets)),
        Out.ASSIGN_PUBLIC_IP: "ENABLED" if assign_public_ip(cfg) else "DISABLED",
        Out.OIDC_PROVIDER_ARN: Ref(provider),
        **{key: Ref(definition) for key, definition in definitions.items()},
        **agents,
    }
    if cfg.access_logs.enabled:
        outputs[Out.LOG_BUCKET] = log_bucket_ref(cfg)
    for repo in repos:
        if not repo.title.endswith("Cache"):
            outputs[repo.title + "Uri"] = Sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}."
                                              f"${{AWS::URLSuffix}}/{repo.RepositoryName}")
    for name, value in outputs.items():
        t.add_output(Output(name, Value=value))
    return StackTemplate("builder", cfg.stack_name("builder"), tag_resources(t, cfg),
                         inputs=inputs)


def kaniko_statements(cfg: Config, contexts: list[Any], *, push: list[str],
                      pull: list[str] | None = None) -> list[Any]:
    """What kaniko of one destination may do: push to ``push`` (its image and cache), pull
    from ``pull``, and read its own contexts."""
    statements = [
        # GetAuthorizationToken has no resource to scope to: it only returns a registry login.
        allow(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
        allow(ECR_PUSH, [ecr_repository_arn(name) for name in push], sid="Push"),
        allow(["s3:GetObject"], contexts, sid="ReadBuildContexts"),
    ]
    if pull:
        statements.insert(2, allow(ECR_PULL, [ecr_repository_arn(name) for name in pull],
                                   sid="ReadLayerCache"))
    return statements


def _context_bucket(cfg: Config) -> s3.Bucket:
    """Build contexts and digest files, for a week; its server access logs go to the log
    bucket, once that bucket's policy lets S3 deliver them: S3 refuses a logging target that
    does not (InvalidTargetBucketForLogging; S3 User Guide, "Permissions for log delivery")."""
    bucket = s3.Bucket(
        "ContextBucket",
        **private_bucket(encryption="aws:kms", expiry_id="expire-build-inputs",
                         expiry_days=CONTEXT_EXPIRY_DAYS),
    )
    checks = [("CKV_AWS_21", "objects are content-addressed and expire after 7 days; versions "
                             "would only keep expired contexts")]
    if cfg.access_logs.enabled:
        bucket.LoggingConfiguration = server_access_logging(cfg)
        bucket.DependsOn = ["LogBucketPolicy"]
    else:
        checks.append(("CKV_AWS_18", "access_logs.enabled is false in dockyard.yml"))
    return suppress(bucket, *checks)


def _tls_only_policy(bucket: s3.Bucket) -> s3.BucketPolicy:
    return s3.BucketPolicy(
        "ContextBucketPolicy",
        Bucket=Ref(bucket),
        PolicyDocument={"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }]},
    )


def _kaniko_task_definition(cfg: Config, arch: str, execution_role: iam.Role,
                            kaniko_role: iam.Role | None, logs: LogGroup) -> ecs.TaskDefinition:
    """kaniko for ``arch``. The trusted definition has no task role: each build passes the one
    of its destination (``RunTask`` overrides), so a build for app A can push only to A's
    repository; run without one, kaniko has no credentials at all. The untrusted definition
    has the quarantine role and no registry credentials."""
    b = cfg.builder
    untrusted = kaniko_role is not None
    container = ecs.ContainerDefinition(
        Name=KANIKO_CONTAINER,
        Image=b.executor_image,
        Essential=True,
        # Container-level memory equals the task's: one container, and RunTask needs it set.
        Memory=b.memory,
        # The command (the kaniko argv) comes with each RunTask as an override.
        StopTimeout=30,
        # kaniko reads s3:// contexts with the AWS SDK, which needs the region spelled out.
        Environment=[ecs.Environment(Name="AWS_REGION", Value=Ref("AWS::Region"))],
        # Credentials for registries other than ECR reach kaniko from Secrets Manager through
        # the task definition, never through the command line or the logs.
        **({"Secrets": [ecs.Secret(Name="DOCKER_AUTH_CONFIG",
                                   ValueFrom=Ref("RegistryAuthSecretArn"))]}
           if b.registry_auth_secret and not untrusted else {}),
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(logs), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": BUILD_STREAM_PREFIX}),
    )
    # Not read-only: kaniko builds the image by unpacking layers into its own root filesystem.
    return ecs.TaskDefinition(
        logical_id("kaniko", *(["untrusted"] if untrusted else []), arch),
        Family=kaniko_family(cfg, arch, untrusted=untrusted),
        Cpu=str(b.cpu),
        Memory=str(b.memory),
        EphemeralStorage=ecs.EphemeralStorage(SizeInGiB=b.storage_gib),
        NetworkMode="awsvpc",
        RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=ecs.RuntimePlatform(OperatingSystemFamily="LINUX",
                                            CpuArchitecture=ARCH_TO_CPU[arch]),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        **({"TaskRoleArn": GetAtt(kaniko_role, "Arn")} if kaniko_role is not None else {}),
        ContainerDefinitions=[container],
    )
