"""What a stranger's pull request, a pipeline of another app, and the code a build runs can
reach: each attack made as the identity that would make it, on the strict emulator (IAM
evaluated for every call, AWS STS verifying each token against Jenkins' issuer), refused, and
nothing in the account changed afterwards.

The identities, as a platform of two apps (web and api, each deployed by its own job) gives
them:
- an untrusted build (web's pull request 12): its id token exchanged for the untrusted role;
- web's trusted build (web/main): its token exchanged for web's role, attacking api;
- the code a Dockerfile's RUN step runs: kaniko's task role of the untrusted build, and of
  web's trusted build;
- the agents' task role: there is none (test below);
- a rogue agent holding the untrusted pool's password: tests/jenkins/test_trust_tiers.py.
The positive path (web's trusted build builds, migrates and deploys web, with credentials
that outlast its longest deploy) is in test_pipeline.py and below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from devtools import moto_server
from devtools.fake_kaniko import image_manifest
from devtools.strict.credentials import Session

from tests.e2e.conftest import ACCOUNT, REGION, Account
from tests.e2e.test_deploy import REGISTRY

CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/acme"
TWO_APPS = """
    - name: api
      repository: example-org/api
      jenkinsfile: Jenkinsfile
"""
API = """
  api:
    port: 5002
    host: api
    secrets:
      DATABASE_URL: acme/api/db
"""


def two_apps(certificate: str) -> str:
    """The example with a second app, api, deployed by a job of its own, and a secret each."""
    text = moto_server.example_config(certificate)
    text = text.replace("      jenkinsfile: Jenkinsfile\n",
                        "      jenkinsfile: Jenkinsfile\n" + TWO_APPS.lstrip("\n"), 1)
    text = text.replace("    secrets: {}", "    secrets:\n      DATABASE_URL: acme/web/db")
    return text.rstrip("\n") + "\n" + API


@dataclass
class Platform:
    """The deployed platform and the identities that attack it."""

    account: Account
    config: str
    folder: Path
    controller_task: str
    api_one_off: str
    jenkins_target_group: str
    web_sessions: dict[str, Session]

    def session(self, who: str) -> Session:
        """Credentials of ``who``: ``untrusted`` (web's PR 12), ``web`` (web/main),
        ``kaniko-untrusted`` or ``kaniko-web`` (what a RUN step reaches)."""
        if who not in self.web_sessions:
            if who.startswith("kaniko-"):
                role = f"arn:aws:iam::{ACCOUNT}:role/acme-{who}"
                self.web_sessions[who] = self.account.emulator.session(role)
            else:
                token = self.token("web", None if who == "untrusted" else "main",
                                   pull_request=12 if who == "untrusted" else None)
                role = self.account.pipeline_role(None if who == "untrusted" else who)
                self.web_sessions[who] = exchange(self.account, token, role)
        return self.web_sessions[who]

    def token(self, job: str, branch: str | None, pull_request: int | None = None) -> str:
        return self.account.issuer(self.config).token(job, branch, pull_request=pull_request)

    def client(self, service: str, who: str) -> Any:
        return self.account.emulator.client(service, self.session(who))


def exchange(account: Account, token: str, role: str) -> Session:
    """AssumeRoleWithWebIdentity, as dockyard's CLI makes it (unsigned)."""
    sts = account.emulator.client("sts")
    sts.meta.events.register("choose-signer.sts.*", lambda **_: UNSIGNED)
    answer = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="attack",
                                               WebIdentityToken=token, DurationSeconds=900)
    credentials = answer["Credentials"]
    found = account.emulator.sessions.find(credentials["AccessKeyId"])
    assert found is not None
    return found


