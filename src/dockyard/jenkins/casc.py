"""Jenkins configuration as code, rendered from dockyard.yml and the platform's stacks.

Checked against the plugins' own documentation (each plugin's README and the
@DataBoundSetter names in its source):
matrix-auth ``entries`` (not ``grantedPermissions``), no ``agentProtocols`` or
``remotingSecurity`` (they break or warn on current LTS), the admin password as
``${<secret name>}`` resolved by the aws-secrets-manager-secret-source plugin, and the amazon-ecs
plugin's 1.49 keys, with a capacity-provider strategy: a template with only ``launchType:
FARGATE`` runs on demand even where Spot is available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from dockyard.config.models import Config, JenkinsJob
from dockyard.names import ARCH_TO_CPU, admin_secret_name, controller_internal_url

AGENT_LABEL = "dockyard"
CLOUD_NAME = "fargate"
WEBSOCKET_ENV = "JENKINS_WEB_SOCKET"


@dataclass(frozen=True)
class JenkinsInfra:
    """What the agents need from the platform's stacks (the builder stack's outputs)."""

    cluster_arn: str
    subnets: list[str]
    security_group: str
    assign_public_ip: bool
    execution_role_arn: str
    task_role_arn: str
    log_group: str
    agent_image: str


WEBHOOK_CREDENTIALS = "github-webhook-secret"
# dockyard's pipeline library (dockyardBuild, dockyardDeploy), baked into the controller image
# as a git repository and loaded implicitly by every pipeline.
LIBRARY_REPOSITORY = "/usr/share/dockyard/pipeline-library.git"
LIBRARY: dict[str, Any] = {
    "name": "dockyard",
    "defaultVersion": "main",
    "implicit": True,
    "allowVersionOverride": False,
    "includeInChangesets": False,
    "retriever": {"modernSCM": {"scm": {"git": {"remote": f"file://{LIBRARY_REPOSITORY}"}}}},
}


def render(cfg: Config, infra: JenkinsInfra) -> dict[str, Any]:
    """The JCasC document for ``cfg``."""
    document: dict[str, Any] = {
        "jenkins": _jenkins(cfg, infra),
        "security": {"globalJobDslSecurityConfiguration": {"useScriptSecurity": True}},
        "unclassified": {
            "location": {"url": cfg.url(cfg.jenkins.host)},
            "buildDiscarders": {"configuredBuildDiscarders": [
                "jobBuildDiscarder",
                {"simpleBuildDiscarder": {"discarder": {"logRotator": {
                    "numToKeepStr": "30", "daysToKeepStr": "14"}}}}]},
            "globalLibraries": {"libraries": [LIBRARY]},
        },
    }
    if cfg.jenkins.github:
        github = cfg.jenkins.github
        secret = github.credentials_secret
        credentials: list[dict[str, Any]] = [{"usernamePassword": {
            "scope": "GLOBAL", "id": "github",
            "description": f"GitHub, from the Secrets Manager secret {secret}",
            "username": f"${{json:username:${{{secret}}}}}",
            "password": f"${{json:token:${{{secret}}}}}"}}]
        if github.webhook_secret:
            credentials.append({"string": {
                "scope": "GLOBAL", "id": WEBHOOK_CREDENTIALS,
                "description": f"Signs GitHub webhooks, from the Secrets Manager secret {secret}",
                "secret": f"${{json:webhook_secret:${{{secret}}}}}"}})
            document["unclassified"]["githubpluginconfig"] = {
                "hookSecretConfigs": [{"credentialsId": WEBHOOK_CREDENTIALS}]}
        document["credentials"] = {"system": {"domainCredentials": [
            {"credentials": credentials}]}}
    if cfg.jenkins.jobs:
        document["jobs"] = [{"script": "\n".join(_job_dsl(cfg, job) for job in cfg.jenkins.jobs)}]
    return document


def render_yaml(cfg: Config, infra: JenkinsInfra) -> str:
    """The JCasC document as the YAML file baked into the controller image."""
    header = (f"# Jenkins configuration as code for dockyard {cfg.name}, generated from "
              "dockyard.yml.\n# Changes made in the Jenkins UI are replaced at every restart; "
              "edit dockyard.yml.\n")
    return header + yaml.dump(render(cfg, infra), Dumper=_Dumper, sort_keys=False, width=100)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the Job DSL scripts) as literal blocks, readable as written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _jenkins(cfg: Config, infra: JenkinsInfra) -> dict[str, Any]:
    return {
        "systemMessage": f"Managed by dockyard ({cfg.name}). Configuration comes from "
                         "dockyard.yml; changes made here are replaced at the next restart.",
        "numExecutors": 0,
        "mode": "EXCLUSIVE",
        # Agents connect over WebSocket, through the HTTP port; no TCP agent port is open.
        "slaveAgentPort": -1,
        "markupFormatter": "plainText",
        "disableRememberMe": False,
        "securityRealm": {"local": {"allowsSignup": False, "users": [
            {"id": "admin", "name": "Administrator",
             "password": f"${{{admin_secret_name(cfg.name)}}}"}]}},
        "authorizationStrategy": {"globalMatrix": {"entries": [
            {"user": {"name": "admin", "permissions": ["Overall/Administer"]}},
            {"group": {"name": "authenticated",
                       "permissions": ["Overall/Read", "Job/Read", "Job/Build"]}}]}},
        # Behind the load balancer the client address a crumb is bound to can change.
        "crumbIssuer": {"standard": {"excludeClientIPFromCrumb": True}},
        "clouds": [{"ecs": _cloud(cfg, infra)}],
    }


def _cloud(cfg: Config, infra: JenkinsInfra) -> dict[str, Any]:
    agents = cfg.jenkins.agents
    strategy = ([{"provider": "FARGATE_SPOT", "weight": 3, "base": 0},
                 {"provider": "FARGATE", "weight": 1, "base": 0}] if agents.spot
                else [{"provider": "FARGATE", "weight": 1, "base": 0}])
    return {
        "name": CLOUD_NAME,
        "cluster": infra.cluster_arn,
        "regionName": cfg.region,
        "credentialsId": "",  # the controller's task role
        "jenkinsUrl": controller_internal_url(cfg.name),
        "retentionTimeout": 5,
        "slaveTimeoutInSeconds": 900,
        "maxAgents": agents.max_agents,
        "numExecutors": 1,
        "allowedOverrides": "inheritFrom,label,cpu,memory",
        "templates": [{
            "templateName": AGENT_LABEL,
            "label": AGENT_LABEL,
            "image": infra.agent_image,
            "capacityProviderStrategies": strategy,
            "platformVersion": "LATEST",
            "operatingSystemFamily": "LINUX",
            "cpuArchitecture": ARCH_TO_CPU[cfg.jenkins.architecture],
            "networkMode": "awsvpc",
            "subnets": ",".join(infra.subnets),
            "securityGroups": infra.security_group,
            "assignPublicIp": infra.assign_public_ip,
            "cpu": agents.cpu,
            "memory": agents.memory,
            "memoryReservation": 0,
            "ephemeralStorageSizeInGiB": agents.storage_gib,
            "executionRole": infra.execution_role_arn,
            "taskrole": infra.task_role_arn,
            "remoteFSRoot": "/home/jenkins",
            "logDriver": "awslogs",
            "logDriverOptions": [
                {"name": "awslogs-group", "value": infra.log_group},
                {"name": "awslogs-region", "value": cfg.region},
                {"name": "awslogs-stream-prefix", "value": "agent"}],
            "environments": [{"name": WEBSOCKET_ENV, "value": "true"}],
        }],
    }


# What the GitHub branch source discovers, by the github-branch-source plugin's @Symbol names
# (BranchDiscoveryTrait, OriginPullRequestDiscoveryTrait, ForkPullRequestDiscoveryTrait and its
# trust policies). A GitHubSCMSource starts with no traits, and without them it discovers
# nothing: no branch, no pull request, no pipeline ever runs.
# - branches: strategy 1, branches that are not also filed as pull requests (those are built as
#   pull requests instead);
# - pull requests from the repository itself and from forks: strategy 1, the pull request merged
#   with its target branch, as it would land;
# - forks: gitHubTrustPermissions, so only a pull request from someone with write or admin
#   permission on the repository runs its own Jenkinsfile; anyone else's is built with the
#   target branch's Jenkinsfile, so a stranger cannot run code with the platform's credentials.
DISCOVERY_TRAITS = (
    "gitHubBranchDiscovery { strategyId(1) }",
    "gitHubPullRequestDiscovery { strategyId(1) }",
    "gitHubForkDiscovery {\n    strategyId(1)\n    trust { gitHubTrustPermissions() }\n}",
)
# GitHub's push and pull request webhooks (the github plugin's /github-webhook/, signed with the
# webhook secret) start scans as things happen; a daily scan catches a webhook that was missed.
SCAN_INTERVAL = "1d"


def _job_dsl(cfg: Config, job: JenkinsJob) -> str:
    owner, repository = job.repository.split("/", 1)
    credentials = "                    credentialsId('github')\n" if cfg.jenkins.github else ""
    traits = "".join(f"{' ' * 24}{line}\n" for trait in DISCOVERY_TRAITS
                     for line in trait.splitlines())
    return (
        f"multibranchPipelineJob('{job.name}') {{\n"
        f"    description('{job.repository}, built and deployed by dockyard')\n"
        "    branchSources {\n"
        "        branchSource {\n"
        "            source {\n"
        "                github {\n"
        f"                    id('dockyard-{job.name}')\n"
        f"                    repoOwner('{owner}')\n"
        f"                    repository('{repository}')\n"
        f"                    repositoryUrl('https://github.com/{job.repository}')\n"
        "                    configuredByUrl(false)\n"
        f"{credentials}"
        "                    traits {\n"
        f"{traits}"
        "                    }\n"
        "                }\n"
        "            }\n"
        "        }\n"
        "    }\n"
        "    triggers {\n"
        "        periodicFolderTrigger {\n"
        f"            interval('{SCAN_INTERVAL}')\n"
        "        }\n"
        "    }\n"
        "    factory {\n"
        "        workflowBranchProjectFactory {\n"
        f"            scriptPath('{job.jenkinsfile}')\n"
        "        }\n"
        "    }\n"
        "    orphanedItemStrategy {\n"
        "        discardOldItems {\n"
        "            numToKeep(20)\n"
        "        }\n"
        "    }\n"
        "}\n")
