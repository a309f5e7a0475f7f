"""The ``<name>-app-<app>`` stack: everything an app's service needs except the service itself.

The ECS service and its task definitions are created and rolled by ``dockyard deploy`` through
the ECS API, so a deploy is fast and its outcome exact; this stack holds what changes rarely:
the image repository (and its kaniko cache), the target group and host rule, DNS, logs, roles
and the security group. The secrets the app names are resolved to their ARNs here, once per
``up``: the execution role may read exactly those, and deploys take the ARNs from this stack's
outputs instead of asking Secrets Manager.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import Equals, GetAtt, Not, Output, Ref, Sub, cloudwatch, ec2
from troposphere import applicationautoscaling as appscaling
from troposphere import elasticloadbalancingv2 as elb
from troposphere import iam as tp_iam

from dockyard import trust
from dockyard.config.kinds import behind_load_balancer
from dockyard.config.models import App, Config
from dockyard.config.routing import app_priority, header_rule_priority
from dockyard.names import (
    TEST_HEADER,
    TEST_HEADER_PATTERN,
    Out,
    app_stack_key,
    log_group_name,
)
from dockyard.templates.builder import builder_architectures, kaniko_family, kaniko_statements
from dockyard.templates.pipelines import app_log_arns, app_pipeline_role
from dockyard.templates.placement import add_edge_parameters, add_host, add_vpc_parameter
from dockyard.templates.policies import (
    allow,
    ecr_pull_statements,
    ecr_repository_arn,
    ecs_infrastructure_trust,
    logs_write_statement,
    policy,
    task_role,
)
from dockyard.templates.repositories import add_repositories, quarantine_repository
from dockyard.templates.stack import (
    Discovered,
    FromStack,
    StackTemplate,
    add_parameter,
    log_group,
    new_template,
    tag_resources,
)

_ARN_PREFIX = "arn:${AWS::Partition}"


def app_log_group(cfg: Config, app_name: str) -> str:
    """The app's log group."""
    return log_group_name(cfg.name, f"apps/{app_name}")


def named_secrets(app: App) -> list[str]:
    """The Secrets Manager secrets the app names (not by ARN, not SSM), in a stable order."""
    return sorted({ref for ref in app.secrets.values() if not ref.startswith(("arn:", "ssm:"))})


