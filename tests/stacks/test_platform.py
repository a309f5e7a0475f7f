"""Platform wiring: what the preflight looks up, and how kept data is adopted."""

from __future__ import annotations

import pytest

from dockyard.aws.retained import FileSystem, Repository
from dockyard.errors import DockyardError
from dockyard.stacks.engine import Engine
from dockyard.stacks.platform import Platform, discover
from dockyard.templates import Retained
from dockyard.ui.progress import PlainReporter
from tests.conftest import VARIANTS, example_config
from tests.fakes import FakeAccount, FakeClock, FakeCloudFormation, FakeRetained, text_console


def platform(variant: str, retained: FakeRetained | None = None) -> Platform:
    console, _, _ = text_console()
    return Platform(cfg=example_config(*VARIANTS[variant]),
                    engine=Engine(FakeCloudFormation(), FakeClock(), PlainReporter(console)),
                    account=FakeAccount(), retained=retained or FakeRetained())


def test_preflight_looks_up_only_what_the_config_needs() -> None:
    facts = discover(platform("example"))
    assert facts == {"default-vpc-id": "vpc-1", "default-vpc-subnets": "subnet-a,subnet-b",
                     "hosted-zone-id": "Z123",
                     # nothing runs yet: dockyard.yml's port, for both
                     "serving-port:web": "5001", "created-port:acme-app-web:TargetGroup": "5001"}
    facts = discover(platform("existing-private"))
    assert "default-vpc-id" not in facts
    assert facts["secret-arn:acme/dockerhub"].startswith("arn:aws:secretsmanager:")


def test_a_port_change_keeps_the_target_group_and_the_running_port_until_the_deploy() -> None:
    """The app's port moves 5001 -> 8000 while its tasks listen on 5001: the target group
    keeps the port it was created with (changing it replaces the group, leaving the rule on
    an empty one), the running port stays open, and the person is told the order."""
    moved = platform("example")
    moved.cfg = example_config(("port: 5001", "port: 8000"))
    moved.stacks = []
    moved.__post_init__()
    account = FakeAccount()
    account.serving["web"], account.created["acme-app-web"] = 5001, 5001
    moved.account = account
    facts = discover(moved)
    assert facts["serving-port:web"] == "5001"
    assert facts["created-port:acme-app-web:TargetGroup"] == "5001"
    (warning,) = moved.warnings
    assert "apps.web.port is 8000 in dockyard.yml but web's running tasks listen on 5001" \
        in warning
    assert warning.index("dockyard up") < warning.index("dockyard deploy web")
    account.serving["web"] = 8000  # after the deploy: the next up closes 5001
    again = platform("example")
    again.cfg, again.account, again.stacks = moved.cfg, account, moved.stacks
    assert discover(again)["serving-port:web"] == "8000" and again.warnings == []


@pytest.mark.parametrize(("keys", "words"), [
    ([], "the secret acme/github does not exist"),
    (["private_key"], "the secret acme/github lacks webhook_secret"),
    (["token", "username", "webhook_secret"], "lacks private_key"),
])
def test_a_missing_or_incomplete_github_secret_stops_up_before_any_stack(
        keys: list[str], words: str) -> None:
    wired = platform("example")
    wired.account = FakeAccount(secret_keys=keys)
    with pytest.raises(DockyardError) as raised:
        discover(wired)
    assert raised.value.message.startswith("jenkins.github.credentials_secret: ")
    assert words in raised.value.message
    assert raised.value.hint is not None and '"webhook_secret": "..."' in raised.value.hint
    assert int(raised.value.exit_code) == 3


@pytest.mark.parametrize(("label", "words"), [
    ("RSA PRIVATE KEY", "holds a RSA PRIVATE KEY key (PKCS#1, as GitHub downloads it)"),
    ("", "holds no PEM private key"),
])
def test_a_github_app_key_jenkins_cannot_read_stops_up(label: str, words: str) -> None:
    """github-branch-source reads an App's key only as PKCS#8 ("make sure it's PKCS#8
    format"); GitHub hands out PKCS#1. Found at `up`, not as every branch scan failing."""
    wired = platform("example")
    wired.account = FakeAccount(pem_label=label)
    with pytest.raises(DockyardError) as raised:
        discover(wired)
    assert words in raised.value.message
    assert raised.value.hint is not None and "openssl pkcs8 -topk8 -nocrypt" in raised.value.hint
    assert int(raised.value.exit_code) == 3
    wired.account = FakeAccount()
    assert "serving-port:web" in discover(wired), "a PKCS#8 key passes"


def test_without_an_app_the_secret_holds_a_token() -> None:
    """The fallback: no app_id, a personal access token (and no key to check)."""
    wired = platform("example")
    wired.cfg = example_config(('    app_id: "123456"', ""))
    wired.account = FakeAccount(pem_label="")
    with pytest.raises(DockyardError) as raised:
        discover(wired)
    assert "the secret acme/github lacks username, token" in raised.value.message
    wired.account = FakeAccount(secret_keys=["token", "username", "webhook_secret"],
                                pem_label="")
    assert "serving-port:web" in discover(wired)