@pytest.fixture()
def platform(account: Account, tmp_path: Path) -> Platform:
    """Stacks of both apps deployed by the operator, both apps running, a task standing for the
    Jenkins controller and its target group, and a one-off task of api's running."""
    config = two_apps(account.certificate)
    (tmp_path / "dockyard.yml").write_text(config)
    secrets = account.client("secretsmanager")
    for app in ("web", "api"):
        secrets.create_secret(Name=f"acme/{app}/db", SecretString=f"postgres://{app}:pw@db/{app}")
    operator = account.cli_env()
    done = subprocess.run([sys.executable, "-m", "dockyard", "up", "--yes", "--only", "builder",
                           "--only", "edge", "--only", "app-web", "--only", "app-api"],
                          cwd=tmp_path, env=operator, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for app in ("web", "api"):
        digest = account.client("ecr").put_image(
            repositoryName=f"acme/{app}", imageManifest=image_manifest(app),
            imageTag="v1")["image"]["imageId"]["imageDigest"]
        deployed = subprocess.run([sys.executable, "-m", "dockyard", "deploy", app, "--image",
                                   f"{REGISTRY}/acme/{app}@{digest}"], cwd=tmp_path,
                                  env=operator, capture_output=True, text=True, timeout=300,
                                  check=False)
        assert deployed.returncode == 0, deployed.stderr
    ecs, ec2 = account.client("ecs"), account.client("ec2")
    network = {"awsvpcConfiguration": {
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1],
        "securityGroups": [ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]]}}
    controller = ecs.register_task_definition(
        family="acme-jenkins", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="2048", memory="4096",
        containerDefinitions=[{"name": "jenkins", "image": "jenkins", "memory": 4096}])
    task = ecs.run_task(cluster="acme", taskDefinition="acme-jenkins", launchType="FARGATE",
                        networkConfiguration=network, startedBy="ecs-svc/jenkins",
                        tags=[{"key": "dockyard:name", "value": "acme"}])["tasks"][0]
    one_off = subprocess.run([sys.executable, "-m", "dockyard", "run", "api", "--detach", "--",
                              "sleep", "600"], cwd=tmp_path, env=operator, capture_output=True,
                             text=True, timeout=300, check=False)
    assert one_off.returncode == 0, one_off.stderr
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = account.client("elbv2").create_target_group(
        Name="acme-jenkins", Protocol="HTTP", Port=8080, VpcId=vpc,
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    assert controller["taskDefinition"]["family"] == "acme-jenkins"
    return Platform(account, config, tmp_path, str(task["taskArn"]), one_off.stdout.strip(),
                    str(group), {})


def fingerprint(account: Account) -> dict[str, Any]:
    """What an attack could change: services and what they run, images, build inputs, tasks,
    task definitions, secrets."""
    ecs, ecr, s3 = account.client("ecs"), account.client("ecr"), account.client("s3")
    services = {s["serviceName"]: (s["taskDefinition"], s["desiredCount"],
                                   json.dumps(s.get("loadBalancers", []), sort_keys=True))
                for s in ecs.describe_services(cluster="acme", services=["web", "api", "miner"])[
                    "services"] if s["status"] != "INACTIVE"}
    images = {r["repositoryName"]: sorted(str(i) for i in ecr.list_images(
        repositoryName=r["repositoryName"])["imageIds"])
        for r in ecr.describe_repositories()["repositories"]}
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"])
    objects = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    tasks = sorted((t["taskArn"], t["desiredStatus"]) for t in ecs.describe_tasks(
        cluster="acme", tasks=ecs.list_tasks(cluster="acme")["taskArns"] or ["none"])["tasks"])
    definitions = sorted(ecs.list_task_definitions()["taskDefinitionArns"])
    return {"services": services, "images": images, "objects": objects, "tasks": tasks,
            "definitions": definitions}


# -- the attacks -----------------------------------------------------------------------------------

Attack = Callable[[Platform, str], Any]


def _network(p: Platform) -> dict[str, Any]:
    ec2 = p.account.client("ec2")
    return {"awsvpcConfiguration": {
        "subnets": [ec2.describe_subnets()["Subnets"][0]["SubnetId"]],
        "securityGroups": [ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]]}}