def app_stack(cfg: Config, app_name: str) -> StackTemplate:
    """Render the stack of one app."""
    app = cfg.apps[app_name]
    host = app.host or app_name
    web = behind_load_balancer(app)
    t = new_template(cfg, f"app {app_name} at {cfg.url(host)}" if web
                     else f"{app.kind} {app_name} (no load balancer)")
    p, inputs = add_edge_parameters(t, cfg) if web else add_vpc_parameter(t, cfg)
    repository = cfg.repository_of(app_name)
    if app.image_from is None:
        _, adoptions = add_repositories(t, cfg, [repository])
        inputs.update(adoptions)
    secret_arns = {}
    for number, name in enumerate(named_secrets(app), start=1):
        parameter = add_parameter(t, f"SecretArn{number}", "String", f"The ARN of {name}.")
        inputs[parameter.title] = Discovered(f"secret-arn:{name}")
        secret_arns[name] = Ref(parameter)

    target_group: elb.TargetGroup | None = None
    progressive: dict[str, Any] = {}
    if web:
        group, target_group, progressive = _behind_load_balancer(t, cfg, app_name, p, inputs)
    else:
        # A worker takes no traffic: nothing may open a connection to it. It reaches its own
        # dependencies (queues, databases, APIs) wherever those are.
        group = t.add_resource(ec2.SecurityGroup(
            "SecurityGroup",
            GroupDescription=f"dockyard {cfg.name} {app.kind} {app_name}: no inbound traffic",
            VpcId=Ref(p["VpcId"]),
            SecurityGroupEgress=[ec2.SecurityGroupRule(
                IpProtocol="-1", CidrIp="0.0.0.0/0", Description="The app's own dependencies")],
        ))
    logs = t.add_resource(log_group("LogGroup", app_log_group(cfg, app_name),
                                    app.log_retention_days))
    execution_role = t.add_resource(task_role(
        "ExecutionRole",
        f"dockyard {cfg.name}: pulls {app_name}'s image"
        + (f" (from {repository})" if app.image_from else "") + ", its secrets, writes its logs",
        logs_write_statement(GetAtt(logs, "Arn")),
        *ecr_pull_statements([], [ecr_repository_arn(repository)]),
        *_secret_statements(app, list(secret_arns.values())),
    ))
    role = t.add_resource(task_role(
        "TaskRole", f"dockyard {cfg.name}: the {app_name} app's own permissions"
        + (" (ECS Exec sessions, logged to its log group)" if app.exec else " (none yet)"),
        *(exec_statements(GetAtt(logs, "Arn")) if app.exec else [])))
    alarms = _alarms(t, cfg, app_name, inputs, target_group) if target_group else []
    if app.scale is not None:
        _scaling(t, cfg, app_name, inputs, target_group)
    quarantine = {} if app.image_from else {Out.QUARANTINE_REPOSITORY_URI: Sub(
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        + t.add_resource(quarantine_repository(cfg, app_name)).RepositoryName)}
    builds = _builds(t, cfg, app_name, inputs, roles=[execution_role, role],
                     traffic=progressive.get(Out.INFRASTRUCTURE_ROLE_ARN))

    served = {Out.URL: cfg.url(host), Out.TARGET_GROUP_ARN: Ref(target_group)} \
        if target_group else {}
    for name, value in {
        **served,
        Out.SECURITY_GROUP_ID: Ref(group),
        Out.EXECUTION_ROLE_ARN: GetAtt(execution_role, "Arn"),
        Out.TASK_ROLE_ARN: GetAtt(role, "Arn"),
        Out.LOG_GROUP_NAME: Ref(logs),
        **({Out.CONTAINER_PORT: str(app.listen_port)} if target_group else {}),
        Out.REPOSITORY_URI: Sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
                             f"{repository}"),
        **quarantine,
        **builds,
        **({Out.ALARM_NAMES: ",".join(alarms)} if alarms else {}),
        **progressive,
        **({Out.SECRET_ARNS: Sub(json.dumps({name: f"${{SecretArn{n}}}" for n, name in
                                          enumerate(secret_arns, start=1)},
                                         separators=(",", ":")))} if secret_arns else {}),
    }.items():
        t.add_output(Output(name, Value=value))
    return StackTemplate(app_stack_key(app_name), cfg.stack_name(app_stack_key(app_name)),
                         tag_resources(t, cfg), inputs=inputs)


def _behind_load_balancer(t: Any, cfg: Config, app_name: str, p: dict[str, Any],
                          inputs: dict[str, Any]) -> tuple[Any, elb.TargetGroup, dict[str, Any]]:
    """A web app's place on the shared load balancer: its security group (the app's port
    from the load balancer only), the target group(s), the host rule and DNS; with a
    progressive strategy what ECS shifts traffic with (its outputs)."""
    app = cfg.apps[app_name]
    port = app.listen_port
    stack = cfg.stack_name(app_stack_key(app_name))
    serving, created = _port_parameters(t, app, app_name, stack, inputs)
    # Apps reach their own dependencies (databases, APIs) wherever those are, so outbound is
    # open; inbound is the app's port from the load balancer only. The description, which
    # cannot change without replacing the group, names the port the group was created for.
    group = t.add_resource(ec2.SecurityGroup(
        "SecurityGroup",
        GroupDescription=Sub(f"dockyard {cfg.name} app {app_name}: port ${{{created.title}}} "
                             "from the load balancer only"),
        VpcId=Ref(p["VpcId"]),
        SecurityGroupIngress=[ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=port, ToPort=port,
            SourceSecurityGroupId=Ref(p["LoadBalancerSecurityGroupId"]),
            Description=f"{app_name} through the load balancer")],
        SecurityGroupEgress=[ec2.SecurityGroupRule(
            IpProtocol="-1", CidrIp="0.0.0.0/0", Description="The app's own dependencies")],
    ))
    t.add_resource(ec2.SecurityGroupEgress(
        "LoadBalancerToApp", GroupId=Ref(p["LoadBalancerSecurityGroupId"]), IpProtocol="tcp",
        FromPort=port, ToPort=port, DestinationSecurityGroupId=Ref(group),
        Description=f"To app {app_name}"))
    _open_serving_port(t, app_name, serving, group, p)
    target_group = t.add_resource(_target_group("TargetGroup", app, p, created))
    progressive: dict[str, Any] = {}
    if app.deploy.progressive:
        progressive = _progressive(t, cfg, app_name, (p, inputs), target_group)
    else:
        add_host(t, cfg, p, host=app.host or app_name, priority=app_priority(app_name, app),
                 target_group=target_group)
    return group, target_group, progressive


