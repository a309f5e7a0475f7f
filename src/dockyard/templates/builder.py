"""The ``<name>-builder`` stack: the cluster, image repositories, the build-context bucket and
kaniko task definitions, with a task role that can push only to its own repositories.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import Equals, GetAtt, Join, Output, Parameter, Ref, Sub, ecr, ecs, iam, s3
from troposphere import ec2 as tp_ec2
from troposphere.logs import LogGroup

from dockyard.config.models import Config
from dockyard.templates.agents import add_agents
from dockyard.templates.common import (
    ECR_PUSH,
    Discovered,
    Input,
    Retained,
    StackTemplate,
    add_parameter,
    allow,
    assign_public_ip,
    ecr_pull_statements,
    ecr_repository_arn,
    log_group,
    logical_id,
    logs_write_statement,
    network_inputs,
    new_template,
    suppress,
    tag_resources,
    task_role,
)

CONTEXT_PREFIX = "contexts/"
DIGEST_PREFIX = "digests/"
CONTEXT_EXPIRY_DAYS = 7
CACHE_EXPIRY_DAYS = 14
UNTAGGED_EXPIRY_DAYS = 30
JENKINS_IMAGES = ("jenkins-controller", "jenkins-agent")
ARCH_TO_CPU = {"amd64": "X86_64", "arm64": "ARM64"}
KANIKO_CONTAINER = "kaniko"


def repository_names(cfg: Config) -> list[str]:
    """Every image repository the platform owns: Jenkins' two images and one per app."""
    return [f"{cfg.name}/{image}" for image in (*JENKINS_IMAGES, *cfg.apps)]


def build_log_group(cfg: Config) -> str:
    """The log group kaniko writes to."""
    return f"/dockyard/{cfg.name}/builds"


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
    ), ("CKV_AWS_65", "Container Insights costs per metric; off until the user opts in")))

    names = [*repository_names(cfg), *(f"{n}-cache" for n in repository_names(cfg))]
    inputs: dict[str, Input] = {"VpcId": network_inputs(cfg)["VpcId"],
                                "TaskSubnets": network_inputs(cfg)["TaskSubnets"]}
    if auth:
        inputs["RegistryAuthSecretArn"] = Discovered(f"secret-arn:{auth}")
    repos = []
    for name in names:
        repo = _repository(cfg, name, cache=name.endswith("-cache"))
        # A repository kept by an earlier `dockyard down` is adopted, not created again.
        adopt = t.add_parameter(Parameter(
            f"Adopt{repo.title}", Type="String", AllowedValues=["no", "yes"], Default="no",
            Description=f"'yes' when {name} exists already (kept by dockyard down)"))
        inputs[adopt.title] = Retained("repository", name)
        t.add_condition(f"Create{repo.title}", Equals(Ref(adopt), "no"))
        repo.Condition = f"Create{repo.title}"
        repos.append(t.add_resource(repo))

    bucket = t.add_resource(_context_bucket())
    t.add_resource(_tls_only_policy(bucket))
    logs = t.add_resource(log_group("BuildLogGroup", build_log_group(cfg),
                                    cfg.builder.log_retention_days))
    execution_role = t.add_resource(task_role(
        "ExecutionRole", f"dockyard {cfg.name}: pulls the kaniko executor and writes build logs",
        logs_write_statement(GetAtt(logs, "Arn")),
        *ecr_pull_statements([cfg.builder.executor_image], []),
        *([allow(["secretsmanager:GetSecretValue"], [Ref("RegistryAuthSecretArn")],
                 sid="ReadRegistryCredentials")] if auth else []),
    ))
    kaniko_role = t.add_resource(task_role(
        "KanikoRole", f"dockyard {cfg.name}: kaniko pushes to its own repositories only",
        # GetAuthorizationToken has no resource to scope to: it only returns a registry login.
        allow(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
        allow(ECR_PUSH, [ecr_repository_arn(name) for name in names], sid="PushOwnRepositories"),
        allow(["s3:GetObject"], [Sub(f"${{{bucket.title}.Arn}}/{CONTEXT_PREFIX}*")],
              sid="ReadBuildContexts"),
    ))
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

    for arch in cfg.builder.architectures:
        t.add_resource(_kaniko_task_definition(cfg, arch, execution_role, kaniko_role, logs))
    agents = add_agents(t, cfg, vpc=vpc, cluster=cluster, bucket=bucket, build_logs=logs,
                        build_roles=[GetAtt(execution_role, "Arn"), GetAtt(kaniko_role, "Arn")],
                        repositories=names)

    outputs = {
        "ClusterName": Ref(cluster),
        "ClusterArn": GetAtt(cluster, "Arn"),
        "ContextBucket": Ref(bucket),
        "BuildLogGroup": Ref(logs),
        "ExecutionRoleArn": GetAtt(execution_role, "Arn"),
        "KanikoRoleArn": GetAtt(kaniko_role, "Arn"),
        "BuildSecurityGroupId": Ref(security_group),
        "Subnets": Join(",", Ref(subnets)),
        "AssignPublicIp": "ENABLED" if assign_public_ip(cfg) else "DISABLED",
        **agents,
    }
    for arch in cfg.builder.architectures:
        outputs[logical_id("task", "definition", arch)] = Ref(logical_id("kaniko", arch))
    for repo in repos:
        if not repo.title.endswith("Cache"):
            outputs[repo.title + "Uri"] = Sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}."
                                              f"${{AWS::URLSuffix}}/{repo.RepositoryName}")
    for name, value in outputs.items():
        t.add_output(Output(name, Value=value))
    return StackTemplate("builder", cfg.stack_name("builder"), tag_resources(t, cfg),
                         inputs=inputs)


