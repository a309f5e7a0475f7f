"""The JCasC rendered for the example, walked as a tree: every required key with its value,
none of the keys that break current LTS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dockyard.jenkins.casc import render, render_yaml
from tests.conftest import example_config


@pytest.fixture(scope="module")
def casc() -> dict[str, Any]:
    document = yaml.safe_load(render_yaml(example_config()))
    assert isinstance(document, dict)
    return document


def keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys(item)


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def test_no_key_that_breaks_current_lts(casc: dict[str, Any]) -> None:
    present = set(keys(casc))
    assert present.isdisjoint({"agentProtocols", "remotingSecurity", "grantedPermissions"})
    # matrix-auth's flat list is deprecated too; permissions live inside each entry
    assert "permissions" not in casc["jenkins"]["authorizationStrategy"]["projectMatrix"]


def test_the_controller_runs_nothing_itself_and_opens_no_agent_port(casc: dict[str, Any]) -> None:
    jenkins = casc["jenkins"]
    assert jenkins["numExecutors"] == 0
    assert jenkins["mode"] == "EXCLUSIVE"
    assert jenkins["slaveAgentPort"] == -1
    assert jenkins["crumbIssuer"] == {"standard": {"excludeClientIPFromCrumb": True}}


def test_location_is_the_public_url_with_a_trailing_slash(casc: dict[str, Any]) -> None:
    assert casc["unclassified"]["location"]["url"] == "https://jenkins.example.com/"


def test_local_realm_without_signup_and_the_password_from_secrets_manager(
        casc: dict[str, Any]) -> None:
    realm = casc["jenkins"]["securityRealm"]["local"]
    assert realm["allowsSignup"] is False
    admin, agents, trusted, builds = realm["users"]
    assert builds["id"] == "builds" and builds["password"].startswith("#jbcrypt:")
    assert admin["id"] == "admin"
    assert admin["password"] == "${acme-jenkins-admin}"
    assert agents["id"] == "agents"
    assert agents["password"] == "${acme-jenkins-agents}"
    assert trusted["id"] == "agents-trusted"
    assert trusted["password"] == "${acme-jenkins-agents-trusted}"
    references = {m for s in strings(casc) for m in re.findall(r"(?<!\^)\$\{([^:{}]+)\}", s)}
    assert references == {"acme-jenkins-admin", "acme-jenkins-agents",
                          "acme-jenkins-agents-trusted", "acme/github"}, \
        "only Secrets Manager names (^${...} is escaped: the oidc-provider plugin reads it)"


def test_matrix_authorization_with_entries(casc: dict[str, Any]) -> None:
    entries = casc["jenkins"]["authorizationStrategy"]["projectMatrix"]["entries"]
    assert {"user": {"name": "admin", "permissions": ["Overall/Administer"]}} in entries
    assert len(entries) == 4
    assert not [e for e in entries if "group" in e], \
        "a group grant (authenticated) would reach the agents' users: they sign in too"
    for entry in entries:
        if entry["user"]["name"] == "builds":
            assert [p for p in entry["user"]["permissions"] if p.startswith("Job/")] == [
                "Job/Read"], "a build reads its own record (currentBuild), starts no job"
        elif entry["user"]["name"] != "admin":
            assert not [p for p in entry["user"]["permissions"] if p.startswith("Job/")], \
                "an agent pool's password starts no job"


def test_agents_join_as_users_with_exactly_what_the_swarm_plugin_checks(
        casc: dict[str, Any]) -> None:
    """The swarm plugin (docs/security.adoc; PluginImpl.doCreateSlave checks Computer.CREATE
    and CONNECT) needs Overall/Read, Agent/Create, Agent/Connect, and Agent/Configure only
    under the global matrix: under the project matrix, matrix-auth's node listener grants a
    node's creator Configure on that node alone. So neither pool's user can relabel the other
    pool's agents."""
    entries = casc["jenkins"]["authorizationStrategy"]["projectMatrix"]["entries"]
    for name in ("agents", "agents-trusted"):
        (user,) = [e["user"] for e in entries if e.get("user", {}).get("name") == name]
        assert user["permissions"] == ["Overall/Read", "Agent/Create", "Agent/Connect"]


