"""Jenkins configuration as code, rendered from dockyard.yml and the platform's stacks.

Checked against the plugins' own documentation (each plugin's README and the
@DataBoundSetter names in its source):
matrix-auth ``entries`` (not ``grantedPermissions``), no ``agentProtocols`` or
``remotingSecurity`` (they break or warn on current LTS), the admin password as
``${<secret name>}`` resolved by the aws-secrets-manager-secret-source plugin.

Agents are not started by the controller (no cloud, no amazon-ecs plugin): they are two ECS
services of swarm clients that join it over WebSocket (templates/jenkins.py), one per trust
tier. The controller knows them as the local users ``agents`` and ``agents-trusted``, whose
passwords are their pools' Secrets Manager secrets, with exactly the permissions the swarm
plugin checks (docs/security.adoc and ``PluginImpl``: Overall/Read, Agent/Create,
Agent/Connect; Agent/Configure is not needed under the project matrix, whose node listener
grants each node's creator Configure on that node alone). Which pool a node belongs to is
decided by the user that created it (dockyard-trust.groovy), never by its labels.

Each build gets short-lived AWS credentials from an OpenID Connect id token the controller
signs for it (the oidc-provider plugin: the ``idToken`` credential and the ``security.idToken``
claim templates, by their @Symbol and @DataBoundSetter names at 206.v0a_5b_09149886). The
``sub`` claim is the build's ``JOB_NAME``, which the plugin computes on the controller from the
build record (``IdTokenCredentials.getEnvironment``, "prevents overrides"): no Jenkinsfile can
change it. ``^${...}`` keeps JCasC from expanding the template itself.
"""

from __future__ import annotations

from typing import Any

import yaml

from dockyard import trust
from dockyard.config.models import Config, GitHub, JenkinsJob
from dockyard.names import admin_secret_name, agent_secret_name, jenkins_users

AGENT_LABEL = "dockyard"
# What a swarm client's user needs (swarm plugin: docs/security.adoc, PluginImpl's checks).
AGENT_PERMISSIONS = ["Overall/Read", "Agent/Create", "Agent/Connect"]

# Every build runs as one user (names.jenkins_users: ``builds``), whoever or whatever started
# it (authorize-project's global "Run as Specific User"), never as SYSTEM. What a build needs:
# - Agent/Build: Jenkins core checks it on the build's authentication once builds are
#   authorized (Node.canTake);
# - Credentials/UseItem: a non-SYSTEM build finds the credentials Jenkins offers every job
#   (the GitHub checkout credential, the id token) only with it (credentials plugin,
#   CredentialsProvider.findCredentialById); the SYSTEM-scoped webhook secret stays out;
# - Job/Read: Pipeline's `currentBuild` finds the build's own record through
#   Jenkins.getItemByFullName, which hides a job its caller may not read (workflow-support
#   RunWrapper.build), and Declarative reads currentBuild.result before every stage.
# Not Job/Build: a Jenkinsfile's `build job: 'web/main'` (pipeline-build-step,
# BuildTriggerStepExecution: item.checkPermission(Item.BUILD)) is refused, where as SYSTEM a
# pull request's build could start a deploy branch's.
BUILD_PERMISSIONS = ["Overall/Read", "Job/Read", "Agent/Build", "Credentials/UseItem"]
# Credentials/UseItem is off unless this property is set; a disabled permission counts only
# through what implies it (matrix-auth, AuthorizationContainer.hasPermission), Job/Configure.
USE_ITEM_PROPERTY = "-Dcom.cloudbees.plugins.credentials.UseItemPermission=true"
# The build user must exist in the security realm to be impersonated (User.impersonate2; an
# unknown user falls back to anonymous), yet no one may sign in as it. Its password is a
# jBCrypt hash (HudsonPrivateSecurityRealm takes "#jbcrypt:$2a$NN$" and 53 characters) that no
# password has: bcrypt's 31-character digest ends in a character whose two low bits are zero
# ('.', 'C', 'G', ...), and this one ends in '/'. (Under GitHub sign-in there is no local realm:
# dockyard-users.groovy makes the user's record, which Jenkins impersonates as itself.)
NO_PASSWORD = "#jbcrypt:$2a$10$" + "dockyardbuildsnosignin" + "NoPasswordEverHashesToThisOne./"

GITHUB_CREDENTIALS = "github"
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


