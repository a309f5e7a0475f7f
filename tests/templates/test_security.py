"""Security properties, asserted on the parsed templates of the bundled example."""

from __future__ import annotations

import json
from typing import Any

from dockyard.config.models import GITHUB_HOOK_CIDRS
from tests.conftest import bodies, example_config, resources_of

Template = dict[str, Any]


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", [])
            for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _ingress(template: Template, group: str) -> list[dict[str, Any]]:
    """Every ingress rule of a security group: inline and separate resources."""
    inline = template["Resources"][group]["Properties"].get("SecurityGroupIngress", [])
    separate = [r["Properties"] for r in resources_of(template, "AWS::EC2::SecurityGroupIngress")
                .values() if r["Properties"]["GroupId"] == {"Ref": group}]
    return [*inline, *separate]


def test_jenkins_task_accepts_only_8080_from_the_load_balancer_and_its_agents(
        templates: dict[str, Template]) -> None:
    jenkins = templates["jenkins"]
    rules = _ingress(jenkins, "ControllerSecurityGroup")
    assert len(rules) == 2
    for rule in rules:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8080, 8080)
        assert "CidrIp" not in rule and "CidrIpv6" not in rule
    assert [r["SourceSecurityGroupId"] for r in rules] == [
        {"Ref": "LoadBalancerSecurityGroupId"}, {"Ref": "AgentSecurityGroupId"}]
    service = jenkins["Resources"]["Service"]["Properties"]
    groups = service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    assert groups == [{"Ref": "ControllerSecurityGroup"}]


def test_efs_accepts_nfs_only_from_the_controller(templates: dict[str, Template]) -> None:
    jenkins = templates["jenkins"]
    rules = _ingress(jenkins, "FileSystemSecurityGroup")
    assert len(rules) == 1
    (rule,) = rules
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 2049, 2049)
    assert rule["SourceSecurityGroupId"] == {"Ref": "ControllerSecurityGroup"}
    for target in resources_of(jenkins, "AWS::EFS::MountTarget").values():
        assert target["Properties"]["SecurityGroups"] == [{"Ref": "FileSystemSecurityGroup"}]