def _own_tag(who: str) -> list[dict[str, str]]:
    return [{"key": "dockyard:app", "value": "untrusted" if who == "untrusted" else "web"}]


def update_service(app: str) -> Attack:
    return lambda p, who: p.client("ecs", who).update_service(
        cluster="acme", service=app, desiredCount=20)


def deploy_other_apps_definition(p: Platform, who: str) -> Any:
    """Point web's own service at api's task definition: api's roles, api's secrets."""
    api = p.account.client("ecs").list_task_definitions(familyPrefix="acme-api")[
        "taskDefinitionArns"][0]
    return p.client("ecs", who).update_service(cluster="acme", service="web",
                                               taskDefinition=api)


def create_service(p: Platform, who: str) -> Any:
    web = p.account.client("ecs").list_task_definitions(familyPrefix="acme-web")[
        "taskDefinitionArns"][0]
    return p.client("ecs", who).create_service(
        cluster="acme", serviceName="miner", taskDefinition=web, desiredCount=1,
        launchType="FARGATE", networkConfiguration=_network(p))


def run_task(family: str, **overrides: Any) -> Attack:
    def attack(p: Platform, who: str) -> Any:
        definitions = p.account.client("ecs").list_task_definitions(familyPrefix=family)[
            "taskDefinitionArns"]
        definition = definitions[-1] if definitions else family
        return p.client("ecs", who).run_task(
            cluster="acme", taskDefinition=definition, launchType="FARGATE",
            networkConfiguration=_network(p), tags=_own_tag(who),
            overrides={"containerOverrides": [], **overrides})
    return attack


def pass_role(app: str, family: str) -> Attack:
    """RunTask of a family the identity may run, with another app's task role passed in."""
    def attack(p: Platform, who: str) -> Any:
        role = p.account.output(f"acme-app-{app}", "TaskRoleArn")
        return run_task(family, taskRoleArn=role)(p, who)
    return attack


def register_with_role(family: str, app: str) -> Attack:
    """A task definition that names ``app``'s execution role (its secrets) and task role."""
    def attack(p: Platform, who: str) -> Any:
        outputs = {k: p.account.output(f"acme-app-{app}", k)
                   for k in ("ExecutionRoleArn", "TaskRoleArn")}
        return p.client("ecs", who).register_task_definition(
            family=family, executionRoleArn=outputs["ExecutionRoleArn"],
            taskRoleArn=outputs["TaskRoleArn"], networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "x", "image": "alpine", "memory": 512,
                                   "secrets": [{"name": "DB", "valueFrom": "acme/api/db"}]}])
    return attack


def put_image(repository: str) -> Attack:
    return lambda p, who: p.client("ecr", who).put_image(
        repositoryName=repository, imageManifest=image_manifest("poison"), imageTag="ctx-0")


def upload_layer(repository: str) -> Attack:
    return lambda p, who: p.client("ecr", who).initiate_layer_upload(repositoryName=repository)


def put_object(prefix: str) -> Attack:
    def attack(p: Platform, who: str) -> Any:
        bucket = p.account.output("acme-builder", "ContextBucket")
        return p.client("s3", who).put_object(Bucket=bucket, Key=f"{prefix}{'0' * 64}.tar.gz",
                                              Body=b"planted")
    return attack


def get_object(prefix: str) -> Attack:
    def attack(p: Platform, who: str) -> Any:
        bucket = p.account.output("acme-builder", "ContextBucket")
        return p.client("s3", who).get_object(Bucket=bucket, Key=f"{prefix}{'0' * 64}.tar.gz")
    return attack


def app_logs(app: str) -> Attack:
    return lambda p, who: p.client("logs", who).filter_log_events(
        logGroupName=f"/dockyard/acme/apps/{app}")


def secret(name: str) -> Attack:
    return lambda p, who: p.client("secretsmanager", who).get_secret_value(SecretId=name)


