"""The ``<name>-jenkins`` stack: the controller service with JENKINS_HOME on encrypted EFS.

What the seed did by hand, and why it is set this way here:
- a stable name behind the load balancer (no public IP to chase after a restart);
- the health check on ``/login``, which answers 200 to anonymous users (``/`` answers 403);
- one controller at a time (min 0 / max 100): two must never share JENKINS_HOME;
- the admin password generated into Secrets Manager and read by Jenkins itself, never an
  environment variable;
- EFS through an access point as uid/gid 1000, TLS in transit and IAM authorization, retained
  (with its backups) when the stack is deleted;
- the agents as two more services, ``jenkins-agents`` (untrusted builds) and
  ``jenkins-agents-trusted`` (a job's deploy branches): Fargate tasks that each join the
  controller as a swarm agent over WebSocket at its private name, run one build and are
  replaced (no inbound port anywhere, no task role, no ECS permission for the controller: it
  starts nothing);
- Jenkins' OIDC issuer documents answered for anyone (AWS STS reads them to verify a build's
  token), whoever else the load balancer admits.
"""

from __future__ import annotations

from typing import Any

from awacs import aws as awacs_iam
from troposphere import (
    Equals,
    GetAtt,
    If,
    Output,
    Parameter,
    Ref,
    Select,
    Sub,
    Tags,
    Template,
    ec2,
    ecs,
    efs,
    iam,
)
from troposphere import elasticloadbalancingv2 as elb
from troposphere import secretsmanager as sm
from troposphere.logs import LogGroup

from dockyard.config import limits
from dockyard.config.models import Config, Jenkins, JenkinsAgents
from dockyard.config.routing import (
    ISSUER_RULE_PRIORITY,
    JENKINS_BLOCK_PRIORITY,
    JENKINS_RULE_PRIORITY,
    JENKINS_WEBHOOK_PRIORITY,
)
from dockyard.jenkins.casc import AGENT_LABEL
from dockyard.names import (
    AGENT_SERVICE,
    ARCH_TO_CPU,
    TAG_KEY,
    TRUSTED_AGENT_SERVICE,
    Out,
    admin_secret_name,
    controller_internal_url,
    jenkins_users,
    log_group_name,
)
from dockyard.templates.controller import add_discovery, registry
from dockyard.templates.placement import (
    NO_EGRESS,
    add_dns,
    add_edge_parameters,
    assign_public_ip,
    forward,
    host_rule,
    network_inputs,
)
from dockyard.templates.policies import (
    allow,
    ecr_pull_statements,
    ecr_repository_arn,
    logs_write_statement,
    task_role,
)
from dockyard.templates.stack import (
    Built,
    FromStack,
    Retained,
    StackTemplate,
    Value,
    add_parameter,
    log_group,
    new_template,
    suppress,
    tag_resources,
)
from dockyard.trust import ISSUER_PATH, TRUSTED_LABEL

HTTP_PORT = 8080
NFS_PORT = 2049
JENKINS_UID = 1000
HOME_PATH = "/var/jenkins_home"
CACHE_PATH = "/var/cache/jenkins"
CONTAINER = "jenkins"
LOG_STREAM_PREFIX = "controller"


def controller_log_stream(task_id: str) -> str:
    """The awslogs stream of one controller task: ``<prefix>/<container>/<task id>``."""
    return f"{LOG_STREAM_PREFIX}/{CONTAINER}/{task_id}"
SERVICE = "jenkins"
# A cold Jenkins unpacks its war and loads plugins before /login answers; don't kill it for that.
GRACE_PERIOD_SECONDS = 600
STOP_TIMEOUT_SECONDS = 120
# No setup wizard (JCasC configures everything); dockyard's pipeline library is a git
# repository inside the image, which the git plugin reads only with local checkouts allowed.
# Builds run as a user that may use its job's credentials (Credentials/UseItem, enabled by a
# property: jenkins/casc.py, BUILD_PERMISSIONS).
JAVA_OPTS = ("-Djenkins.install.runSetupWizard=false -XX:MaxRAMPercentage=50 -XX:+UseG1GC "
             "-Dhudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT=true "
             "-Dcom.cloudbees.plugins.credentials.UseItemPermission=true")
