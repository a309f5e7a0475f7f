"""Jenkins agents, in the builder stack: their security group, log group, roles and the secret
they join the controller with.

They live beside the builds they start because the controller image's JCasC names them: the
builder stack is deployed, the images are built with these values, then the jenkins stack runs
the controller. The agents' task role is what a pipeline's ``dockyard build`` and ``dockyard
deploy`` may do: run the builder's task definitions on this cluster, pass only the builder's and
the apps' roles, and update only the platform's app services.

Its policy names resources by the platform's naming conventions (``<name>/*`` repositories, the
``<name>`` cluster's services, ``<name>-app-*`` roles, ``/dockyard/<name>/apps/*`` log groups),
never app by app: it stays the same size for 1 app or 100, far below IAM's 10,240 characters
for a role's inline policies, and adding an app changes nothing here. The Jenkins controller's
own service is the one service in the cluster that is not an app: changing it is denied
outright (app names cannot start with "jenkins").

The agents join the controller as the Jenkins user ``agents`` with a password generated here
into Secrets Manager. ECS hands it to the agent container as an environment variable at start
(the task definition names only the secret's ARN), so it is in no template, task definition
or log; the controller reads the same secret through its JCasC secret source.
"""

from __future__ import annotations

from typing import Any

from awacs import aws as awacs_iam
from troposphere import GetAtt, Ref, Sub, Template
from troposphere import ec2 as tp_ec2
from troposphere import secretsmanager as sm

from dockyard.config.models import Config
from dockyard.names import (
    CONTEXT_PREFIX,
    DIGEST_PREFIX,
    Out,
    agent_secret_name,
    log_group_name,
)
from dockyard.templates.policies import (
    allow,
    deny,
    ecr_pull_statements,
    ecr_repository_arn,
    logs_write_statement,
    task_role,
)
from dockyard.templates.repositories import platform_repositories
from dockyard.templates.stack import log_group, suppress

_ARN = "arn:${AWS::Partition}"
_ECS_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def agent_log_group(cfg: Config) -> str:
    """The agents' log group."""
    return log_group_name(cfg.name, "agents")


def add_agents(t: Template, cfg: Config, *, vpc: Any, cluster: Any, bucket: Any,
               build_logs: Any, build_roles: list[Any]) -> dict[str, Any]:
    """Add the agents' resources to the builder template; returns their outputs."""
    group = t.add_resource(tp_ec2.SecurityGroup(
        "AgentSecurityGroup",
        GroupDescription=f"dockyard {cfg.name} Jenkins agents: no inbound; outbound to sources, "
                         "packages and the controller",
        VpcId=Ref(vpc),
        # Pipelines fetch sources and packages from anywhere; nothing connects to an agent.
        SecurityGroupEgress=[tp_ec2.SecurityGroupRule(
            IpProtocol="-1", CidrIp="0.0.0.0/0",
            Description="Sources, packages, AWS APIs and the controller")],
    ))
    logs = t.add_resource(log_group("AgentLogGroup", agent_log_group(cfg),
                                    cfg.jenkins.agents.log_retention_days))
    secret = t.add_resource(suppress(sm.Secret(
        "AgentSecret",
        Name=agent_secret_name(cfg.name),
        Description=f"dockyard {cfg.name}: the password Jenkins agents join the controller with "
                    "(Jenkins user 'agents')",
        GenerateSecretString=sm.GenerateSecretString(PasswordLength=32, ExcludePunctuation=True),
    ), ("CKV_AWS_149", "encrypted with the aws/secretsmanager key; read by the agents' execution "
                       "role and the controller only, a customer key adds cost without narrowing "
                       "access")))
    execution = t.add_resource(task_role(
        "AgentExecutionRole",
        f"dockyard {cfg.name}: pulls the agent image, writes agent logs, hands agents their secret",
        logs_write_statement(GetAtt(logs, "Arn")),
        *ecr_pull_statements([], [ecr_repository_arn(f"{cfg.name}/jenkins-agent")]),
        allow(["secretsmanager:GetSecretValue"], [Ref(secret)], sid="AgentSecret")))
    agent = t.add_resource(suppress(task_role(
        "AgentRole", f"dockyard {cfg.name}: what pipelines may do (dockyard build, run and "
                     "deploy)",
        *_build_statements(cfg, cluster, bucket, build_logs, build_roles=build_roles),
        *_deploy_statements(cfg, cluster),
    ), ("CKV_AWS_111", "ecs:RegisterTaskDefinition has no resource-level permissions; the task "
                       "definitions it registers can only use roles this role may pass")))
    return {Out.AGENT_SECURITY_GROUP_ID: Ref(group),
            Out.AGENT_EXECUTION_ROLE_ARN: GetAtt(execution, "Arn"),
            Out.AGENT_TASK_ROLE_ARN: GetAtt(agent, "Arn"), Out.AGENT_LOG_GROUP: Ref(logs),
            Out.AGENT_SECRET_ARN: Ref(secret)}