def test_kept_repositories_and_jenkins_home_are_adopted() -> None:
    kept = FakeRetained(
        kept_file_systems=[FileSystem("fs-1234abcd", "arn:fs", "acme-jenkins-home", 10, 0)],
        kept_repositories=[Repository("acme/web", "arn:repo", 3)])
    p = platform("example", kept)
    assert p.kept(Retained("repository", "acme/web")) == "yes"
    assert p.kept(Retained("repository", "acme/web-cache")) == "no"
    assert p.kept(Retained("file-system", "jenkins-home")) == "fs-1234abcd"


def test_two_kept_jenkins_homes_need_a_choice() -> None:
    homes = [FileSystem(f"fs-{n}", "arn", "acme-jenkins-home", 1, 0) for n in ("a1", "b2")]
    p = platform("example", FakeRetained(kept_file_systems=homes))
    with pytest.raises(DockyardError, match="several kept JENKINS_HOME file systems") as caught:
        p.kept(Retained("file-system", "jenkins-home"))
    assert "jenkins.file_system_id" in (caught.value.hint or "")


def test_a_dependency_deployed_by_an_older_dockyard_is_named_not_a_traceback() -> None:
    """An edge stack from before the load balancer's CloudWatch name was an output: the app
    stack that needs it says which output and how to get it, and nothing is deployed."""
    from dockyard.aws.cloudformation import Stack
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.names import Out
    from dockyard.stacks.platform import up

    plat = platform("example")
    cfn = plat.engine.api
    assert isinstance(cfn, FakeCloudFormation)
    edge_outputs = {Out.HTTPS_LISTENER_ARN: "arn:listener", Out.SECURITY_GROUP_ID: "sg-lb",
                    Out.DNS_NAME: "lb.example", Out.CANONICAL_HOSTED_ZONE_ID: "Z1"}
    cfn.stacks["acme-edge"] = Stack("acme-edge", "arn:stack/acme-edge", "CREATE_COMPLETE",
                                    outputs=edge_outputs)
    builder = next(s for s in plat.stacks if s.key == "builder").to_dict()
    cfn.stacks["acme-builder"] = Stack("acme-builder", "arn:stack/acme-builder",
                                       "CREATE_COMPLETE",
                                       outputs=dict.fromkeys(builder["Outputs"], "x"))
    with pytest.raises(AwsPreconditionError) as refused:
        up(plat, ["app-web"], lambda *_: True)
    assert refused.value.message == ("acme-app-web needs the output LoadBalancerFullName of "
                                     "acme-edge, which a dockyard before this one did not write")
    assert refused.value.hint == "update it first: dockyard up --only edge"
    assert not any(c.startswith("create_change_set") for c in cfn.calls)


def test_up_refuses_a_progressive_apps_stack_while_its_deployment_is_under_way() -> None:
    from dockyard.aws.cloudformation import Stack
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.stacks.platform import up

    console, _, _ = text_console()
    account = FakeAccount()
    plat = Platform(cfg=example_config(("strategy: rolling", "strategy: canary")),
                    engine=Engine(FakeCloudFormation(), FakeClock(), PlainReporter(console)),
                    account=account, retained=FakeRetained())
    cfn = plat.engine.api
    assert isinstance(cfn, FakeCloudFormation)
    for key in ("builder", "edge"):
        template = next(s for s in plat.stacks if s.key == key).to_dict()
        cfn.stacks[f"acme-{key}"] = Stack(f"acme-{key}", f"arn:stack/acme-{key}",
                                          "CREATE_COMPLETE",
                                          outputs=dict.fromkeys(template["Outputs"], "x"))
    account.ongoing["web"] = "IN_PROGRESS at BAKE_TIME"
    with pytest.raises(AwsPreconditionError) as refused:
        up(plat, ["app-web"], lambda *_: True)
    assert refused.value.message.startswith(
        "acme-app-web: a deployment of web is under way (IN_PROGRESS at BAKE_TIME)")
    assert refused.value.hint is not None and "dockyard status web --wait" in refused.value.hint
    assert not any(c.startswith("create_change_set") for c in cfn.calls), "nothing changed"
    account.ongoing.clear()
    reads = {"HostRule": 0}
    before, after = {"TargetGroup": 100, "AlternateTargetGroup": 0}, \
        {"TargetGroup": 0, "AlternateTargetGroup": 100}

    def moving(stack: str, rule: str) -> dict[str, int]:
        """ECS finishes a canary between up's first look and the app stack's turn."""
        reads[rule] = reads.get(rule, 0) + 1
        return before if reads[rule] == 1 else after

    account.forward_weights = moving  # type: ignore[method-assign]
    (result,) = up(plat, ["app-web"], lambda *_: True)
    assert result.ok
    sent = cfn.stacks["acme-app-web"].parameters
    assert (sent["HostRuleTargetGroupWeight"], sent["HostRuleAlternateTargetGroupWeight"]) == \
        ("0", "100"), "the weights as ECS left them, read right before the update"