# Under GitHub sign-in, a password in a Basic header is never checked (API tokens still are):
# github-oauth's realm would take it for a GitHub token, call GitHub with it and keep it on
# the user record named in the header, whoever that is (its AuthenticationManager).
IGNORE_BASIC_AUTH = "-Djenkins.security.ignoreBasicAuth=true"


def java_opts(cfg: Config) -> str:
    """The controller's JVM options: JAVA_OPTS, and IGNORE_BASIC_AUTH under GitHub sign-in
    (the agents join with API tokens there)."""
    return JAVA_OPTS + (f" {IGNORE_BASIC_AUTH}" if cfg.jenkins.sign_in.github else "")


# The war and exploded plugins on task storage: EFS is slow at many small files.
JENKINS_OPTS = f"--webroot={CACHE_PATH}/war --pluginroot={CACHE_PATH}/plugins"


def jenkins_log_group(cfg: Config) -> str:
    """The controller's log group."""
    return log_group_name(cfg.name, "jenkins")


def jenkins_stack(cfg: Config) -> StackTemplate:
    """Render the Jenkins stack for ``cfg``."""
    t = new_template(cfg, f"Jenkins controller at {cfg.url(cfg.jenkins.host)}")
    p, inputs = add_edge_parameters(t, cfg)
    for name, kind, text in (
        ("TaskSubnets", "List<AWS::EC2::Subnet::Id>", "Subnets in two zones for the task and EFS."),
        ("ClusterArn", "String", "The platform's ECS cluster (builder stack)."),
        ("ControllerImage", "String", "The controller image, pinned by digest."),
        ("AgentSecurityGroupId", "AWS::EC2::SecurityGroup::Id", "The agents' security group."),
        ("AgentExecutionRoleArn", "String", "The untrusted agents' execution role (builder)."),
        ("AgentSecretArn", "String", "The secret the untrusted agents join with (builder)."),
        ("TrustedAgentExecutionRoleArn", "String", "The trusted agents' execution role "
                                                   "(builder)."),
        ("TrustedAgentSecretArn", "String", "The secret the trusted agents join with (builder)."),
        ("AgentLogGroup", "String", "The agents' log group (builder stack)."),
        ("AgentImage", "String", "The agent image, pinned by digest."),
    ):
        p[name] = add_parameter(t, name, kind, text)
        if "Agent" in name and name != "AgentImage":
            inputs[name] = FromStack("builder", name)
    p["ExistingFileSystemId"] = t.add_parameter(Parameter(
        "ExistingFileSystemId", Type="String", Default="",
        Description="JENKINS_HOME kept by an earlier dockyard down, to adopt; empty creates one."))
    inputs["ExistingFileSystemId"] = (Value(cfg.jenkins.file_system_id)
                                      if cfg.jenkins.file_system_id
                                      else Retained("file-system", "jenkins-home"))
    inputs["TaskSubnets"] = network_inputs(cfg)["TaskSubnets"]
    inputs["ClusterArn"] = FromStack("builder", Out.CLUSTER_ARN)
    inputs["ControllerImage"] = (Value(cfg.jenkins.image) if cfg.jenkins.image
                                 else Built("jenkins-controller"))
    inputs["AgentImage"] = Built("jenkins-agent")

    controller_sg, efs_sg = _security_groups(t, cfg, p)
    storage = _storage(t, cfg, p, efs_sg)
    file_system, access_point, mount_targets = storage
    secret = t.add_resource(suppress(sm.Secret(
        "AdminSecret",
        Name=admin_secret_name(cfg.name),
        Description=f"dockyard {cfg.name}: Jenkins admin password (user 'admin')",
        GenerateSecretString=sm.GenerateSecretString(PasswordLength=32, ExcludePunctuation=True),
    ), ("CKV_AWS_149", "encrypted with the aws/secretsmanager key; one secret read by one role, "
                       "a customer key adds cost without narrowing access")))
    logs = t.add_resource(log_group("LogGroup", jenkins_log_group(cfg),
                                    cfg.jenkins.log_retention_days))
    roles = _roles(t, cfg, p, logs=logs, secret=secret, storage=storage)
    discovery = add_discovery(t, cfg, p["VpcId"])

    target_group = t.add_resource(elb.TargetGroup(
        "TargetGroup",
        Port=HTTP_PORT, Protocol="HTTP", TargetType="ip", VpcId=Ref(p["VpcId"]),
        HealthCheckPath="/login", HealthCheckProtocol="HTTP",
        Matcher=elb.Matcher(HttpCode="200"),
        HealthCheckIntervalSeconds=30, HealthCheckTimeoutSeconds=10,
        HealthyThresholdCount=2, UnhealthyThresholdCount=5,
        TargetGroupAttributes=[
            elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="15"),
            elb.TargetGroupAttribute(Key="stickiness.enabled", Value="false")],
    ))
    rules = _door(t, cfg, p, target_group)
    add_dns(t, cfg, p, cfg.jenkins.host)
    _issuer_rule(t, cfg, p, target_group)
    task_definition = t.add_resource(_task_definition(cfg, p, roles=roles, storage=storage,
                                                      logs=logs))
    service = t.add_resource(ecs.Service(
        "Service",
        ServiceName=SERVICE,
        Cluster=Ref(p["ClusterArn"]),
        LaunchType="FARGATE",
        PlatformVersion="LATEST",
        DesiredCount=1,
        TaskDefinition=Ref(task_definition),
        DeploymentConfiguration=ecs.DeploymentConfiguration(
            MinimumHealthyPercent=0, MaximumPercent=100,
            DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True)),
        HealthCheckGracePeriodSeconds=GRACE_PERIOD_SECONDS,
        NetworkConfiguration=ecs.NetworkConfiguration(AwsvpcConfiguration=ecs.AwsvpcConfiguration(
            Subnets=Ref(p["TaskSubnets"]), SecurityGroups=[Ref(controller_sg)],
            AssignPublicIp="ENABLED" if assign_public_ip(cfg) else "DISABLED")),
        LoadBalancers=[ecs.LoadBalancer(ContainerName=CONTAINER, ContainerPort=HTTP_PORT,
                                        TargetGroupArn=Ref(target_group))],
        ServiceRegistries=[registry(discovery)],
        EnableExecuteCommand=False,
        PropagateTags="SERVICE",
        # The target group must be behind a listener, and EFS mountable, before a task starts.
        DependsOn=[*(r.title for r in rules), *(m.title for m in mount_targets)],
    ))

    agents = _agents(t, cfg, p, controller=service, trusted=False)
    trusted_agents = _agents(t, cfg, p, controller=service, trusted=True)

    for name, value in {
        Out.URL: cfg.url(cfg.jenkins.host),
        Out.ADMIN_SECRET_ARN: Ref(secret),
        Out.FILE_SYSTEM_ID: file_system,
        Out.ACCESS_POINT_ID: Ref(access_point),
        Out.SERVICE_NAME: GetAtt(service, "Name"),
        Out.CONTROLLER_SECURITY_GROUP_ID: Ref(controller_sg),
        Out.LOG_GROUP_NAME: Ref(logs),
        Out.TARGET_GROUP_ARN: Ref(target_group),
        Out.AGENT_SERVICE_NAME: GetAtt(agents, "Name"),
        Out.TRUSTED_AGENT_SERVICE_NAME: GetAtt(trusted_agents, "Name"),
    }.items():
        t.add_output(Output(name, Value=value))
    return StackTemplate("jenkins", cfg.stack_name("jenkins"), tag_resources(t, cfg), inputs=inputs)