def test_every_build_runs_as_a_user_that_may_take_an_agent_and_the_jobs_credentials_only(
        casc: dict[str, Any]) -> None:
    """authorize-project's global strategy, by the names of its ConfigurationAsCodeTest: each
    build runs as ``builds``, never as SYSTEM. That user holds exactly what a build needs
    (Agent/Build: Node.canTake checks the build's authentication; Credentials/UseItem:
    CredentialsProvider.findCredentialById gives a non-SYSTEM build the jobs' credentials only
    with it; Job/Read: currentBuild finds the build's own record through
    Jenkins.getItemByFullName, and Declarative reads it before every stage) and not Job/Build,
    so `build job: 'web/main'` in a pull request's Jenkinsfile is refused rather than starting
    a deploy."""
    (authenticator,) = casc["security"]["queueItemAuthenticator"]["authenticators"]
    assert authenticator == {"global": {"strategy": {
        "specificUsersAuthorizationStrategy": {"userid": "builds"}}}}
    entries = casc["jenkins"]["authorizationStrategy"]["projectMatrix"]["entries"]
    (builds,) = [e["user"] for e in entries if e["user"]["name"] == "builds"]
    assert builds["permissions"] == ["Overall/Read", "Job/Read", "Agent/Build",
                                     "Credentials/UseItem"]
    users = {u["id"]: u for u in casc["jenkins"]["securityRealm"]["local"]["users"]}
    assert "builds" in users, "impersonating a user the realm does not know gives anonymous"


def test_no_one_can_sign_in_as_the_build_user() -> None:
    """Its password is a jBCrypt hash Jenkins accepts (HudsonPrivateSecurityRealm:
    "#jbcrypt:" then ^\\$2a\\$NN\\$.{53}$, NN <= 18) that no password has: a bcrypt digest
    is 23 bytes in 31 characters, the last carrying 4 bits, so its index in bcrypt's alphabet
    is a multiple of 4; '/' is index 1."""

    from dockyard.jenkins.casc import NO_PASSWORD

    header, hashed = NO_PASSWORD[:9], NO_PASSWORD[9:]
    assert header == "#jbcrypt:"
    found = re.fullmatch(r"\$2a\$(\d{2})\$(.{22})(.{31})", hashed)
    assert found and 0 < int(found[1]) <= 18
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    assert set(found[2] + found[3]) <= set(alphabet)
    assert alphabet.index(found[3][-1]) % 4 != 0, "a digest bcrypt could produce"
    assert "${" not in NO_PASSWORD, "JCasC would read it as a secret reference"


def test_no_remember_me_cookie_outlives_a_realm_switch(casc: dict[str, Any]) -> None:
    """A remember-me cookie is signed with the user's seed, kept in JENKINS_HOME: a GitHub
    account named like a local user would come back as it after the way back in."""
    from tests.conftest import GITHUB_SIGN_IN

    assert casc["jenkins"]["disableRememberMe"] is True
    assert render(example_config(GITHUB_SIGN_IN))["jenkins"]["disableRememberMe"] is True


def test_under_github_sign_in_basic_passwords_are_ignored_api_tokens_are_not() -> None:
    """github-oauth's realm takes a Basic password for a GitHub token and keeps it on the user
    record the header names; with jenkins.security.ignoreBasicAuth only API tokens (the
    agents') are checked in a Basic header. Under the local realm the agents need it."""
    from dockyard.templates.jenkins import IGNORE_BASIC_AUTH, java_opts
    from tests.conftest import GITHUB_SIGN_IN

    assert IGNORE_BASIC_AUTH in java_opts(example_config(GITHUB_SIGN_IN)).split()
    assert IGNORE_BASIC_AUTH not in java_opts(example_config()).split()


def test_the_controller_enables_credentials_use_item_where_it_boots_and_where_it_runs() -> None:
    """Credentials/UseItem is disabled without its property, and a disabled permission counts
    only through Job/Configure (matrix-auth): the task definition and the image's boot check
    both start Jenkins with it."""

    from dockyard.jenkins.casc import USE_ITEM_PROPERTY
    from dockyard.templates.jenkins import JAVA_OPTS

    dockerfile = (Path(__file__).resolve().parents[2] / "src" / "dockyard" / "jenkins" /
                  "controller" / "Dockerfile").read_text()
    (image,) = re.findall(r'^ENV JAVA_OPTS="([^"]*)"', dockerfile, re.MULTILINE)
    assert USE_ITEM_PROPERTY in JAVA_OPTS.split() and USE_ITEM_PROPERTY in image.split()
    assert {o for o in image.split() if o.startswith("-D")} == \
        {o for o in JAVA_OPTS.split() if o.startswith("-D")}, "the same properties"