def test_https_listener_uses_the_tls13_policy(templates: dict[str, Template]) -> None:
    listener = templates["edge"]["Resources"]["HttpsListener"]["Properties"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (default,) = listener["DefaultActions"]
    assert default["FixedResponseConfig"]["StatusCode"] == "404"


def test_port_80_only_redirects_to_https_with_301(templates: dict[str, Template]) -> None:
    listeners = resources_of(templates["edge"], "AWS::ElasticLoadBalancingV2::Listener")
    plain = [r["Properties"] for r in listeners.values() if r["Properties"]["Port"] == 80]
    assert len(plain) == 1
    (action,) = plain[0]["DefaultActions"]
    assert action["Type"] == "redirect"
    redirect = action["RedirectConfig"]
    assert (redirect["Protocol"], redirect["Port"], redirect["StatusCode"]) == \
        ("HTTPS", "443", "HTTP_301")
    assert all(r["Properties"]["Protocol"] == "HTTPS" for r in listeners.values()
               if r["Properties"]["Port"] != 80)


def test_load_balancer_is_open_only_on_80_and_443_to_allowed_cidrs(
        templates: dict[str, Template]) -> None:
    rules = _ingress(templates["edge"], "LoadBalancerSecurityGroup")
    assert {(r["FromPort"], r["ToPort"], r.get("CidrIp")) for r in rules} == \
        {(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0")}
    narrowed = bodies(example_config(
        ("    - 0.0.0.0/0", "    - 203.0.113.0/24\n    - 2001:db8::/32")))
    rules = _ingress(narrowed["edge"], "LoadBalancerSecurityGroup")
    assert {(r["FromPort"], r.get("CidrIp") or r.get("CidrIpv6")) for r in rules} == {
        (80, "203.0.113.0/24"), (80, "2001:db8::/32"), (443, "0.0.0.0/0")}
    # HTTPS from anywhere reaches only what a listener rule admits: each app's host rule
    # carries edge.allowed_cidrs, Jenkins' its own door (jenkins.allowed_cidrs, GitHub's hook
    # ranges for the webhook, 403 for the CLI and agent paths), and the one rule open to all
    # forwards Jenkins' two OIDC issuer documents (AWS STS fetches them from the internet).
    for key, template in narrowed.items():
        for name, resource in resources_of(
                template, "AWS::ElasticLoadBalancingV2::ListenerRule").items():
            rule = resource["Properties"]
            sources = [c["SourceIpConfig"]["Values"] for c in rule["Conditions"]
                       if c["Field"] == "source-ip"]
            paths = [c["PathPatternConfig"]["Values"] for c in rule["Conditions"]
                     if c["Field"] == "path-pattern"]
            (action,) = rule["Actions"]
            if name == "IssuerRule":
                assert sources == []
                assert paths == [["/oidc/.well-known/openid-configuration", "/oidc/jwks"]]
                methods = [c for c in rule["Conditions"] if c["Field"] == "http-request-method"]
                assert methods[0]["HttpRequestMethodConfig"]["Values"] == ["GET", "HEAD"]
            elif name.startswith("BlockedPathsRule"):
                assert sources == [] and action["Type"] == "fixed-response"
                assert action["FixedResponseConfig"]["StatusCode"] == "403"
            elif name.startswith("WebhookRule"):
                assert paths == [["/github-webhook/"]]
                assert len(sources) == 1 and set(sources[0]) <= set(GITHUB_HOOK_CIDRS)
            elif key == "jenkins":
                assert (name, sources) == ("HostRule", [["203.0.113.0/24"]])
            else:
                assert sources == [["203.0.113.0/24", "2001:db8::/32"]], name
            if action["Type"] == "forward":
                assert not (sources == [] and paths == []), f"{key} {name} forwards anything"


def test_load_balancer_egress_reaches_only_its_targets(templates: dict[str, Template]) -> None:
    group = templates["edge"]["Resources"]["LoadBalancerSecurityGroup"]["Properties"]
    (placeholder,) = group["SecurityGroupEgress"]
    assert placeholder["CidrIp"] == "255.255.255.255/32"  # matches nothing: no default egress
    targets = set()
    for key in ("jenkins", "app-web"):
        for rule in resources_of(templates[key], "AWS::EC2::SecurityGroupEgress").values():
            props = rule["Properties"]
            if props["GroupId"] == {"Ref": "LoadBalancerSecurityGroupId"}:
                targets.add((key, json.dumps(props["FromPort"]),
                             props["DestinationSecurityGroupId"]["Ref"], rule.get("Condition")))
    # The app's running port, only while a port change waits for its deploy.
    assert targets == {("jenkins", "8080", "ControllerSecurityGroup", None),
                       ("app-web", "5001", "SecurityGroup", None),
                       ("app-web", '{"Ref": "ServingPort"}', "SecurityGroup", "PortMoving")}
    assert templates["app-web"]["Conditions"]["PortMoving"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ServingPort"}, "5001"]}]}


def test_efs_is_encrypted_and_mounted_with_tls_iam_and_uid_1000(
        templates: dict[str, Template]) -> None:
    jenkins = templates["jenkins"]
    fs = jenkins["Resources"]["FileSystem"]["Properties"]
    assert fs["Encrypted"] is True
    assert fs["ThroughputMode"] == "elastic"
    assert fs["BackupPolicy"] == {"Status": "ENABLED"}
    denies = [s for s in fs["FileSystemPolicy"]["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies]
    (no_access_point,) = [s for s in denies if "Null" in s["Condition"]]
    assert no_access_point["Condition"] == {"Null": {"elasticfilesystem:AccessPointArn": "true"}}
    # client actions only: a deny of API actions without an access point would lock out admins
    assert all(a.startswith("elasticfilesystem:Client") for a in no_access_point["Action"])
    (volume,) = [v for v in jenkins["Resources"]["TaskDefinition"]["Properties"]["Volumes"]
                 if "EFSVolumeConfiguration" in v]
    efs = volume["EFSVolumeConfiguration"]
    assert efs["TransitEncryption"] == "ENABLED"
    assert efs["AuthorizationConfig"] == {"AccessPointId": {"Ref": "AccessPoint"}, "IAM": "ENABLED"}
    point = jenkins["Resources"]["AccessPoint"]["Properties"]
    assert point["PosixUser"] == {"Uid": "1000", "Gid": "1000"}
    assert point["RootDirectory"]["Path"] == "/jenkins-home"
    assert point["RootDirectory"]["CreationInfo"] == \
        {"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "0750"}
    (container,) = jenkins["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["User"] == "1000:1000"


def test_controller_mounts_efs_only_through_its_access_point(
        templates: dict[str, Template]) -> None:
    jenkins = templates["jenkins"]
    (mount,) = [s for s in _statements(jenkins["Resources"]["ControllerRole"])
                if any(a.startswith("elasticfilesystem:") for a in _actions(s))]
    assert sorted(_actions(mount)) == ["elasticfilesystem:ClientMount",
                                       "elasticfilesystem:ClientWrite"]
    condition = mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
    pattern, variables = condition["Fn::Sub"]
    assert pattern.endswith(":access-point/${Id}")
    assert variables == {"Id": {"Ref": "AccessPoint"}}
    (file_system,) = mount["Resource"]
    pattern, variables = file_system["Fn::Sub"]
    assert pattern.endswith(":file-system/${Id}")
    # the file system created here, or the one an earlier `down` kept
    assert variables == {"Id": {"Fn::If": ["CreateFileSystem", {"Ref": "FileSystem"},
                                           {"Ref": "ExistingFileSystemId"}]}}


def test_kaniko_role_pushes_only_to_its_repositories_and_reads_only_contexts(
        templates: dict[str, Template]) -> None:
    builder = templates["builder"]
    repositories = {r["Properties"]["RepositoryName"] for t in templates.values()
                    for r in resources_of(t, "AWS::ECR::Repository").values()}
    # jenkins-controller, jenkins-agent (builder stack), web (its app stack); each with -cache;
    # and web's quarantine, where its untrusted builds go
    assert repositories == {"acme/jenkins-controller", "acme/jenkins-controller-cache",
                            "acme/jenkins-agent", "acme/jenkins-agent-cache", "acme/web",
                            "acme/web-cache", "acme/quarantine/web"}
    statements = _statements(builder["Resources"]["KanikoRole"])
    for statement in statements:
        actions = _actions(statement)
        ecr = [a for a in actions if a.startswith("ecr:")]
        if actions == ["ecr:GetAuthorizationToken"]:
            assert statement["Resource"] == ["*"]
            continue
        if ecr:
            assert "ecr:GetAuthorizationToken" not in ecr
            prefix = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/"
            arns = [r["Fn::Sub"] for r in statement["Resource"]]
            # Jenkins' images and their caches only: an app's images are pushed by the app's
            # own kaniko role.
            assert arns == [prefix + "acme/jenkins-controller",
                            prefix + "acme/jenkins-controller-cache",
                            prefix + "acme/jenkins-agent", prefix + "acme/jenkins-agent-cache"]
        s3 = [a for a in actions if a.startswith("s3:")]
        if s3:
            assert s3 == ["s3:GetObject"]
            (resource,) = statement["Resource"]
            assert resource == {"Fn::Sub": "${ContextBucket.Arn}/contexts/platform/*"}
    services = {a.split(":")[0] for s in statements for a in _actions(s)}
    assert services == {"ecr", "s3"}


def test_admin_password_is_a_generated_secret_never_an_environment_value(
        templates: dict[str, Template]) -> None:
    jenkins = templates["jenkins"]
    secrets = [*resources_of(jenkins, "AWS::SecretsManager::Secret").values(),  # the admin's
               *resources_of(templates["builder"], "AWS::SecretsManager::Secret").values()]
    assert len(secrets) == 3, "the admin's, and each agent pool's"
    for secret in secrets:
        generated = secret["Properties"]["GenerateSecretString"]
        assert generated["PasswordLength"] >= 32
        assert "SecretString" not in secret["Properties"]
    (container,) = jenkins["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    environment = json.dumps(container.get("Environment", []))
    assert "AdminSecret" not in environment
    assert "PASSWORD" not in environment.upper()
    assert "Secrets" not in container, "the secret-source plugin reads it, not the environment"
    (read,) = [s for s in _statements(jenkins["Resources"]["ControllerRole"])
               if "secretsmanager:GetSecretValue" in _actions(s)]
    assert {"Ref": "AdminSecret"} in read["Resource"]
    others = [r for r in read["Resource"] if r != {"Ref": "AdminSecret"}]
    assert [json.dumps(r) for r in others] == [json.dumps(r) for r in (
        {"Ref": "AgentSecretArn"}, {"Ref": "TrustedAgentSecretArn"},
        {"Fn::Sub": ("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                     ":secret:acme/github-??????")})], \
        "its own password, the agent pools' (to define their users) and the named GitHub " \
        "secret only"


def test_kept_data_is_adopted_rather_than_created_again(stacks: dict[str, Any]) -> None:
    builder = stacks["builder"].to_dict()
    for name, repo in resources_of(builder, "AWS::ECR::Repository").items():
        assert repo["Condition"] == f"Create{name}"
        assert builder["Conditions"][f"Create{name}"] == {"Fn::Equals": [{"Ref": f"Adopt{name}"},
                                                                         "no"]}
        source = stacks["builder"].inputs[f"Adopt{name}"]
        assert (source.kind, source.name) == ("repository", repo["Properties"]["RepositoryName"])
    jenkins = stacks["jenkins"].to_dict()
    assert jenkins["Resources"]["FileSystem"]["Condition"] == "CreateFileSystem"
    assert jenkins["Parameters"]["ExistingFileSystemId"]["Default"] == ""
    home = jenkins["Resources"]["AccessPoint"]["Properties"]["FileSystemId"]
    assert home == {"Fn::If": ["CreateFileSystem", {"Ref": "FileSystem"},
                               {"Ref": "ExistingFileSystemId"}]}


def test_target_group_checks_login_for_200(templates: dict[str, Template]) -> None:
    group = templates["jenkins"]["Resources"]["TargetGroup"]["Properties"]
    assert group["HealthCheckPath"] == "/login"
    assert group["Matcher"] == {"HttpCode": "200"}
    assert group["TargetType"] == "ip"


def test_controller_never_runs_twice_and_rolls_back(templates: dict[str, Template]) -> None:
    service = templates["jenkins"]["Resources"]["Service"]["Properties"]
    deployment = service["DeploymentConfiguration"]
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (0, 100)
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["DesiredCount"] == 1
    assert service["HealthCheckGracePeriodSeconds"] == 600
    assert service["EnableExecuteCommand"] is False


def test_efs_and_ecr_survive_stack_deletion(templates: dict[str, Template]) -> None:
    retained = [templates["jenkins"]["Resources"]["FileSystem"],
                *resources_of(templates["builder"], "AWS::ECR::Repository").values(),
                *(r for name, r in resources_of(templates["app-web"],
                                                "AWS::ECR::Repository").items()
                  if name != "QuarantineRepository")]
    assert len(retained) == 7
    for resource in retained:
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"
    # Untrusted builds' images are disposable: gone with the stack, expired after a week.
    quarantine = templates["app-web"]["Resources"]["QuarantineRepository"]
    assert "DeletionPolicy" not in quarantine
    assert quarantine["Properties"]["EmptyOnDelete"] is True


def test_context_bucket_is_private_encrypted_tls_only_and_expiring(
        templates: dict[str, Template]) -> None:
    builder = templates["builder"]
    bucket = builder["Resources"]["ContextBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 7
    policy = builder["Resources"]["ContextBucketPolicy"]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_builds_accept_no_inbound_traffic(templates: dict[str, Template]) -> None:
    assert _ingress(templates["builder"], "BuildSecurityGroup") == []


def test_app_port_is_open_only_to_the_load_balancer(templates: dict[str, Template]) -> None:
    app = templates["app-web"]
    rules = _ingress(app, "SecurityGroup")
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in rules] == \
        [(5001, {"Ref": "LoadBalancerSecurityGroupId"}),
         ({"Ref": "ServingPort"}, {"Ref": "LoadBalancerSecurityGroupId"})]
    moving = app["Resources"]["ServingPortFromLoadBalancer"]
    assert moving["Condition"] == "PortMoving", "the running port only while it differs"


def test_app_execution_role_reads_only_declared_secrets() -> None:
    cfg = example_config(("secrets: {}", "secrets: {DB: acme/db, TOKEN: 'ssm:/acme/token'}"))
    app = bodies(cfg)["app-web"]
    statements = _statements(app["Resources"]["ExecutionRole"])
    by_action = {a: s["Resource"] for s in statements for a in _actions(s)}
    # The exact ARN `up` resolved for the name, not a wildcard over its suffix.
    assert by_action["secretsmanager:GetSecretValue"] == [{"Ref": "SecretArn1"}]
    assert app["Outputs"]["SecretArns"]["Value"] == {"Fn::Sub": '{"acme/db":"${SecretArn1}"}'}
    assert by_action["ssm:GetParameters"] == [{"Fn::Sub": (
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/token")}]
    plain = bodies(example_config())["app-web"]
    actions = {a for s in _statements(plain["Resources"]["ExecutionRole"]) for a in _actions(s)}
    assert not any(a.startswith(("secretsmanager:", "ssm:")) for a in actions)


def test_roles_trust_only_ecs_tasks_of_this_account(templates: dict[str, Template]) -> None:
    """Every role a task uses; the pipeline roles trust builds' tokens (test_trust.py)."""
    roles = {key: sorted(resources_of(t, "AWS::IAM::Role")) for key, t in templates.items()}
    assert roles == {
        "builder": ["AgentExecutionRole", "ExecutionRole", "KanikoRole",
                    "TrustedAgentExecutionRole", "UntrustedExecutionRole", "UntrustedKanikoRole",
                    "UntrustedPipelineRole"],
        "edge": [],
        "jenkins": ["ControllerRole", "ExecutionRole"],
        "app-web": ["ExecutionRole", "KanikoRole", "PipelineRole", "TaskRole"]}
    for template in templates.values():
        for name, role in resources_of(template, "AWS::IAM::Role").items():
            if name.endswith("PipelineRole"):
                continue
            (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
            assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount":
                                                           {"Ref": "AWS::AccountId"}}}


def test_every_taggable_resource_carries_the_dockyard_tag(templates: dict[str, Template]) -> None:
    tagged = 0
    for template in templates.values():
        for name, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            tags = props.get("Tags") or props.get("FileSystemTags") or props.get("AccessPointTags")
            if resource["Type"] in _UNTAGGABLE:
                continue
            assert tags, f"{name} ({resource['Type']}) has no tags"
            assert {"Key": "dockyard:name", "Value": "acme"} in tags, name
            tagged += 1
    assert tagged > 20


# Types whose CloudFormation schema has no Tags property; stack tags cover what can be tagged.
_UNTAGGABLE = {
    "AWS::S3::BucketPolicy", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
    "AWS::EFS::MountTarget", "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::Route53::RecordSet",
    "AWS::EC2::Route", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::SubnetRouteTableAssociation",
}


def test_registry_credentials_reach_kaniko_only_as_a_task_definition_secret() -> None:
    from tests.conftest import VARIANTS

    builder = bodies(example_config(*VARIANTS["existing-private"]))["builder"]
    definitions = resources_of(builder, "AWS::ECS::TaskDefinition")
    assert sorted(definitions) == ["KanikoAmd64", "KanikoArm64", "KanikoUntrustedAmd64",
                                   "KanikoUntrustedArm64"]
    for name, definition in definitions.items():
        (container,) = definition["Properties"]["ContainerDefinitions"]
        if "Untrusted" in name:  # never handed to an untrusted build
            assert "Secrets" not in container
            assert definition["Properties"]["ExecutionRoleArn"] == {
                "Fn::GetAtt": ["UntrustedExecutionRole", "Arn"]}
            continue
        assert container["Secrets"] == [{"Name": "DOCKER_AUTH_CONFIG",
                                         "ValueFrom": {"Ref": "RegistryAuthSecretArn"}}]
        names = {e["Name"] for e in container.get("Environment", [])}
        assert names == {"AWS_REGION"}
        assert "Command" not in container
    statements = _statements(builder["Resources"]["ExecutionRole"])
    reads = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert [s["Resource"] for s in reads] == [[{"Ref": "RegistryAuthSecretArn"}]]
    untrusted = _statements(builder["Resources"]["UntrustedExecutionRole"])
    assert not any(a.startswith("secretsmanager:") for s in untrusted for a in _actions(s))
    plain = bodies(example_config())["builder"]
    for definition in resources_of(plain, "AWS::ECS::TaskDefinition").values():
        assert "Secrets" not in definition["Properties"]["ContainerDefinitions"][0]


def test_the_controller_starts_nothing_and_holds_no_ecs_permission(
        templates: dict[str, Template]) -> None:
    """Agents join the controller (swarm clients); it starts no task and passes no role."""
    statements = _statements(templates["jenkins"]["Resources"]["ControllerRole"])
    actions = {a for s in statements for a in _actions(s)}
    assert not any(a.startswith(("ecs:", "iam:")) for a in actions), actions
    # No secretsmanager:ListSecrets (it has no resource scope): the controller reads its own
    # secrets by name and lists none.
    assert actions == {"secretsmanager:GetSecretValue", "elasticfilesystem:ClientMount",
                       "elasticfilesystem:ClientWrite"}
    assert all("*" not in str(s["Resource"]) for s in statements), "every statement is scoped"


def test_under_github_sign_in_agents_join_with_tokens_as_users_no_github_account_has() -> None:
    """The pools' users are dockyard.agents and dockyard.agents-trusted (a dot: no GitHub
    login), joining with the API token made from their secret (AGENT_AUTH=token); the
    controller reads the OAuth App's client secret, by name, and nothing more."""
    from dockyard.templates import render_stacks
    from tests.conftest import GITHUB_SIGN_IN, example_config

    stacks = {s.key: s.to_dict() for s in render_stacks(example_config(GITHUB_SIGN_IN))}
    resources = stacks["jenkins"]["Resources"]
    for prefix, user in (("Agent", "dockyard.agents"),
                         ("TrustedAgent", "dockyard.agents-trusted")):
        (container,) = resources[f"{prefix}TaskDefinition"]["Properties"]["ContainerDefinitions"]
        environment = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert environment["AGENT_USER"] == user and environment["AGENT_AUTH"] == "token"
    (read,) = [s for s in _statements(resources["ControllerRole"])
               if s.get("Sid") == "ReadOwnSecrets"]
    named = [r for r in read["Resource"] if isinstance(r, dict) and "Fn::Sub" in r]
    assert [r["Fn::Sub"] for r in named] == [
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        "acme/github-??????",
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        "acme/jenkins-oauth-??????"]


def test_agents_get_their_password_from_ecs_hold_no_credentials_and_open_nothing(
        templates: dict[str, Template]) -> None:
    """Two pools (untrusted and trusted builds), each joining as its own Jenkins user with its
    own password, which only that pool's execution role reads (ECS, at start). No task role:
    nothing a build runs on an agent gets AWS credentials from the agent."""
    jenkins, builder = templates["jenkins"], templates["builder"]
    for prefix, user, labels in (("Agent", "agents", "dockyard"),
                                 ("TrustedAgent", "agents-trusted",
                                  "dockyard dockyard-trusted")):
        definition = jenkins["Resources"][f"{prefix}TaskDefinition"]["Properties"]
        (container,) = definition["ContainerDefinitions"]
        assert container["Secrets"] == [{"Name": "JENKINS_AGENT_PASSWORD",
                                         "ValueFrom": {"Ref": f"{prefix}SecretArn"}}]
        environment = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert environment["AGENT_USER"] == user and environment["AGENT_LABELS"] == labels
        assert environment["AGENT_AUTH"] == "realm", "the local realm knows the pools' users"
        assert environment["DOCKYARD_ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}
        assert "PASSWORD" not in json.dumps(container.get("Environment", [])).upper()
        assert container["ReadonlyRootFilesystem"] is True
        assert "PortMappings" not in container, "nothing connects to an agent"
        assert definition["ExecutionRoleArn"] == {"Ref": f"{prefix}ExecutionRoleArn"}
        assert "TaskRoleArn" not in definition
        service = jenkins["Resources"][f"{prefix}Service"]["Properties"]
        assert "LoadBalancers" not in service
        assert "LaunchType" not in service, "a launch type would override the strategy"
        assert service["CapacityProviderStrategy"] == [
            {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1},  # the first on demand
            {"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0}]
        assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
            {"Ref": "AgentSecurityGroupId"}]
        execution = _statements(builder["Resources"][f"{prefix}ExecutionRole"])
        (read,) = [s for s in execution if "secretsmanager:GetSecretValue" in _actions(s)]
        assert read["Resource"] == [{"Ref": f"{prefix}Secret"}], "its own pool's secret only"
    assert jenkins["Resources"]["AgentService"]["Properties"]["ServiceName"] == "jenkins-agents"
    assert jenkins["Resources"]["TrustedAgentService"]["Properties"]["ServiceName"] == \
        "jenkins-agents-trusted"


def test_only_an_app_with_exec_may_open_ecs_exec_channels_and_logs_its_sessions(
        templates: dict[str, Template]) -> None:
    """apps.<name>.exec: the task role gains the ssmmessages channels (no resource type: "*")
    and writing to the app's own log group; without it the task role has no permission at
    all, and the pipeline role may not turn ECS Exec on. The cluster logs sessions where each
    task's awslogs configuration points (DEFAULT)."""
    cluster = templates["builder"]["Resources"]["Cluster"]["Properties"]
    assert cluster["Configuration"] == {"ExecuteCommandConfiguration": {"Logging": "DEFAULT"}}
    plain = templates["app-web"]["Resources"]
    assert "Policies" not in plain["TaskRole"]["Properties"]
    deploy = next(s for s in _statements(plain["PipelineRole"]) if s.get("Sid") == "Deploy")
    assert deploy["Condition"]["StringEqualsIfExists"] == {"ecs:enable-execute-command": "false"}

    cfg = example_config(("    port: 5001\n", "    port: 5001\n    exec: true\n"
                                               "    read_only_root: false\n"))
    app = bodies(cfg)["app-web"]["Resources"]
    by_sid = {s["Sid"]: s for s in _statements(app["TaskRole"])}
    assert sorted(by_sid) == ["ExecFindsLogGroup", "ExecSessions", "ExecWritesSession"]
    assert _actions(by_sid["ExecSessions"]) == [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
    assert by_sid["ExecWritesSession"]["Resource"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    deploy = next(s for s in _statements(app["PipelineRole"]) if s.get("Sid") == "Deploy")
    assert deploy["Condition"]["StringEqualsIfExists"] == {
        "ecs:enable-execute-command": ["true", "false"]}, "turning it off needs no `up` first"
    for role in (app["PipelineRole"], templates["builder"]["Resources"]["UntrustedPipelineRole"]):
        run = next(s for s in _statements(role) if s.get("Sid") == "RunTasks")
        assert run["Condition"]["StringEqualsIfExists"] == {
            "ecs:enable-execute-command": "false"}, "a pipeline's tasks never have ECS Exec"