def _security_groups(t: Template, cfg: Config,
                     p: dict[str, Parameter]) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
    add = t.add_resource
    controller = add(ec2.SecurityGroup(
        "ControllerSecurityGroup",
        GroupDescription=f"dockyard {cfg.name} Jenkins controller: 8080 from the load balancer "
                         "and the agents only",
        VpcId=Ref(p["VpcId"]),
        SecurityGroupIngress=[
            ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=HTTP_PORT, ToPort=HTTP_PORT,
                SourceSecurityGroupId=Ref(p["LoadBalancerSecurityGroupId"]),
                Description="Jenkins UI and API through the load balancer"),
            ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=HTTP_PORT, ToPort=HTTP_PORT,
                SourceSecurityGroupId=Ref(p["AgentSecurityGroupId"]),
                Description="Agents connecting over WebSocket")],
        SecurityGroupEgress=[ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
            Description="HTTPS to GitHub, AWS APIs and the Jenkins update center")],
    ))
    efs_group = add(ec2.SecurityGroup(
        "FileSystemSecurityGroup",
        GroupDescription=f"dockyard {cfg.name} JENKINS_HOME: NFS from the controller only",
        VpcId=Ref(p["VpcId"]),
        SecurityGroupEgress=[NO_EGRESS],
    ))
    # Separate rule resources: the two groups refer to each other.
    add(ec2.SecurityGroupIngress(
        "FileSystemFromController", GroupId=Ref(efs_group), IpProtocol="tcp",
        FromPort=NFS_PORT, ToPort=NFS_PORT, SourceSecurityGroupId=Ref(controller),
        Description="NFS from the Jenkins controller"))
    add(ec2.SecurityGroupEgress(
        "ControllerToFileSystem", GroupId=Ref(controller), IpProtocol="tcp",
        FromPort=NFS_PORT, ToPort=NFS_PORT, DestinationSecurityGroupId=Ref(efs_group),
        Description="NFS to JENKINS_HOME"))
    add(ec2.SecurityGroupEgress(
        "LoadBalancerToController", GroupId=Ref(p["LoadBalancerSecurityGroupId"]),
        IpProtocol="tcp", FromPort=HTTP_PORT, ToPort=HTTP_PORT,
        DestinationSecurityGroupId=Ref(controller), Description="To the Jenkins controller"))
    return controller, efs_group