def _port_parameters(t: Any, app: App, app_name: str, stack: str,
                     inputs: dict[str, Any]) -> tuple[Any, Any]:
    """The port the app's running tasks listen on, and the port its target groups and security
    group were created with, both looked up at ``up`` (the app's port before anything runs)."""
    serving = add_parameter(t, "ServingPort", "Number",
                            f"The port {app_name}'s running tasks listen on; while it is not "
                            "the app's port, both are open to the load balancer.")
    created = add_parameter(t, "CreatedPort", "Number",
                            "The port the target groups and the security group were created "
                            "with, kept: changing it would replace them.")
    for parameter, fact in ((serving, serving_port_fact(app_name)),
                            (created, created_port_fact(stack))):
        parameter.Default = app.listen_port
        parameter.MinValue, parameter.MaxValue = 1, 65535
        inputs[parameter.title] = Discovered(fact)
    t.add_condition("PortMoving", Not(Equals(Ref(serving), str(app.listen_port))))
    return serving, created


def _open_serving_port(t: Any, app_name: str, serving: Any, group: Any,
                       p: dict[str, Any]) -> None:
    """While the running tasks listen on another port than dockyard.yml's (a port change,
    between `up` and the deploy that moves them), that port stays open too, so the load
    balancer reaches them until the new revision takes over; the next `up` closes it."""
    t.add_resource(ec2.SecurityGroupIngress(
        "ServingPortFromLoadBalancer", Condition="PortMoving", GroupId=Ref(group),
        IpProtocol="tcp", FromPort=Ref(serving), ToPort=Ref(serving),
        SourceSecurityGroupId=Ref(p["LoadBalancerSecurityGroupId"]),
        Description=f"{app_name}'s running tasks, until a deploy moves them to the new port"))
    t.add_resource(ec2.SecurityGroupEgress(
        "LoadBalancerToServingPort", Condition="PortMoving",
        GroupId=Ref(p["LoadBalancerSecurityGroupId"]), IpProtocol="tcp", FromPort=Ref(serving),
        ToPort=Ref(serving), DestinationSecurityGroupId=Ref(group),
        Description=f"To app {app_name}'s running tasks, until a deploy moves them"))


def serving_port_fact(app_name: str) -> str:
    """The discovered fact holding the port an app's running tasks listen on."""
    return f"serving-port:{app_name}"


def created_port_fact(stack: str) -> str:
    """The discovered fact holding the port an app stack's target group was created with."""
    return f"created-port:{stack}:TargetGroup"