def test_people_sign_in_with_github_and_get_rights_by_team() -> None:
    """github-oauth's realm (GithubSecurityRealm's constructor names); admins' and developers'
    teams as matrix groups ("organization*team", as the plugin surfaces team memberships)."""
    from dockyard.jenkins.casc import GITHUB_API, GITHUB_WEB, OAUTH_SCOPES
    from tests.conftest import GITHUB_SIGN_IN

    casc = render(example_config(GITHUB_SIGN_IN))
    realm = casc["jenkins"]["securityRealm"]
    assert realm == {"github": {
        "githubWebUri": GITHUB_WEB, "githubApiUri": GITHUB_API, "clientID": "Ov23liExample",
        "clientSecret": "${acme/jenkins-oauth}", "oauthScopes": OAUTH_SCOPES}}
    assert "read:org" in OAUTH_SCOPES.split(","), "team memberships become groups only with it"
    entries = casc["jenkins"]["authorizationStrategy"]["projectMatrix"]["entries"]
    groups = {e["group"]["name"]: e["group"]["permissions"] for e in entries if "group" in e}
    assert groups == {
        "example-org*platform": ["Overall/Administer"],
        "example-org*web-developers": ["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel",
                                       "View/Read"]}
    assert not [e for e in entries if e.get("user", {}).get("name") == "admin"], \
        "no shared admin account"
    assert not [e for e in entries if e.get("group", {}).get("name") == "authenticated"], \
        "every GitHub account signs in: 'authenticated' would be all of them"


def test_developers_cannot_replay_or_configure() -> None:
    """Run/Replay runs edited pipeline code: a replayed deploy-branch build would be a trusted
    build of code no one merged. Job/Configure would change what a job builds."""
    from dockyard.jenkins.casc import DEVELOPER_PERMISSIONS

    assert not {"Run/Replay", "Job/Configure", "Job/Create", "Job/Delete",
                "Credentials/View", "Agent/Create", "Agent/Connect"} & set(DEVELOPER_PERMISSIONS)


def test_under_github_sign_in_the_users_that_are_not_people_have_no_github_login() -> None:
    """A Jenkins user is whoever has that GitHub login; a dot is in none (letters, digits and
    hyphens; managed users add _<shortcode>), so no GitHub account is an agent pool's user."""
    from tests.conftest import GITHUB_SIGN_IN

    casc = render(example_config(GITHUB_SIGN_IN))
    entries = casc["jenkins"]["authorizationStrategy"]["projectMatrix"]["entries"]
    named = {e["user"]["name"]: e["user"]["permissions"] for e in entries if "user" in e}
    assert named == {"dockyard.agents": ["Overall/Read", "Agent/Create", "Agent/Connect"],
                     "dockyard.agents-trusted": ["Overall/Read", "Agent/Create",
                                                 "Agent/Connect"],
                     "dockyard.builds": ["Overall/Read", "Job/Read", "Agent/Build",
                                         "Credentials/UseItem"]}
    login = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(_[a-z0-9]+)?$")
    assert not [name for name in named if login.match(name)]
    (authenticator,) = casc["security"]["queueItemAuthenticator"]["authenticators"]
    assert authenticator["global"]["strategy"]["specificUsersAuthorizationStrategy"] == {
        "userid": "dockyard.builds"}


def test_each_build_gets_an_id_token_naming_its_job_and_branch(casc: dict[str, Any]) -> None:
    """The oidc-provider plugin's idToken credential (audience sts.amazonaws.com) and claim
    templates: sub is the build's JOB_NAME (^ keeps JCasC from expanding it), tokens live five
    minutes."""
    credentials = casc["credentials"]["system"]["domainCredentials"][0]["credentials"]
    (token,) = [c["idToken"] for c in credentials if "idToken" in c]
    assert token == {"scope": "GLOBAL", "id": "dockyard-aws", "audience": "sts.amazonaws.com",
                     "description": token["description"]}
    settings = casc["security"]["idToken"]
    assert settings["tokenLifetime"] == 300
    assert settings["buildClaimTemplates"] == [
        {"name": "sub", "format": "^${JOB_NAME}", "type": "string"},
        {"name": "build_number", "format": "^${BUILD_NUMBER}", "type": "integer"}]
    assert "claimTemplates" not in settings, "no claim for every token, outside builds too"