# The file system's id (created here, or adopted), its access point and mount targets.
Storage = tuple[If, efs.AccessPoint, list[efs.MountTarget]]


def _storage(t: Template, cfg: Config, p: dict[str, Parameter],
             efs_sg: ec2.SecurityGroup) -> Storage:
    add = t.add_resource
    # JENKINS_HOME kept by an earlier `dockyard down` is adopted instead of starting empty.
    t.add_condition("CreateFileSystem", Equals(Ref(p["ExistingFileSystemId"]), ""))
    created = add(efs.FileSystem(
        "FileSystem",
        Encrypted=True,
        PerformanceMode="generalPurpose",
        # Jenkins does many small metadata operations; bursting credits run dry under it.
        ThroughputMode="elastic",
        BackupPolicy=efs.BackupPolicy(Status="ENABLED"),
        LifecyclePolicies=[efs.LifecyclePolicy(TransitionToIA="AFTER_30_DAYS"),
                           efs.LifecyclePolicy(TransitionToPrimaryStorageClass="AFTER_1_ACCESS")],
        FileSystemPolicy={"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyPlainNfs", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            # Client actions only: API calls carry no access point, and denying them would
            # lock everyone out of managing the policy (EFS refuses such a policy).
            {"Sid": "OnlyThroughAccessPoints", "Effect": "Deny", "Principal": {"AWS": "*"},
             "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                        "elasticfilesystem:ClientRootAccess"],
             "Condition": {"Null": {"elasticfilesystem:AccessPointArn": "true"}}},
        ]},
        FileSystemTags=Tags({"Name": f"{cfg.name}-jenkins-home", TAG_KEY: cfg.name}),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        Condition="CreateFileSystem",
    ))
    file_system = If("CreateFileSystem", Ref(created), Ref(p["ExistingFileSystemId"]))
    access_point = add(efs.AccessPoint(
        "AccessPoint",
        FileSystemId=file_system,
        PosixUser=efs.PosixUser(Uid=str(JENKINS_UID), Gid=str(JENKINS_UID)),
        RootDirectory=efs.RootDirectory(Path="/jenkins-home", CreationInfo=efs.CreationInfo(
            OwnerUid=str(JENKINS_UID), OwnerGid=str(JENKINS_UID), Permissions="0750")),
        AccessPointTags=Tags({TAG_KEY: cfg.name}),
    ))
    mount_targets = [add(efs.MountTarget(
        f"MountTarget{zone}", FileSystemId=file_system,
        SubnetId=Select(index, Ref(p["TaskSubnets"])), SecurityGroups=[Ref(efs_sg)]))
        for index, zone in enumerate("AB")]
    return file_system, access_point, mount_targets