def _target_group(title: str, app: App, p: dict[str, Any], created: Any) -> elb.TargetGroup:
    # For targets of type ip the group's port is only a default: ECS registers each task with
    # its container port, and the health check goes to the port each target is registered
    # with ("traffic-port"; ELB API Reference, RegisterTargets and CreateTargetGroup). Port
    # cannot change without replacing the group, which would leave the listener rule on an
    # empty one: it stays the port the group was created with.
    return elb.TargetGroup(
        title,
        Port=Ref(created), Protocol="HTTP", TargetType="ip", VpcId=Ref(p["VpcId"]),
        HealthCheckPath=app.health_check, HealthCheckProtocol="HTTP",
        Matcher=elb.Matcher(HttpCode="200-399"),
        HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2, UnhealthyThresholdCount=3,
        TargetGroupAttributes=[
            elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30")],
    )


def forward_weight_fact(stack: str, rule: str, target_group: str) -> str:
    """The discovered fact holding a live rule's weight for one target group (both logical
    ids): ECS moves these weights at every blue-green, canary or linear deployment."""
    return f"forward-weight:{stack}:{rule}:{target_group}"


def test_header_fact(stack: str) -> str:
    """The discovered fact holding the value of a test rule's X-Dockyard-Test condition: kept
    from the live rule, or a new random one (``stacks.platform.discover``)."""
    return f"test-header:{stack}:TestRule"


def _progressive(t: Any, cfg: Config, app_name: str,
                 parameters: tuple[dict[str, Any], dict[str, Any]],
                 target_group: elb.TargetGroup) -> dict[str, Any]:
    """What ECS's blue-green, canary and linear strategies need (ECS Developer Guide,
    "Application Load Balancer resources for blue/green, linear, and canary deployments"):
    a second target group, a production rule forwarding to both, a test rule, and a role that
    lets ECS move the weights and register tasks.

    ECS rewrites both rules' weights at every deployment, so the weights here are parameters
    that ``up`` reads from the live rules: an update of this stack never sends production
    traffic back to a target group the service has left.
    """
    p, inputs = parameters
    app = cfg.apps[app_name]
    host = app.host or app_name
    stack = cfg.stack_name(app_stack_key(app_name))
    alternate = t.add_resource(_target_group("AlternateTargetGroup", app, p,
                                             t.parameters["CreatedPort"]))

    def forward(rule: str) -> elb.ListenerRuleAction:
        groups = []
        for group, default in ((target_group, 100), (alternate, 0)):
            weight = add_parameter(t, f"{rule}{group.title}Weight", "Number",
                                   f"The live weight of {group.title} in {rule} (ECS moves it).")
            weight.Default = default
            weight.MinValue, weight.MaxValue = 0, 999
            inputs[weight.title] = Discovered(forward_weight_fact(stack, rule, group.title))
            groups.append(elb.TargetGroupTuple(TargetGroupArn=Ref(group), Weight=Ref(weight)))
        return elb.ListenerRuleAction(Type="forward", ForwardConfig=elb.ForwardConfig(
            TargetGroups=groups))

    production = add_host(t, cfg, p, host=host, priority=app_priority(app_name, app),
                          target_group=target_group, action=forward("HostRule"))
    # The test rule's header value is random, never in the template: with the edge open to
    # the internet, a value anyone could guess (the app's name) would let anyone reach the
    # revision under test. `up` keeps the live value; of the tasks, only the smoke test's is
    # told it (a RunTask override, never a task definition).
    secret = add_parameter(t, "TestHeaderValue", "String",
                           f"The value of {TEST_HEADER} the test rule wants (random, kept).")
    secret.AllowedPattern = TEST_HEADER_PATTERN
    inputs[secret.title] = Discovered(test_header_fact(stack))
    conditions = [
        elb.Condition(Field="host-header",
                      HostHeaderConfig=elb.HostHeaderConfig(Values=[f"{host}.{cfg.edge.domain}"])),
        elb.Condition(Field="http-header", HttpHeaderConfig=elb.HttpHeaderConfig(
            HttpHeaderName=TEST_HEADER, Values=[Ref(secret)]))]
    if cidrs := cfg.test_rule_cidrs():
        conditions.append(elb.Condition(Field="source-ip",
                                        SourceIpConfig=elb.SourceIpConfig(Values=cidrs)))
    test = t.add_resource(elb.ListenerRule(
        "TestRule", ListenerArn=Ref(p["HttpsListenerArn"]),
        Priority=header_rule_priority(app_name, app), Conditions=conditions,
        Actions=[forward("TestRule")]))
    # What AmazonECSInfrastructureRolePolicyForLoadBalancers grants, scoped to this app's two
    # target groups and two rules (the Describe calls take no resource).
    role = t.add_resource(tp_iam.Role(
        "InfrastructureRole",
        Description=f"dockyard {cfg.name}: lets ECS move {app_name}'s traffic between its "
                    "target groups during a deployment",
        AssumeRolePolicyDocument=ecs_infrastructure_trust(),
        Policies=[tp_iam.Policy(PolicyName="load-balancing", PolicyDocument=policy(
            allow(["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                   "elasticloadbalancing:DescribeTargetGroups",
                   "elasticloadbalancing:DescribeTargetHealth"], ["*"], sid="ReadLoadBalancing"),
            allow(["elasticloadbalancing:RegisterTargets",
                   "elasticloadbalancing:DeregisterTargets"],
                  [Ref(target_group), Ref(alternate)], sid="RegisterTasks"),
            allow(["elasticloadbalancing:ModifyRule"], [Ref(production), Ref(test)],
                  sid="ShiftTraffic")))]))
    return {Out.ALTERNATE_TARGET_GROUP_ARN: Ref(alternate),
            Out.PRODUCTION_RULE_ARN: Ref(production), Out.TEST_RULE_ARN: Ref(test),
            # Readable by the operator and the app's own pipeline role (DescribeStacks of
            # this stack), which hands it to the smoke task only.
            Out.TEST_HEADER_VALUE: Ref(secret),
            Out.INFRASTRUCTURE_ROLE_ARN: GetAtt(role, "Arn")}


def _builds(t: Any, cfg: Config, app_name: str, inputs: dict[str, Any], *, roles: list[Any],
            traffic: Any) -> dict[str, Any]:
    """kaniko's role for this app's images, and the role its trusted builds assume: the one
    identity that may build into, migrate and deploy this app (dockyard.trust)."""
    for name, kind, text, output in (
        ("ContextBucket", "String", "The build-context bucket (builder stack).",
         Out.CONTEXT_BUCKET),
        ("BuildLogGroup", "String", "The trusted builds' log group (builder stack).",
         Out.BUILD_LOG_GROUP),
        ("BuildExecutionRoleArn", "String", "kaniko's execution role (builder stack).",
         Out.EXECUTION_ROLE_ARN),
        ("OidcProviderArn", "String", "Jenkins' OIDC issuer in IAM (builder stack).",
         Out.OIDC_PROVIDER_ARN),
    ):
        add_parameter(t, name, kind, text)
        inputs[name] = FromStack("builder", output)
    repository = cfg.repository_of(app_name)
    builds = cfg.apps[app_name].image_from is None
    outputs: dict[str, Any] = {}
    kaniko_roles = []
    if builds:
        kaniko = t.add_resource(task_role(
            "KanikoRole", f"dockyard {cfg.name}: kaniko pushes {app_name}'s image and cache, "
                          "nothing else",
            *kaniko_statements(cfg, [Sub(f"{_ARN_PREFIX}:s3:::${{ContextBucket}}/"
                                         f"{trust.context_prefix(app_name)}*")],
                               push=[repository, f"{repository}-cache"]),
            name=trust.kaniko_role(cfg, app_name)))
        outputs[Out.KANIKO_ROLE_ARN] = GetAtt(kaniko, "Arn")
        kaniko_roles = [GetAtt(kaniko, "Arn"), Ref("BuildExecutionRoleArn")]
    if trust.trusted_subjects(cfg, app_name):
        pipeline = t.add_resource(app_pipeline_role(
            cfg, app_name, provider=Ref("OidcProviderArn"), bucket="ContextBucket",
            build_logs=Sub(f"{_ARN_PREFIX}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
                           "log-group:${BuildLogGroup}:*"),
            kaniko_families=[kaniko_family(cfg, a) for a in builder_architectures(cfg)]
            if builds else [],
            passed_to_tasks=[*kaniko_roles, *(GetAtt(r, "Arn") for r in roles)],
            passed_to_ecs=[traffic] if traffic is not None else [],
            app_logs=app_log_arns(cfg, app_name)))
        outputs[Out.PIPELINE_ROLE_ARN] = GetAtt(pipeline, "Arn")
    return outputs


def alarm_names(cfg: Config, app_name: str) -> list[str]:
    """The app's deployment alarms, by name (the names deploys give ECS)."""
    alarms = cfg.apps[app_name].alarms
    return [f"{cfg.name}-{app_name}-{kind}" for kind, on in
            (("error-rate", alarms.error_rate), ("response-time", alarms.response_time_ms)) if on]


def _alarms(t: Any, cfg: Config, app_name: str, inputs: dict[str, Any],
            target_group: elb.TargetGroup) -> list[str]:
    """CloudWatch alarms on the app's target group, in the load balancer's own metrics
    (AWS/ApplicationELB, per minute; ELB User Guide, "CloudWatch metrics for your Application
    Load Balancer"). No requests is no breach: an idle app never fails its deploy."""
    alarms = cfg.apps[app_name].alarms
    names = alarm_names(cfg, app_name)
    if not names:
        return []
    load_balancer = _load_balancer_name(t, inputs)
    dimensions = [cloudwatch.MetricDimension(Name="LoadBalancer", Value=Ref(load_balancer)),
                  cloudwatch.MetricDimension(Name="TargetGroup",
                                             Value=GetAtt(target_group, "TargetGroupFullName"))]

    def metric(query: str, name: str, stat: str) -> cloudwatch.MetricDataQuery:
        stat_of = cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(Namespace="AWS/ApplicationELB", MetricName=name,
                                     Dimensions=dimensions), Period=60, Stat=stat)
        return cloudwatch.MetricDataQuery(Id=query, ReturnData=False, MetricStat=stat_of)

    common = {"EvaluationPeriods": 2, "DatapointsToAlarm": 2, "TreatMissingData": "notBreaching",
              "ComparisonOperator": "GreaterThanOrEqualToThreshold"}
    if alarms.error_rate:
        t.add_resource(cloudwatch.Alarm(
            "ErrorRateAlarm", AlarmName=names[0],
            AlarmDescription=f"dockyard {cfg.name}: {alarms.error_rate}% or more of {app_name}'s "
                             "requests get a 5xx from its tasks; fails and rolls back a deploy",
            Metrics=[metric("errors", "HTTPCode_Target_5XX_Count", "Sum"),
                     metric("requests", "RequestCount", "Sum"),
                     cloudwatch.MetricDataQuery(
                         Id="rate", Label="5xx %", ReturnData=True,
                         Expression="IF(requests > 0, 100 * errors / requests, 0)")],
            Threshold=alarms.error_rate, **common))
    if alarms.response_time_ms:
        t.add_resource(cloudwatch.Alarm(
            "ResponseTimeAlarm", AlarmName=names[-1],
            AlarmDescription=f"dockyard {cfg.name}: {app_name} answers in "
                             f"{alarms.response_time_ms} ms or more on average; fails and rolls "
                             "back a deploy",
            Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime",
            Dimensions=dimensions, Statistic="Average", Period=60,
            Threshold=alarms.response_time_ms / 1000, **common))
    return names