def render(cfg: Config) -> dict[str, Any]:
    """The JCasC document for ``cfg``."""
    document: dict[str, Any] = {
        "jenkins": _jenkins(cfg),
        "security": {"globalJobDslSecurityConfiguration": {"useScriptSecurity": True},
                     "idToken": _id_tokens(),
                     # authorize-project, by the names its ConfigurationAsCodeTest reads
                     "queueItemAuthenticator": {"authenticators": [{"global": {"strategy": {
                         "specificUsersAuthorizationStrategy": {
                             "userid": jenkins_users(cfg).builds}}}}]}},
        "unclassified": {
            "location": {"url": cfg.url(cfg.jenkins.host)},
            "buildDiscarders": {"configuredBuildDiscarders": [
                "jobBuildDiscarder",
                {"simpleBuildDiscarder": {"discarder": {"logRotator": {
                    "numToKeepStr": "30", "daysToKeepStr": "14"}}}}]},
            "globalLibraries": {"libraries": [LIBRARY]},
        },
    }
    credentials: list[dict[str, Any]] = [{"idToken": {
        "scope": "GLOBAL", "id": trust.ID_TOKEN_CREDENTIALS, "audience": trust.AUDIENCE,
        "description": "dockyard: each build's AWS identity (exchanged with AWS STS)"}}]
    if cfg.jenkins.github:
        github = cfg.jenkins.github
        secret = github.credentials_secret
        credentials.append(_github_login(github))
        if github.webhook_secret:
            # SYSTEM: only Jenkins itself sees it (the github plugin checks each hook's
            # signature with it, looking it up as the system); no Jenkinsfile can bind it.
            credentials.append({"string": {
                "scope": "SYSTEM", "id": WEBHOOK_CREDENTIALS,
                "description": f"Signs GitHub webhooks, from the Secrets Manager secret {secret}",
                "secret": f"${{json:webhook_secret:${{{secret}}}}}"}})
            document["unclassified"]["githubpluginconfig"] = {
                "hookSecretConfigs": [{"credentialsId": WEBHOOK_CREDENTIALS}]}
    document["credentials"] = {"system": {"domainCredentials": [{"credentials": credentials}]}}
    if cfg.jenkins.jobs:
        document["jobs"] = [{"script": "\n".join(_job_dsl(cfg, job) for job in cfg.jenkins.jobs)}]
    return document


def _github_login(github: GitHub) -> dict[str, Any]:
    """How Jenkins reads GitHub: as the GitHub App, else with the personal access token.

    The App's credential (github-branch-source's ``gitHubApp``, by the @DataBoundConstructor
    and @DataBoundSetter names of GitHubAppCredentials) asks GitHub for installation tokens
    that last an hour. Scans and commit statuses use the installation's own permissions; a
    build that binds the credential (``checkout scm``, ``withCredentials``) receives a token
    narrowed by ``forRun`` to the build's own repository (``inferRepository``) and to reading
    its contents (``CONTENTS_READ``): what a Jenkinsfile can read of it grants no more than
    reading the repository it came from. A personal access token cannot be narrowed: any
    Jenkinsfile may bind it and read whatever its owner gave it.
    """
    secret = github.credentials_secret
    if github.app_id:
        return {"gitHubApp": {
            "scope": "GLOBAL", "id": GITHUB_CREDENTIALS,
            "description": f"GitHub App {github.app_id}, its key from the Secrets Manager "
                           f"secret {secret}",
            "appID": github.app_id,
            "privateKey": f"${{json:private_key:${{{secret}}}}}",
            "repositoryAccessStrategy": "inferRepository",
            "defaultPermissionsStrategy": "CONTENTS_READ"}}
    return {"usernamePassword": {
        "scope": "GLOBAL", "id": GITHUB_CREDENTIALS,
        "description": f"GitHub, from the Secrets Manager secret {secret}",
        "username": f"${{json:username:${{{secret}}}}}",
        "password": f"${{json:token:${{{secret}}}}}"}}


def _id_tokens() -> dict[str, Any]:
    """The oidc-provider plugin's global configuration: short tokens whose ``sub`` names the
    build's job and branch (``web/main``, ``web/PR-12``)."""
    return {"tokenLifetime": trust.TOKEN_LIFETIME_SECONDS, "buildClaimTemplates": [
        {"name": "sub", "format": "^${JOB_NAME}", "type": "string"},
        {"name": "build_number", "format": "^${BUILD_NUMBER}", "type": "integer"}]}


def render_yaml(cfg: Config) -> str:
    """The JCasC document as the YAML file baked into the controller image."""
    header = (f"# Jenkins configuration as code for dockyard {cfg.name}, generated from "
              "dockyard.yml.\n# Changes made in the Jenkins UI are replaced at every restart; "
              "edit dockyard.yml.\n")
    return header + yaml.dump(render(cfg), Dumper=_Dumper, sort_keys=False, width=100)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the Job DSL scripts) as literal blocks, readable as written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _jenkins(cfg: Config) -> dict[str, Any]:
    return {
        "systemMessage": f"Managed by dockyard ({cfg.name}). Configuration comes from "
                         "dockyard.yml; changes made here are replaced at the next restart.",
        "numExecutors": 0,
        "mode": "EXCLUSIVE",
        # Agents join over WebSocket, through the HTTP port; no TCP agent port is open.
        "slaveAgentPort": -1,
        "markupFormatter": "plainText",
        # No remember-me cookie: one outlives a realm switch (it is signed with the user's
        # seed, kept in JENKINS_HOME), so a GitHub account that shared a name with a local
        # user could come back as it after the way back in (README, "People sign in").
        "disableRememberMe": True,
        "securityRealm": _realm(cfg),
        "authorizationStrategy": {"projectMatrix": {"entries": _entries(cfg)}},
        # Behind the load balancer the client address a crumb is bound to can change.
        "crumbIssuer": {"standard": {"excludeClientIPFromCrumb": True}},
    }