def stop_controller(p: Platform, who: str) -> Any:
    return p.client("ecs", who).stop_task(cluster="acme", task=p.controller_task)


def stop_api_one_off(p: Platform, who: str) -> Any:
    return p.client("ecs", who).stop_task(cluster="acme", task=p.api_one_off)


def stop_deployment(app: str) -> Attack:
    """Roll back another app's deployment (StopServiceDeployment, which a deploy may call on its
    own app's when cancelled before its smoke test)."""
    return lambda p, who: p.client("ecs", who).stop_service_deployment(
        serviceDeploymentArn=f"arn:aws:ecs:ap-southeast-2:123456789012:service-deployment/"
                             f"acme/{app}/1", stopType="ROLLBACK")


def assume(role_app: str | None, build: tuple[str, str | None, int | None]) -> Attack:
    """Exchange a token of ``build`` for another role (its own is what it gets)."""
    def attack(p: Platform, who: str) -> Any:
        return exchange(p.account, p.token(*build), p.account.pipeline_role(role_app))
    return attack


UNTRUSTED_ATTACKS: dict[str, Attack] = {
    "update-service-web": update_service("web"),
    "update-service-api": update_service("api"),
    "create-service": create_service,
    "run-task-of-web-one-off-family": run_task("acme-web-run"),
    "run-task-of-trusted-kaniko": run_task("acme-kaniko-amd64"),
    "register-task-definition-with-web-execution-role": register_with_role("acme-web", "web"),
    "register-own-family-with-web-execution-role": register_with_role("acme-miner", "web"),
    "pass-role-of-web-to-its-own-kaniko": pass_role("web", "acme-kaniko-untrusted-amd64"),
    "put-image-to-web": put_image("acme/web"),
    "put-image-to-web-cache": put_image("acme/web-cache"),
    "upload-layer-to-web-cache": upload_layer("acme/web-cache"),
    "put-image-to-jenkins-agent": put_image("acme/jenkins-agent"),
    "put-object-to-web-contexts": put_object("contexts/apps/web/"),
    "put-object-to-platform-contexts": put_object("contexts/platform/"),
    "forge-a-web-build-record": put_object("digests/apps/web/records/"),
    "read-web-logs": app_logs("web"),
    "read-web-secret": secret("acme/web/db"),
    "read-trusted-agents-password": secret("acme-jenkins-agents-trusted"),
    "stop-the-controller": stop_controller,
    "stop-web-deployment": stop_deployment("web"),
    "assume-web-role-with-its-own-token": assume("web", ("web", None, 12)),
}
WEB_ATTACKS: dict[str, Attack] = {
    "update-service-api": update_service("api"),
    "run-web-on-api-task-definition": deploy_other_apps_definition,
    "run-task-of-api-one-off-family": run_task("acme-api-run"),
    "register-api-family": register_with_role("acme-api", "web"),
    "register-own-family-with-api-execution-role": register_with_role("acme-web", "api"),
    "pass-role-of-api-to-its-one-off": pass_role("api", "acme-web-run"),
    "put-image-to-api": put_image("acme/api"),
    "put-image-to-api-cache": put_image("acme/api-cache"),
    "put-image-to-jenkins-controller": put_image("acme/jenkins-controller"),
    "put-object-to-api-contexts": put_object("contexts/apps/api/"),
    "put-object-to-platform-contexts": put_object("contexts/platform/"),
    "forge-an-api-build-record": put_object("digests/apps/api/records/"),
    "read-api-logs": app_logs("api"),
    "read-api-scan-findings": lambda p, who: p.client("ecr", who).describe_image_scan_findings(
        repositoryName="acme/api", imageId={"imageTag": "ctx-0"}),
    "read-api-secret": secret("acme/api/db"),
    "stop-the-controller": stop_controller,
    "stop-api-one-off": stop_api_one_off,
    "stop-api-deployment": stop_deployment("api"),
    "assume-api-role-with-its-own-token": assume("api", ("web", "main", None)),
}
KANIKO_ATTACKS: dict[str, dict[str, Attack]] = {
    "kaniko-untrusted": {
        "poison-web-cache": put_image("acme/web-cache"),
        "upload-layer-to-web-cache": upload_layer("acme/web-cache"),
        "push-to-web": put_image("acme/web"),
        "push-to-jenkins-controller": put_image("acme/jenkins-controller"),
        "read-web-contexts": get_object("contexts/apps/web/"),
        "forge-a-web-build-record": put_object("digests/apps/web/records/"),
        "read-web-secret": secret("acme/web/db"),
        "update-service-web": update_service("web"),
    },
    "kaniko-web": {
        "poison-api-cache": put_image("acme/api-cache"),
        "push-to-api": put_image("acme/api"),
        "push-to-jenkins-agent": put_image("acme/jenkins-agent"),
        "read-api-contexts": get_object("contexts/apps/api/"),
        "forge-its-own-build-record": put_object("digests/apps/web/records/"),
        "read-web-secret": secret("acme/web/db"),
        "update-service-web": update_service("web"),
    },
}
CASES = [("untrusted", name, attack) for name, attack in UNTRUSTED_ATTACKS.items()] + \
    [("web", name, attack) for name, attack in WEB_ATTACKS.items()] + \
    [(who, name, attack) for who, attacks in KANIKO_ATTACKS.items()
     for name, attack in attacks.items()]