def _load_balancer_name(t: Any, inputs: dict[str, Any]) -> Any:
    """The parameter holding the load balancer's name in CloudWatch (added once)."""
    if "LoadBalancerFullName" not in t.parameters:
        parameter = add_parameter(t, "LoadBalancerFullName", "String",
                                  "The load balancer's name in CloudWatch (app/NAME/ID).")
        inputs[parameter.title] = FromStack("edge", Out.LOAD_BALANCER_FULL_NAME)
    return t.parameters["LoadBalancerFullName"]


# Application Auto Scaling's service-linked role for ECS, created on the first registration
# in the account; naming it is what CloudFormation recommends (User Guide,
# AWS::ApplicationAutoScaling::ScalableTarget RoleARN).
SCALING_ROLE = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
                "ecs.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_ECSService")
SCALE_OUT_COOLDOWN, SCALE_IN_COOLDOWN = 60, 300


def service_exists_fact(app_name: str) -> str:
    """The discovered fact saying whether the app's ECS service exists (``true``/``false``)."""
    return f"service-exists:{app_name}"


def _scaling(t: Any, cfg: Config, app_name: str, inputs: dict[str, Any],
             target_group: elb.TargetGroup | None) -> None:
    """apps.<name>.scale: the service's scalable target and a target tracking policy per
    target, once the service exists (RegisterScalableTarget refuses one that does not).

    Request counts and response times come from the load balancer's target groups. For a
    progressive app both groups are read and combined, AWS's own pattern for blue/green
    (aws-samples/sample-amazon-ecs-blue-green-deployment-patterns, ecs-bluegreen-autoscaling;
    aws/containers-roadmap#1681: a policy on one group loses its data when production moves
    to the other): the idle group counts 0 requests, so their sum is the live group's, and
    the slower of the two is the response time."""
    scale = cfg.apps[app_name].scale
    assert scale is not None
    exists = add_parameter(t, "ServiceExists", "String",
                           f"Whether {app_name}'s ECS service exists yet (its first deploy "
                           "creates it); scaling is registered only then.")
    exists.AllowedValues, exists.Default = ["true", "false"], "false"
    inputs[exists.title] = Discovered(service_exists_fact(app_name))
    t.add_condition("Scaling", Equals(Ref(exists), "true"))
    target = t.add_resource(appscaling.ScalableTarget(
        "ScalableTarget", Condition="Scaling", ServiceNamespace="ecs",
        ScalableDimension="ecs:service:DesiredCount",
        ResourceId=f"service/{cfg.name}/{app_name}", MinCapacity=scale.min,
        MaxCapacity=scale.max, RoleARN=Sub(SCALING_ROLE)))
    groups = [] if target_group is None else [target_group] + (
        [t.resources["AlternateTargetGroup"]] if "AlternateTargetGroup" in t.resources else [])

    def per_group(metric: str, stat: str, combine: str) -> Any:
        balancer = _load_balancer_name(t, inputs)
        queries = [appscaling.TargetTrackingMetricDataQuery(
            Id=f"group{number}", ReturnData=len(groups) == 1,
            MetricStat=appscaling.TargetTrackingMetricStat(Stat=stat, Metric=(
                appscaling.TargetTrackingMetric(
                    Namespace="AWS/ApplicationELB", MetricName=metric, Dimensions=[
                        appscaling.TargetTrackingMetricDimension(
                            Name="LoadBalancer", Value=Ref(balancer)),
                        appscaling.TargetTrackingMetricDimension(
                            Name="TargetGroup", Value=GetAtt(group, "TargetGroupFullName"))]))))
            for number, group in enumerate(groups, start=1)]
        if len(groups) > 1:
            filled = [f"FILL(group{n}, 0)" for n in range(1, len(groups) + 1)]
            queries.append(appscaling.TargetTrackingMetricDataQuery(
                Id="combined", ReturnData=True, Label=f"{metric} of the live target group",
                Expression=" + ".join(filled) if combine == "sum"
                else f"MAX([{', '.join(filled)}])"))
        return appscaling.CustomizedMetricSpecification(Metrics=queries)

    specifications: dict[str, tuple[float, Any]] = {}
    if scale.cpu_percent:
        specifications["Cpu"] = (scale.cpu_percent, appscaling.PredefinedMetricSpecification(
            PredefinedMetricType="ECSServiceAverageCPUUtilization"))
    if scale.memory_percent:
        specifications["Memory"] = (scale.memory_percent,
                                    appscaling.PredefinedMetricSpecification(
                                        PredefinedMetricType="ECSServiceAverageMemoryUtilization"))
    if scale.requests_per_target:
        specifications["Requests"] = (scale.requests_per_target, per_group(
            "RequestCountPerTarget", "Sum", "sum"))
    if scale.response_time_ms:
        specifications["ResponseTime"] = (scale.response_time_ms / 1000, per_group(
            "TargetResponseTime", "Average", "max"))
    for name, (value, specification) in specifications.items():
        kind = ("PredefinedMetricSpecification"
                if isinstance(specification, appscaling.PredefinedMetricSpecification)
                else "CustomizedMetricSpecification")
        t.add_resource(appscaling.ScalingPolicy(
            f"{name}ScalingPolicy", Condition="Scaling",
            PolicyName=f"{cfg.name}-{app_name}-{name.lower()}",
            PolicyType="TargetTrackingScaling", ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=appscaling.
            TargetTrackingScalingPolicyConfiguration(
                TargetValue=value, ScaleOutCooldown=SCALE_OUT_COOLDOWN,
                ScaleInCooldown=SCALE_IN_COOLDOWN, **{kind: specification})))