# What developers may do: see jobs and builds, start and stop them. Not Job/Configure, and not
# Run/Replay, which runs edited pipeline code: a replayed deploy-branch build would be a
# trusted build of code no one merged.
DEVELOPER_PERMISSIONS = ["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel", "View/Read"]
# The github-oauth plugin's realm (GithubSecurityRealm's @DataBoundConstructor; JCasC names a
# describable without @Symbol after its class less the "SecurityRealm" suffix). read:org lets
# it see team memberships, which become "organization*team" groups.
GITHUB_WEB = "https://github.com"
GITHUB_API = "https://api.github.com"
OAUTH_SCOPES = "read:org,user:email"


def _realm(cfg: Config) -> dict[str, Any]:
    """Who can sign in: people with GitHub, or the local admin; the agents' users either way
    (under GitHub sign-in, with API tokens dockyard-users.groovy makes)."""
    users = jenkins_users(cfg)
    github = cfg.jenkins.sign_in.github
    if github:
        return {"github": {"githubWebUri": GITHUB_WEB, "githubApiUri": GITHUB_API,
                           "clientID": github.client_id,
                           "clientSecret": f"${{{github.client_secret}}}",
                           "oauthScopes": OAUTH_SCOPES}}
    return {"local": {"allowsSignup": False, "users": [
        {"id": "admin", "name": "Administrator",
         "password": f"${{{admin_secret_name(cfg.name)}}}"},
        {"id": users.agents, "name": "Jenkins agents for untrusted builds",
         "password": f"${{{agent_secret_name(cfg.name)}}}"},
        {"id": users.trusted_agents, "name": "Jenkins agents for trusted builds",
         "password": f"${{{agent_secret_name(cfg.name, trusted=True)}}}"},
        {"id": users.builds, "name": "Every build (no one signs in as it)",
         "password": NO_PASSWORD}]}}


def _entries(cfg: Config) -> list[dict[str, Any]]:
    """The project matrix: admins administer, developers build; the agents' users only join;
    the builds' user takes agents and its job's credentials. No grant to "authenticated": the
    agents' users are signed in too, and would hold it (a pool's password would start any
    job, a deploy branch's included); under GitHub sign-in it would be every GitHub account."""
    users = jenkins_users(cfg)
    github = cfg.jenkins.sign_in.github
    people = [{"group": {"name": team, "permissions": ["Overall/Administer"]}}
              for team in github.admins] + \
             [{"group": {"name": team, "permissions": list(DEVELOPER_PERMISSIONS)}}
              for team in github.developers] if github else \
        [{"user": {"name": "admin", "permissions": ["Overall/Administer"]}}]
    return [*people,
            {"user": {"name": users.agents, "permissions": list(AGENT_PERMISSIONS)}},
            {"user": {"name": users.trusted_agents, "permissions": list(AGENT_PERMISSIONS)}},
            {"user": {"name": users.builds, "permissions": list(BUILD_PERMISSIONS)}}]


# What the GitHub branch source discovers, by the github-branch-source plugin's @Symbol names
# (BranchDiscoveryTrait, OriginPullRequestDiscoveryTrait, ForkPullRequestDiscoveryTrait and its
# trust policies). A GitHubSCMSource starts with no traits, and without them it discovers
# nothing: no branch, no pull request, no pipeline ever runs.
# - branches: strategy 1, branches that are not also filed as pull requests (those are built as
#   pull requests instead);
# - pull requests from the repository itself and from forks: strategy 1, the pull request merged
#   with its target branch, as it would land;
# - forks, only where the job opts in (jobs[].fork_pull_requests): gitHubTrustPermissions, so
#   only a pull request from someone with write or admin permission on the repository runs its
#   own Jenkinsfile; anyone else's is built with the target branch's Jenkinsfile. Either way its
#   code runs as an untrusted build: a pull request's token never gets a role that can deploy.
DISCOVERY_TRAITS = (
    "gitHubBranchDiscovery { strategyId(1) }",
    "gitHubPullRequestDiscovery { strategyId(1) }",
)
FORK_TRAIT = "gitHubForkDiscovery {\n    strategyId(1)\n    trust { gitHubTrustPermissions() }\n}"
# GitHub's push and pull request webhooks (the github plugin's /github-webhook/, signed with the
# webhook secret) start scans as things happen; a daily scan catches a webhook that was missed.
SCAN_INTERVAL = "1d"


def _job_dsl(cfg: Config, job: JenkinsJob) -> str:
    owner, repository = job.repository.split("/", 1)
    credentials = f"                    credentialsId('{GITHUB_CREDENTIALS}')\n" \
        if cfg.jenkins.github else ""
    chosen = (*DISCOVERY_TRAITS, *([FORK_TRAIT] if job.fork_pull_requests else []))
    traits = "".join(f"{' ' * 24}{line}\n" for trait in chosen for line in trait.splitlines())
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