def _roles(t: Template, cfg: Config, p: dict[str, Parameter], *, logs: LogGroup,
           secret: sm.Secret, storage: Storage) -> tuple[iam.Role, iam.Role]:
    add = t.add_resource
    file_system, access_point, _ = storage
    pull = ecr_pull_statements([cfg.jenkins.image], []) if cfg.jenkins.image else \
        ecr_pull_statements([], [ecr_repository_arn(f"{cfg.name}/jenkins-controller")])
    execution_role = add(task_role(
        "ExecutionRole", f"dockyard {cfg.name}: pulls the Jenkins image and writes its logs",
        logs_write_statement(GetAtt(logs, "Arn")), *pull))
    # JCasC reads the admin password and the agents' passwords (to define their users, or,
    # under GitHub sign-in, their API tokens), the GitHub credentials and the OAuth App's.
    secrets = [Ref(secret), Ref(p["AgentSecretArn"]), Ref(p["TrustedAgentSecretArn"])]
    named = [cfg.jenkins.github.credentials_secret] if cfg.jenkins.github else []
    named += [cfg.jenkins.sign_in.github.client_secret] if cfg.jenkins.sign_in.github else []
    secrets += [Sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                    f":secret:{name}-??????") for name in named]
    controller_role = add(task_role(
        "ControllerRole", f"dockyard {cfg.name}: the Jenkins controller (its secrets, its EFS)",
        allow(["secretsmanager:GetSecretValue"], secrets, sid="ReadOwnSecrets"),
        allow(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
              [_efs_arn("file-system", file_system)], sid="MountJenkinsHome",
              condition=_access_point_condition(access_point)),
    ))
    return execution_role, controller_role


def _access_point_condition(access_point: efs.AccessPoint) -> awacs_iam.Condition:
    return awacs_iam.Condition(awacs_iam.StringEquals(
        "elasticfilesystem:AccessPointArn", _efs_arn("access-point", access_point)))


def _efs_arn(kind: str, resource: If | efs.AccessPoint) -> Sub:
    # The same value as GetAtt Arn, spelled out: the file system may be adopted rather than
    # created here, and emulators lack the attribute.
    ref = resource if isinstance(resource, If) else Ref(resource)
    return Sub("arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:"
               f"{kind}/${{Id}}", Id=ref)