REFUSALS = {"AccessDenied", "AccessDeniedException"}


@pytest.mark.parametrize(("who", "name", "attack"), CASES,
                         ids=[f"{who}-{name}" for who, name, _ in CASES])
def test_attack_is_refused_and_changes_nothing(platform: Platform, who: str, name: str,
                                               attack: Attack) -> None:
    platform.session(who)  # the identity first: getting it is not the attack
    before = fingerprint(platform.account)
    with pytest.raises(ClientError) as refused:
        attack(platform, who)
    error = refused.value.response["Error"]
    assert error["Code"] in REFUSALS, (error, name)
    assert "not authorized" in error["Message"].lower(), error
    assert fingerprint(platform.account) == before, "nothing changed"


def test_attack_a_pull_requests_jenkinsfile_claiming_trust_gets_no_deploy(
        platform: Platform) -> None:
    """A pull request's code edits dockyard.yml so that its own branch looks like a deploy
    branch, and runs `dockyard deploy` itself: dockyard asks STS for web's role, and STS, which
    reads the build's job and branch from the token Jenkins signed, refuses."""
    folder = platform.folder
    (folder / "dockyard.yml").write_text(platform.config.replace(
        "      jenkinsfile: Jenkinsfile\n", "      jenkinsfile: Jenkinsfile\n"
        "      deploy_branches: [main, feature/x]\n", 1))
    before = fingerprint(platform.account)
    env = platform.account.pipeline_env("web/feature%2Fx", platform.config)
    done = subprocess.run([sys.executable, "-m", "dockyard", "deploy", "web", "--image", "v1"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert "AWS STS refused this build's credentials for acme-pipeline-web (AccessDenied)" in \
        done.stderr
    assert fingerprint(platform.account) == before
    # Untouched, dockyard.yml refuses it itself, before asking AWS for anything.
    (folder / "dockyard.yml").write_text(platform.config)
    done = subprocess.run([sys.executable, "-m", "dockyard", "deploy", "web", "--image", "v1"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert "this build (web/feature%2Fx) is untrusted for web" in done.stderr


def test_attack_the_agents_task_role_holds_nothing(account: Account, tmp_path: Path) -> None:
    """The agents have no task role: a build's code that asks the agent's container
    credentials endpoint (169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) gets nothing,
    and dockyard run there without a token has no credentials to use."""
    from dockyard.config import parse_config
    from dockyard.templates import render_stacks

    cfg = parse_config(moto_server.example_config(account.certificate), "dockyard.yml")
    jenkins = next(s for s in render_stacks(cfg) if s.key == "jenkins").to_dict()
    for name in ("AgentTaskDefinition", "TrustedAgentTaskDefinition"):
        assert "TaskRoleArn" not in jenkins["Resources"][name]["Properties"], name
    (tmp_path / "dockyard.yml").write_text(moto_server.example_config(account.certificate))
    agent = {k: v for k, v in account.cli_env().items()
             if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    agent["DOCKYARD_ACCOUNT_ID"] = ACCOUNT
    done = subprocess.run([sys.executable, "-m", "dockyard", "deploy", "web", "--image", "v1"],
                          cwd=tmp_path, env=agent, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert "no AWS credentials found" in done.stderr


def test_attack_web_points_its_service_at_jenkins_target_group_is_a_residual_risk(
        platform: Platform) -> None:
    """No IAM condition key names the target groups of CreateService or UpdateService
    (Service Authorization Reference, Amazon ECS: no such key), and a rolling deployment
    registers targets with ECS's service-linked role, not the caller's. So web's trusted build
    can attach web's tasks to Jenkins' target group: a residual risk (README, "Security
    model"). `dockyard status web` says so, and the next deploy puts web's own group back."""
    ecs = platform.client("ecs", "web")
    ecs.update_service(cluster="acme", service="web", loadBalancers=[{
        "targetGroupArn": platform.jenkins_target_group, "containerName": "web",
        "containerPort": 5001}])
    (service,) = platform.account.client("ecs").describe_services(
        cluster="acme", services=["web"])["services"]
    assert platform.jenkins_target_group in json.dumps(service["loadBalancers"])
    operator = platform.account.cli_env()
    for _ in range(4):  # DescribeServices is eventually consistent after UpdateService
        shown = subprocess.run([sys.executable, "-m", "dockyard", "status", "web"],
                               cwd=platform.folder, env=operator, capture_output=True,
                               text=True, timeout=300, check=False)
        assert shown.returncode == 0, shown.stderr
        if "WARNING" in shown.stdout:
            break
    assert "WARNING the service sends its tasks to acme-jenkins/" in shown.stdout
    document = json.loads(subprocess.run(
        [sys.executable, "-m", "dockyard", "status", "web", "-o", "json"], cwd=platform.folder,
        env=operator, capture_output=True, text=True, timeout=300, check=False).stdout)
    assert document["service"]["foreign_target_groups"] == [platform.jenkins_target_group]
    redeployed = subprocess.run([sys.executable, "-m", "dockyard", "deploy", "web", "--image",
                                 "v1"], cwd=platform.folder, env=operator, capture_output=True,
                                text=True, timeout=300, check=False)
    assert redeployed.returncode == 0, redeployed.stderr
    (service,) = platform.account.client("ecs").describe_services(
        cluster="acme", services=["web"])["services"]
    assert platform.jenkins_target_group not in json.dumps(service["loadBalancers"])


def test_the_positive_path_gets_credentials_that_outlast_the_longest_deploy(
        platform: Platform) -> None:
    """web's trusted build may hold its role as long as its longest command needs
    (MaxSessionDuration from dockyard.yml: builds, one-offs, a deploy through every stage of
    its strategy); a linear deploy with AWS's defaults takes more than an hour."""
    from dockyard import trust
    from dockyard.config import parse_config

    cfg = parse_config(platform.config, "dockyard.yml")
    role = boto3_role(platform.account, "acme-pipeline-web")
    assert role["MaxSessionDuration"] == trust.max_session_seconds(cfg, "web")
    assert role["MaxSessionDuration"] >= trust.longest_command_seconds(cfg, "web") + 900
    token = platform.token("web", "main")
    longest = exchange_for(platform.account, token, "acme-pipeline-web",
                           role["MaxSessionDuration"])
    assert longest["Credentials"]["Expiration"]
    linear = parse_config(platform.config.replace("strategy: rolling", "strategy: linear", 1),
                          "dockyard.yml")
    assert linear.apps["web"].deploy.strategy == "linear"
    assert trust.longest_command_seconds(linear, "web") > 3600
    assert trust.max_session_seconds(linear, "web") >= \
        trust.longest_command_seconds(linear, "web") + 900


def boto3_role(account: Account, name: str) -> dict[str, Any]:
    return dict(account.client("iam").get_role(RoleName=name)["Role"])


def exchange_for(account: Account, token: str, role: str, seconds: int) -> dict[str, Any]:
    client = account.emulator.client("sts")
    client.meta.events.register("choose-signer.sts.*", lambda **_: UNSIGNED)
    answer: dict[str, Any] = client.assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="web.main.1",
        WebIdentityToken=token, DurationSeconds=seconds)
    return answer


def test_attack_a_planted_ctx_tag_is_never_used_by_up(platform: Platform,
                                                      tmp_path: Path) -> None:
    """`up` reuses a Jenkins image by its tag ctx-<hash of its build context>. No pipeline
    identity, and no kaniko of a pipeline, may push that tag to Jenkins' repositories (nor
    write the platform's contexts), so `up` builds the image itself."""
    from dockyard.builds.context import pack_to_file, scan
    from dockyard.jenkins.contexts import write_agent_context
    from dockyard.stacks.jenkins import CONTEXT_TAG_LENGTH

    context = write_agent_context(tmp_path / "agent")
    tag = "ctx-" + pack_to_file(scan(context), tmp_path).tar_sha256[:CONTEXT_TAG_LENGTH]
    for who in ("untrusted", "web", "kaniko-untrusted", "kaniko-web"):
        with pytest.raises(ClientError) as refused:
            platform.client("ecr", who).put_image(repositoryName="acme/jenkins-agent",
                                                  imageManifest=image_manifest("planted"),
                                                  imageTag=tag)
        assert refused.value.response["Error"]["Code"] in REFUSALS, who
    assert platform.account.client("ecr").list_images(
        repositoryName="acme/jenkins-agent")["imageIds"] == []
    up = subprocess.run([sys.executable, "-m", "dockyard", "up", "--yes", "--no-wait-jenkins",
                         "--only", "jenkins"], cwd=platform.folder,
                        env=platform.account.cli_env(), capture_output=True, text=True,
                        timeout=300, check=False)
    assert up.returncode == 0, up.stderr
    assert f"jenkins-agent: building {tag} with kaniko on Fargate" in up.stderr


def test_attack_the_controller_lists_no_secret_and_reads_only_its_own(
        account: Account, tmp_path: Path) -> None:
    """The controller's role reads the secrets its configuration names (the admin's, the
    agent pools', GitHub's) and nothing else: it may not list the account's secrets (there is
    no credentials provider to need it), nor read an app's."""
    config = moto_server.example_config(account.certificate)
    (tmp_path / "dockyard.yml").write_text(config)
    done = subprocess.run([sys.executable, "-m", "dockyard", "up", "--yes", "--no-wait-jenkins"],
                          cwd=tmp_path, env=account.cli_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    account.client("secretsmanager").create_secret(Name="acme/web/db", SecretString="pw")
    resources = account.client("cloudformation").list_stack_resources(
        StackName="acme-jenkins")["StackResourceSummaries"]
    role = next(r["PhysicalResourceId"] for r in resources
                if r["LogicalResourceId"] == "ControllerRole")
    controller = account.emulator.session(f"arn:aws:iam::{ACCOUNT}:role/{role}")
    secrets = account.emulator.client("secretsmanager", controller)
    assert secrets.get_secret_value(SecretId="acme/github")["SecretString"]
    for attack in (secrets.list_secrets,
                   lambda: secrets.get_secret_value(SecretId="acme/web/db")):
        with pytest.raises(ClientError) as refused:
            attack()
        assert refused.value.response["Error"]["Code"] in REFUSALS
