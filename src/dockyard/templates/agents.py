"""Jenkins agents, in the builder stack: their security group, log group, and for each of the
two pools (untrusted builds, trusted builds) the secret it joins the controller with and the
execution role that hands it over.

They live beside the builds they start because the controller image's JCasC names them: the
builder stack is deployed, the images are built with these values, then the jenkins stack runs
the controller.

The agents have no task role: the agent process needs nothing from AWS, and a build gets its
credentials for exactly what it is from its own OpenID Connect token (dockyard.trust), never
from the agent it happens to run on. What a build runs on an agent can ask the container
credentials endpoint for nothing.

Each pool joins the controller as its own Jenkins user (``agents``, ``agents-trusted``) with a
password generated here into Secrets Manager. ECS hands it to the agent container as an
environment variable at start (the task definition names only the secret's ARN), so it is in
no template, task definition or log; each pool's execution role reads only its own secret, and
the controller reads both through its JCasC secret source. The controller decides from the
user a node joined as, not from its labels, which pool it belongs to.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Template
from troposphere import ec2 as tp_ec2
from troposphere import secretsmanager as sm

from dockyard.config.models import Config
from dockyard.names import Out, agent_secret_name, jenkins_users, log_group_name
from dockyard.templates.policies import (
    allow,
    ecr_pull_statements,
    ecr_repository_arn,
    logs_write_statement,
    task_role,
)
from dockyard.templates.stack import log_group, suppress


def agent_log_group(cfg: Config) -> str:
    """The agents' log group."""
    return log_group_name(cfg.name, "agents")


def add_agents(t: Template, cfg: Config, *, vpc: Any) -> dict[str, Any]:
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
    outputs: dict[str, Any] = {Out.AGENT_SECURITY_GROUP_ID: Ref(group),
                               Out.AGENT_LOG_GROUP: Ref(logs)}
    for trusted, prefix in ((False, "Agent"), (True, "TrustedAgent")):
        pool = "trusted" if trusted else "untrusted"
        secret = t.add_resource(suppress(sm.Secret(
            f"{prefix}Secret",
            Name=agent_secret_name(cfg.name, trusted=trusted),
            Description=f"dockyard {cfg.name}: the password the {pool} Jenkins agents join the "
                        f"controller with (Jenkins user "
                        f"'{jenkins_users(cfg).pool(trusted=trusted)}')",
            GenerateSecretString=sm.GenerateSecretString(PasswordLength=32,
                                                         ExcludePunctuation=True),
        ), ("CKV_AWS_149", "encrypted with the aws/secretsmanager key; read by this pool's "
                           "execution role and the controller only, a customer key adds cost "
                           "without narrowing access")))
        execution = t.add_resource(task_role(
            f"{prefix}ExecutionRole",
            f"dockyard {cfg.name}: pulls the agent image, writes agent logs, hands the {pool} "
            "agents their secret",
            logs_write_statement(GetAtt(logs, "Arn")),
            *ecr_pull_statements([], [ecr_repository_arn(f"{cfg.name}/jenkins-agent")]),
            allow(["secretsmanager:GetSecretValue"], [Ref(secret)], sid="AgentSecret")))
        outputs[Out.TRUSTED_AGENT_EXECUTION_ROLE_ARN if trusted
                else Out.AGENT_EXECUTION_ROLE_ARN] = GetAtt(execution, "Arn")
        outputs[Out.TRUSTED_AGENT_SECRET_ARN if trusted else Out.AGENT_SECRET_ARN] = Ref(secret)
    return outputs