def _task_definition(cfg: Config, p: dict[str, Parameter], *, roles: tuple[iam.Role, iam.Role],
                     storage: Storage, logs: LogGroup) -> ecs.TaskDefinition:
    j = cfg.jenkins
    execution_role, controller_role = roles
    file_system, access_point, _ = storage
    container = ecs.ContainerDefinition(
        Name=CONTAINER,
        Image=Ref(p["ControllerImage"]),
        Essential=True,
        User=f"{JENKINS_UID}:{JENKINS_UID}",
        Memory=j.memory,
        PortMappings=[ecs.PortMapping(ContainerPort=HTTP_PORT, Protocol="tcp", Name="http")],
        # Writable only where Jenkins must write: JENKINS_HOME (EFS), /tmp and its caches.
        ReadonlyRootFilesystem=True,
        MountPoints=[ecs.MountPoint(SourceVolume=v, ContainerPath=path, ReadOnly=False)
                     for v, path in (("jenkins-home", HOME_PATH), ("tmp", "/tmp"),
                                     ("cache", CACHE_PATH))],
        Environment=[ecs.Environment(Name="JAVA_OPTS", Value=java_opts(cfg)),
                     ecs.Environment(Name="JENKINS_OPTS", Value=JENKINS_OPTS),
                     # the Secrets Manager plugins use this region
                     ecs.Environment(Name="AWS_REGION", Value=Ref("AWS::Region"))],
        StopTimeout=STOP_TIMEOUT_SECONDS,
        Ulimits=[ecs.Ulimit(Name="nofile", SoftLimit=65536, HardLimit=65536)],
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(logs), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": LOG_STREAM_PREFIX}),
    )
    return _fargate_task(
        "TaskDefinition", f"{cfg.name}-jenkins", j, j.architecture,
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        TaskRoleArn=GetAtt(controller_role, "Arn"),
        Volumes=[
            ecs.Volume(Name="jenkins-home", EFSVolumeConfiguration=ecs.EFSVolumeConfiguration(
                FilesystemId=file_system, TransitEncryption="ENABLED",
                AuthorizationConfig=ecs.AuthorizationConfig(AccessPointId=Ref(access_point),
                                                            IAM="ENABLED"))),
            ecs.Volume(Name="tmp"),
            ecs.Volume(Name="cache"),
        ],
        ContainerDefinitions=[container],
    )


def _fargate_task(title: str, family: str, size: Jenkins | JenkinsAgents, architecture: str,
                  **rest: Any) -> ecs.TaskDefinition:
    """A Fargate task definition of ``size`` (its storage beyond the 20 GiB every task gets)."""
    ephemeral = {"EphemeralStorage": ecs.EphemeralStorage(SizeInGiB=size.storage_gib)} \
        if size.storage_gib > 20 else {}
    return ecs.TaskDefinition(
        title, Family=family, Cpu=str(size.cpu), Memory=str(size.memory), NetworkMode="awsvpc",
        RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=ecs.RuntimePlatform(OperatingSystemFamily="LINUX",
                                            CpuArchitecture=ARCH_TO_CPU[architecture]),
        **rest, **ephemeral)


# -- the agents -----------------------------------------------------------------------------------