def _repository(cfg: Config, name: str, *, cache: bool) -> ecr.Repository:
    if cache:
        # kaniko's cache keys are content hashes it may push again; nothing deploys from here.
        rules = [_expire_rule(1, "Drop cache layers after 14 days", "any", CACHE_EXPIRY_DAYS)]
        mutability: dict[str, Any] = {"ImageTagMutability": "MUTABLE"}
    else:
        rules = [_expire_rule(1, "Drop untagged images after 30 days", "untagged",
                              UNTAGGED_EXPIRY_DAYS)]
        mutability = {
            "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "ImageTagMutabilityExclusionFilters": [
                ecr.ImageTagMutabilityExclusionFilter(
                    ImageTagMutabilityExclusionFilterType="WILDCARD",
                    ImageTagMutabilityExclusionFilterValue=tag)
                for tag in cfg.builder.mutable_tags],
        } if cfg.builder.mutable_tags else {"ImageTagMutability": "IMMUTABLE"}
    repository = ecr.Repository(
        logical_id("repo", name.split("/", 1)[1]),
        RepositoryName=name,
        ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
        LifecyclePolicy=ecr.LifecyclePolicy(
            LifecyclePolicyText=json.dumps({"rules": rules}, separators=(",", ":"))),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        **mutability,
    )
    checks = [("CKV_AWS_136", "ECR encrypts images at rest with AES-256; a customer key adds "
                              "cost without narrowing who can pull")]
    if not cache and cfg.builder.mutable_tags:
        checks.append(("CKV_AWS_51", "tags are immutable except those in builder.mutable_tags "
                                     "(IMMUTABLE_WITH_EXCLUSION); deploys pin digests anyway"))
    if cache:
        checks.append(("CKV_AWS_51", "cache tags are content hashes kaniko may push again; "
                                     "deploys never use this repository"))
    return suppress(repository, *checks)


def _expire_rule(priority: int, description: str, status: str, days: int) -> dict[str, Any]:
    return {"rulePriority": priority, "description": description,
            "selection": {"tagStatus": status, "countType": "sinceImagePushed",
                          "countUnit": "days", "countNumber": days},
            "action": {"type": "expire"}}


def _context_bucket() -> s3.Bucket:
    return suppress(s3.Bucket(
        "ContextBucket",
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(
                ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                    SSEAlgorithm="aws:kms"),
                BucketKeyEnabled=True)]),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True,
            RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[
            s3.LifecycleRule(Id="expire-build-inputs", Status="Enabled",
                             ExpirationInDays=CONTEXT_EXPIRY_DAYS,
                             AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                                 DaysAfterInitiation=1))]),
    ), ("CKV_AWS_18", "build contexts live 7 days and are named by their content hash; access "
                      "logs would outlive the objects they describe"),
       ("CKV_AWS_21", "objects are content-addressed and expire after 7 days; versions would "
                      "only keep expired contexts"))


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
                            kaniko_role: iam.Role, logs: LogGroup) -> ecs.TaskDefinition:
    b = cfg.builder
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
           if b.registry_auth_secret else {}),
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(logs), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": "build"}),
    )
    # Not read-only: kaniko builds the image by unpacking layers into its own root filesystem.
    return ecs.TaskDefinition(
        logical_id("kaniko", arch),
        Family=f"{cfg.name}-kaniko-{arch}",
        Cpu=str(b.cpu),
        Memory=str(b.memory),
        EphemeralStorage=ecs.EphemeralStorage(SizeInGiB=b.storage_gib),
        NetworkMode="awsvpc",
        RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=ecs.RuntimePlatform(OperatingSystemFamily="LINUX",
                                            CpuArchitecture=ARCH_TO_CPU[arch]),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        TaskRoleArn=GetAtt(kaniko_role, "Arn"),
        ContainerDefinitions=[container],
    )