def test_the_controller_starts_no_agents(casc: dict[str, Any]) -> None:
    """No cloud (the amazon-ecs plugin is gone): agents are an ECS service that joins."""
    assert "clouds" not in casc["jenkins"]
    assert not any("ecs" in key.lower() for key in keys(casc))


def test_github_credentials_come_from_the_named_secret(casc: dict[str, Any]) -> None:
    """With ``app_id`` (the example's), Jenkins holds the App's key, not a person's token: the
    credential a build can bind is narrowed to its repository and to reading contents
    (github-branch-source GitHubAppCredentials.forRun); scans and commit statuses keep the
    installation's rights."""
    _, login, hook = casc["credentials"]["system"]["domainCredentials"][0]["credentials"]
    assert list(login) == ["gitHubApp"]
    app = login["gitHubApp"]
    assert app["appID"] == "123456" and app["id"] == "github" and app["scope"] == "GLOBAL"
    assert app["privateKey"] == "${json:private_key:${acme/github}}"
    assert app["repositoryAccessStrategy"] == "inferRepository"
    assert app["defaultPermissionsStrategy"] == "CONTENTS_READ"
    assert not any(k in app for k in ("owner", "username", "password")), \
        "owner would migrate it to 'specified repositories' (GitHubAppCredentials.setOwner)"
    assert hook["string"]["secret"] == "${json:webhook_secret:${acme/github}}"
    assert hook["string"]["scope"] == "SYSTEM", "no Jenkinsfile can bind the webhook secret"
    assert casc["unclassified"]["githubpluginconfig"] == {
        "hookSecretConfigs": [{"credentialsId": hook["string"]["id"]}]}, \
        "webhooks are accepted only with GitHub's signature"
    assert "credentialsId('github')" in casc["jobs"][0]["script"]


def test_without_an_app_a_personal_token_is_the_login() -> None:
    from dockyard.config import parse_config
    from tests.conftest import example_text

    cfg = parse_config(example_text(('    app_id: "123456"', "")), "dockyard.yml")
    _, login, _ = render(cfg)["credentials"]["system"]["domainCredentials"][0]["credentials"]
    login = login["usernamePassword"]
    assert login["id"] == "github" and login["scope"] == "GLOBAL"
    assert login["password"] == "${json:token:${acme/github}}"
    assert login["username"] == "${json:username:${acme/github}}"


@pytest.mark.parametrize("value", ["0", "12ab", "", "1234567890123"])
def test_an_app_id_is_a_number(value: str) -> None:
    from dockyard.config import parse_config
    from dockyard.errors import ConfigError
    from tests.conftest import example_text

    with pytest.raises(ConfigError) as raised:
        parse_config(example_text(('app_id: "123456"', f"app_id: '{value}'")), "dockyard.yml")
    assert "jenkins.github.app_id" in raised.value.problems[0]
    assert "a GitHub App's ID" in raised.value.problems[0]


def test_unsigned_webhooks_only_when_asked() -> None:
    from dockyard.config import parse_config
    from tests.conftest import example_text

    cfg = parse_config(example_text(("    credentials_secret: acme/github",
                                     "    webhook_secret: false\n"
                                     "    credentials_secret: acme/github")), "dockyard.yml")
    document = render(cfg)
    _, login = document["credentials"]["system"]["domainCredentials"][0]["credentials"]
    assert "gitHubApp" in login
    assert "githubpluginconfig" not in document["unclassified"]


def test_one_multibranch_job_per_entry_and_a_build_discarder(casc: dict[str, Any]) -> None:
    (jobs,) = casc["jobs"]
    script = jobs["script"]
    assert script.count("multibranchPipelineJob(") == 1
    assert "multibranchPipelineJob('web')" in script
    assert "repoOwner('example-org')" in script and "repository('web')" in script
    assert "credentialsId('github')" in script
    assert "scriptPath('Jenkinsfile')" in script
    assert "${" not in script, "JCasC would read it as a secret reference"
    discarders = casc["unclassified"]["buildDiscarders"]["configuredBuildDiscarders"]
    rotator = discarders[1]["simpleBuildDiscarder"]["discarder"]["logRotator"]
    assert rotator == {"numToKeepStr": "30", "daysToKeepStr": "14"}
    assert casc["security"]["globalJobDslSecurityConfiguration"]["useScriptSecurity"] is True