AGENT_CONTAINER = "agent"
AGENT_HOME = "/home/jenkins"
AGENT_LOG_PREFIX = "agent"
# The environment variable ECS fills from the pool's secret at start; the agent's entrypoint
# hands it to the swarm client through a pipe and unsets it.
AGENT_PASSWORD_ENV = "JENKINS_AGENT_PASSWORD"
# With Spot: the first agent on demand, so pipelines run while Spot capacity is short, the rest
# three Spot to one on demand. ECS does not move a task to on demand when Spot has no capacity
# (the task waits in PROVISIONING); the on-demand base is what keeps the pool usable then.
SPOT_STRATEGY = (("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0))


def agent_labels(trusted: bool) -> str:
    """The labels a pool's agents join with. Both carry ``dockyard``, so a Jenkinsfile names no
    tier: the controller sends each build to the pool of its tier (dockyard-trust.groovy)."""
    return f"{AGENT_LABEL} {TRUSTED_LABEL}" if trusted else AGENT_LABEL


def _agents(t: Template, cfg: Config, p: dict[str, Parameter], *, controller: ecs.Service,
            trusted: bool) -> ecs.Service:
    """An agent pool: Fargate tasks of the agent image, each joining the controller at its
    private name over WebSocket as the pool's Jenkins user, running one build and exiting (the
    controller removes the node after its build; ECS starts a fresh task). The tasks have no
    task role: builds get their AWS credentials from their own id token."""
    a = cfg.jenkins.agents
    prefix = "TrustedAgent" if trusted else "Agent"
    container = ecs.ContainerDefinition(
        Name=AGENT_CONTAINER,
        Image=Ref(p["AgentImage"]),
        Essential=True,
        User=f"{JENKINS_UID}:{JENKINS_UID}",
        # Writable where builds write: the workspace under the agent's home, and /tmp.
        ReadonlyRootFilesystem=True,
        MountPoints=[ecs.MountPoint(SourceVolume=v, ContainerPath=path, ReadOnly=False)
                     for v, path in (("agent-home", AGENT_HOME), ("agent-tmp", "/tmp"))],
        Environment=[ecs.Environment(Name=name, Value=value) for name, value in (
            ("JENKINS_URL", controller_internal_url(cfg.name)),
            ("AWS_REGION", Ref("AWS::Region")),
            # What `dockyard` needs to name the role a build's token is exchanged for.
            ("DOCKYARD_ACCOUNT_ID", Ref("AWS::AccountId")),
            ("AGENT_USER", jenkins_users(cfg).pool(trusted=trusted)),
            # Under GitHub sign-in the pool's user is no account of the security realm: it
            # joins with an API token made from the pool's secret (swarm-agent.sh).
            ("AGENT_AUTH", "token" if cfg.jenkins.sign_in.github else "realm"),
            ("AGENT_LABELS", agent_labels(trusted)))],
        Secrets=[ecs.Secret(Name=AGENT_PASSWORD_ENV, ValueFrom=Ref(p[f"{prefix}SecretArn"]))],
        # A stopping agent finishes its WebSocket session; the controller then forgets it.
        StopTimeout=STOP_TIMEOUT_SECONDS,
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(p["AgentLogGroup"]), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": AGENT_LOG_PREFIX + ("-trusted" if trusted else "")}),
    )
    definition = t.add_resource(_fargate_task(
        f"{prefix}TaskDefinition",
        f"{cfg.name}-jenkins-agent" + ("-trusted" if trusted else ""), a,
        cfg.jenkins.architecture,
        ExecutionRoleArn=Ref(p[f"{prefix}ExecutionRoleArn"]),
        Volumes=[ecs.Volume(Name="agent-home"), ecs.Volume(Name="agent-tmp")],
        ContainerDefinitions=[container],
    ))
    strategy = SPOT_STRATEGY if a.spot else (("FARGATE", 1, 0),)
    return t.add_resource(ecs.Service(
        f"{prefix}Service",
        ServiceName=TRUSTED_AGENT_SERVICE if trusted else AGENT_SERVICE,
        Cluster=Ref(p["ClusterArn"]),
        CapacityProviderStrategy=[
            ecs.CapacityProviderStrategyItem(CapacityProvider=provider, Weight=weight, Base=base)
            for provider, weight, base in strategy],
        PlatformVersion="LATEST",
        DesiredCount=a.trusted_count if trusted else a.count,
        TaskDefinition=Ref(definition),
        # New agents join before old ones leave; a build on an old agent ends with it.
        DeploymentConfiguration=ecs.DeploymentConfiguration(
            MinimumHealthyPercent=100, MaximumPercent=200,
            DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True)),
        NetworkConfiguration=ecs.NetworkConfiguration(AwsvpcConfiguration=ecs.AwsvpcConfiguration(
            Subnets=Ref(p["TaskSubnets"]), SecurityGroups=[Ref(p["AgentSecurityGroupId"])],
            AssignPublicIp="ENABLED" if assign_public_ip(cfg) else "DISABLED")),
        EnableExecuteCommand=False,
        PropagateTags="SERVICE",
        # Agents join the controller; deleted first, they leave before it stops.
        DependsOn=[controller.title],
    ))


# -- the door -------------------------------------------------------------------------------------

# Paths of Jenkins that nobody outside the VPC needs: the CLI, the agents' WebSocket and inbound
# endpoints, the swarm plugin's and the agent downloads. The agents reach the controller inside
# the VPC (its private DNS name), so the load balancer answers these 403 for everyone, before any
# other rule of Jenkins' host. A rule takes its host and four paths (five condition values).
BLOCKED_PATHS = ("/cli", "/cli/*", "/wsagents/*", "/swarm/*",
                 "/plugin/swarm/*", "/tcpSlaveAgentListener/*", "/jnlpJars/*",
                 "/computer/*/jenkins-agent.jnlp", "/computer/*/slave-agent.jnlp")
WEBHOOK_PATH = "/github-webhook/"


def _door(t: Template, cfg: Config, p: dict[str, Parameter],
          target_group: elb.TargetGroup) -> list[elb.ListenerRule]:
    """Who reaches which path of Jenkins (ELB User Guide, "Listener rules": rules are
    evaluated lowest priority first, the first whose conditions all match acts): the blocked
    paths answer 403 to everyone; /github-webhook/ is forwarded from GitHub's hook ranges
    (jenkins.webhook_cidrs); everything else from jenkins.allowed_cidrs. Each set of blocks is
    spread over as many rules as a rule's five condition values need."""
    host, rules = cfg.jenkins.host, []
    denied = elb.ListenerRuleAction(
        Type="fixed-response", FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode="403", ContentType="text/plain",
            MessageBody="dockyard: this path of Jenkins is not served from outside the VPC\n"))
    for index, start in enumerate(range(0, len(BLOCKED_PATHS), 4)):
        rules.append(host_rule(cfg, p, _titled("BlockedPathsRule", index), host,
                               priority=JENKINS_BLOCK_PRIORITY + index, action=denied, cidrs=[],
                               paths=list(BLOCKED_PATHS[start:start + 4])))
    for index, cidrs in enumerate(_chunks(cfg.webhook_cidrs(), limits.WEBHOOK_RULE_CIDRS)):
        rules.append(host_rule(cfg, p, _titled("WebhookRule", index), host,
                               priority=JENKINS_WEBHOOK_PRIORITY + index,
                               action=forward(target_group), cidrs=cidrs, paths=[WEBHOOK_PATH]))
    for index, cidrs in enumerate(_chunks(cfg.jenkins_cidrs(), limits.HOST_RULE_CIDRS)):
        rules.append(host_rule(cfg, p, _titled("HostRule", index), host,
                               priority=JENKINS_RULE_PRIORITY + index,
                               action=forward(target_group), cidrs=cidrs))
    return [t.add_resource(rule) for rule in rules]