def _on_cluster(cluster: Any) -> awacs_iam.Condition:
    return awacs_iam.Condition(awacs_iam.ArnEquals("ecs:cluster", GetAtt(cluster, "Arn")))


def _build_statements(cfg: Config, cluster: Any, bucket: Any, build_logs: Any, *,
                      build_roles: list[Any]) -> list[Any]:
    tasks = Sub(f"{_ARN}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:task/{cfg.name}/*")
    kaniko = Sub(f"{_ARN}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:task-definition/"
                 f"{cfg.name}-kaniko-*:*")
    return [
        allow(["ecs:RunTask"], [kaniko], _on_cluster(cluster), sid="RunBuilds"),
        allow(["ecs:TagResource"], [tasks], awacs_iam.Condition(
            awacs_iam.StringEquals("ecs:CreateAction", "RunTask")), sid="TagBuildTasks"),
        allow(["ecs:DescribeTasks", "ecs:StopTask"], [tasks], sid="FollowTasks"),
        allow(["iam:PassRole"], build_roles, awacs_iam.Condition(
            awacs_iam.StringEquals(_ECS_TASKS)), sid="PassBuildRoles"),
        allow(["s3:GetObject", "s3:PutObject"],
              [Sub(f"${{{bucket.title}.Arn}}/{CONTEXT_PREFIX}*"),
               Sub(f"${{{bucket.title}.Arn}}/{DIGEST_PREFIX}*")], sid="BuildInputs"),
        allow(["logs:GetLogEvents"], [GetAtt(build_logs, "Arn")], sid="BuildLogs"),
        allow(["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:PutImage"],
              [platform_repositories(cfg)], sid="Images"),
        allow(["cloudformation:DescribeStacks"],
              [Sub(f"{_ARN}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/"
                   f"{cfg.name}-*/*")], sid="ReadPlatformStacks"),
    ]


def _deploy_statements(cfg: Config, cluster: Any) -> list[Any]:
    arn = f"{_ARN}:ecs:${{AWS::Region}}:${{AWS::AccountId}}"
    services = Sub(f"{arn}:service/{cfg.name}/*")
    families = Sub(f"{arn}:task-definition/{cfg.name}-*:*")
    return [
        allow(["ecs:CreateService", "ecs:UpdateService", "ecs:DescribeServices",
               "ecs:ListServiceDeployments"], [services], sid="DeployApps"),
        # The Service Authorization Reference lists both resource types as required.
        allow(["ecs:DescribeServiceRevisions"],
              [services, Sub(f"{arn}:service-revision/{cfg.name}/*")], sid="ReadAppRevisions"),
        deny(["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService"],
             [Sub(f"{arn}:service/{cfg.name}/jenkins*")], sid="NotTheController"),
        allow(["ecs:TagResource"], [services, families], awacs_iam.Condition(
            awacs_iam.StringEquals("ecs:CreateAction",
                                   ["CreateService", "RegisterTaskDefinition"])),
              sid="TagAppResources"),
        allow(["ecs:ListTasks"], ["*"], _on_cluster(cluster), sid="ListAppTasks"),
        # dockyard run: one-off tasks of the apps' run families, on the platform's cluster
        # (tagging them, following and stopping them: TagBuildTasks, FollowTasks).
        allow(["ecs:RunTask"], [Sub(f"{arn}:task-definition/{cfg.name}-*-run:*")],
              _on_cluster(cluster), sid="RunOneOffs"),
        allow(["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"], ["*"],
              sid="AppTaskDefinitions"),
        allow(["iam:PassRole"],
              [Sub(f"{_ARN}:iam::${{AWS::AccountId}}:role/{cfg.name}-app-*")],
              awacs_iam.Condition(awacs_iam.StringEquals(_ECS_TASKS)), sid="PassAppRoles"),
        # Blue-green, canary and linear deploys: the app stacks' infrastructure roles go to
        # ECS itself, and the deployment is followed (and its smoke-test pause answered).
        allow(["iam:PassRole"],
              [Sub(f"{_ARN}:iam::${{AWS::AccountId}}:role/{cfg.name}-app-*")],
              awacs_iam.Condition(awacs_iam.StringEquals(
                  "iam:PassedToService", "ecs.amazonaws.com")), sid="PassTrafficRoles"),
        allow(["ecs:DescribeServiceDeployments", "ecs:ContinueServiceDeployment"],
              [Sub(f"{arn}:service-deployment/{cfg.name}/*")], sid="FollowAppDeployments"),
        allow(["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"],
              [Sub(f"{_ARN}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/dockyard/"
                   f"{cfg.name}/apps/*")], sid="AppLogs"),
    ]