def exec_statements(log_group: Any) -> list[Any]:
    """What ECS Exec's agent in a task needs (apps.<name>.exec): the SSM messages channels,
    which have no resource type ("*"), and writing the session to the app's log group, which
    the cluster's DEFAULT logging names (ECS Developer Guide, "Monitor Amazon ECS containers
    with ECS Exec": IAM permissions required for ECS Exec, and for logging)."""
    return [
        allow(["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
               "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], ["*"],
              sid="ExecSessions"),
        allow(["logs:DescribeLogGroups"], ["*"], sid="ExecFindsLogGroup"),
        allow(["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
              [log_group], sid="ExecWritesSession"),
    ]


def _secret_statements(app: App, named: list[Any]) -> list[Any]:
    """Read exactly the secrets and parameters the app declares, nothing else."""
    secrets: list[Any] = list(named)
    parameters: list[Any] = []
    for ref in app.secrets.values():
        if ref.startswith("ssm:"):
            path = ref.removeprefix("ssm:").lstrip("/")
            parameters.append(Sub(f"{_ARN_PREFIX}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:"
                                  f"parameter/{path}"))
        elif ref.startswith("arn:") and ":ssm:" in ref:
            parameters.append(ref)
        elif ref.startswith("arn:"):
            # Drop a JSON-key suffix (secret:NAME:key:stage:version); ECS reads the whole secret.
            base = ":".join(ref.split(":")[:7])
            secrets.extend([base, base + "-??????"])
    statements = []
    if secrets:
        statements.append(allow(["secretsmanager:GetSecretValue"], secrets, sid="ReadAppSecrets"))
    if parameters:
        statements.append(allow(["ssm:GetParameters"], parameters, sid="ReadAppParameters"))
    return statements