def test_two_jobs_and_no_github_credentials() -> None:
    text = ("name: shop\nregion: eu-west-1\nedge: {domain: shop.dev, allowed_cidrs: [0.0.0.0/0]}\n"
            "jenkins:\n  jobs:\n    - {name: api, repository: org/api}\n"
            "    - {name: web, repository: org/web, jenkinsfile: ci/Jenkinsfile}\n")
    from dockyard.config import parse_config

    document = render(parse_config(text, "dockyard.yml"))
    script = document["jobs"][0]["script"]
    assert script.count("multibranchPipelineJob(") == 2
    assert "scriptPath('ci/Jenkinsfile')" in script
    assert "credentialsId" not in script
    (only,) = document["credentials"]["system"]["domainCredentials"][0]["credentials"]
    assert list(only) == ["idToken"], "no GitHub credentials, the builds' id token only"


# The github-branch-source plugin's @Symbol names (its source at the version plugins.txt pins:
# BranchDiscoveryTrait, OriginPullRequestDiscoveryTrait, ForkPullRequestDiscoveryTrait and its
# trust policies) with the strategy ids each constructor takes: 1 merge (or, for branches,
# "not filed as a pull request"), 2 head, 3 both.
GITHUB_TRAITS = {"gitHubBranchDiscovery": {1, 2, 3}, "gitHubPullRequestDiscovery": {1, 2, 3},
                 "gitHubForkDiscovery": {1, 2, 3}}
FORK_TRUST = {"gitHubTrustNobody", "gitHubTrustContributors", "gitHubTrustPermissions",
              "gitHubTrustEveryone"}


def _traits_block(script: str) -> str:
    start = script.index("traits {")
    depth, index = 0, start
    while True:
        depth += {"{": 1, "}": -1}.get(script[index], 0)
        index += 1
        if depth == 0 and script[index - 1] == "}":
            return script[start + len("traits {"):index - 1]


def test_the_github_source_discovers_branches_and_pull_requests(casc: dict[str, Any]) -> None:
    """Without discovery traits a GitHubSCMSource finds no branch and no pipeline ever runs."""
    script = casc["jobs"][0]["script"]
    block = _traits_block(script)
    used = re.findall(r"\b(gitHub\w+)\s*(?=[{(])", block)
    assert set(used) <= set(GITHUB_TRAITS) | FORK_TRUST, set(used) - set(GITHUB_TRAITS)
    assert [u for u in used if u in GITHUB_TRAITS] == ["gitHubBranchDiscovery",
                                                       "gitHubPullRequestDiscovery"], \
        "each trait once; pull requests from forks only where the job opts in"
    for trait, allowed in GITHUB_TRAITS.items():
        if trait not in block:
            continue
        body = block[block.index(trait):]
        strategy = int(re.search(r"strategyId\((\d+)\)", body)[1])  # type: ignore[index]
        assert strategy in allowed, (trait, strategy)
    assert not [u for u in used if u in FORK_TRUST]
    # Webhooks start scans; a daily scan catches a missed one (cloudbees-folder's
    # PeriodicFolderTrigger takes one of its listed intervals, such as 1d).
    assert "periodicFolderTrigger {\n            interval('1d')" in script


def test_the_job_dsl_script_is_groovy(casc: dict[str, Any], tmp_path: Path) -> None:
    from tests.pipeline.groovy import compile_check

    source = tmp_path / "jobs.groovy"
    source.write_text(casc["jobs"][0]["script"])
    done = compile_check(source, tmp_path)
    assert done.returncode == 0, done.stderr


def test_fork_pull_requests_are_built_only_where_a_job_opts_in() -> None:
    """jobs[].fork_pull_requests: off by default; when on, a fork's own Jenkinsfile runs only
    for people with write access (gitHubTrustPermissions), and its build is untrusted either
    way (its token names PR-<n>, which no deploying role trusts)."""
    from dockyard.config import parse_config

    text = ("name: shop\nregion: eu-west-1\nedge: {domain: shop.dev, allowed_cidrs: [0.0.0.0/0]}\n"
            "jenkins:\n  jobs:\n    - {name: api, repository: org/api, fork_pull_requests: true}\n"
            "    - {name: web, repository: org/web}\n")
    script = render(parse_config(text, "dockyard.yml"))["jobs"][0]["script"]
    api, web = script.split("multibranchPipelineJob(")[1:]
    assert "gitHubForkDiscovery" in api and "gitHubTrustPermissions()" in api
    assert "gitHubForkDiscovery" not in web