def _titled(title: str, index: int) -> str:
    return title if index == 0 else f"{title}{index + 1}"


def _chunks(cidrs: list[str], size: int) -> list[list[str]]:
    """``cidrs`` in runs of ``size``; one empty run (anyone) when there are none."""
    return [cidrs[i:i + size] for i in range(0, len(cidrs), size)] or [[]]


# -- the OIDC issuer ------------------------------------------------------------------------------

def _issuer_rule(t: Template, cfg: Config, p: dict[str, Parameter],
                 target_group: elb.TargetGroup) -> elb.ListenerRule:
    """AWS STS fetches Jenkins' OIDC discovery document and signing keys from the internet
    each time a build's token is exchanged (re:Post, "IAM OIDC ... InvalidIdentityToken":
    they must be reachable "from the public internet"). This rule answers exactly those two
    GETs for anyone; the Jenkins host rule before it takes everything else from
    edge.allowed_cidrs (with the internet left out, the load balancer's security group admits
    HTTPS from anywhere and each host rule carries the allowed blocks itself)."""
    base = f"/{ISSUER_PATH}"
    return t.add_resource(elb.ListenerRule(
        "IssuerRule",
        ListenerArn=Ref(p["HttpsListenerArn"]),
        Priority=ISSUER_RULE_PRIORITY,
        Conditions=[
            elb.Condition(Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(
                Values=[f"{cfg.jenkins.host}.{cfg.edge.domain}"])),
            elb.Condition(Field="path-pattern", PathPatternConfig=elb.PathPatternConfig(
                Values=[f"{base}/.well-known/openid-configuration", f"{base}/jwks"])),
            elb.Condition(Field="http-request-method",
                          HttpRequestMethodConfig=elb.HttpRequestMethodConfig(
                              Values=["GET", "HEAD"]))],
        Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
    ))
