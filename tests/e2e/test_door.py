"""Jenkins' door on the strict emulator: after ``up``, requests played against the load
balancer's live security group and listener rules (devtools/strict/listener.py) reach Jenkins
only from jenkins.allowed_cidrs, its webhook only from GitHub's hook ranges, and its CLI and
agent endpoints from nowhere."""

from __future__ import annotations

from typing import Any

import pytest
from devtools.strict.listener import Answer, answer

from tests.e2e.conftest import Account, Dockyard

OFFICE = "203.0.113.9"  # inside the example's jenkins.allowed_cidrs
GITHUB = "140.82.112.5"  # inside GitHub's hook ranges
STRANGER = "198.51.100.7"


@pytest.fixture()
def door(dockyard: Dockyard, account: Account) -> Any:
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 0, done.stderr
    outputs = {o["OutputKey"]: o["OutputValue"] for o in account.client("cloudformation")
               .describe_stacks(StackName="acme-edge")["Stacks"][0]["Outputs"]}
    cfn = account.client("cloudformation")
    groups = {name: next(r["PhysicalResourceId"] for r in cfn.list_stack_resources(
        StackName=f"acme-{name}")["StackResourceSummaries"]
        if r["LogicalResourceId"] == "TargetGroup") for name in ("jenkins", "app-web")}

    def ask(source: str, url: str, method: str = "GET") -> Answer:
        return answer(account.client("elbv2"), account.client("ec2"),
                      outputs["LoadBalancerArn"], source=source, url=url, method=method)
    return ask, groups


# (source, path, method, what answers: a stack's target group or the load balancer's status)
WHO_REACHES_WHAT = [
    (OFFICE, "/login", "GET", "jenkins"),
    (STRANGER, "/login", "GET", 404),  # outside jenkins.allowed_cidrs: the listener's default
    (GITHUB, "/login", "GET", 404),  # GitHub reaches the webhook only
    (GITHUB, "/github-webhook/", "POST", "jenkins"),
    (STRANGER, "/github-webhook/", "POST", 404),
    (OFFICE, "/cli", "POST", 403),  # the CLI and the agents' endpoints: nobody, not even the
    (STRANGER, "/cli/", "POST", 403),  # office (agents connect inside the VPC)
    (OFFICE, "/swarm/swarm-client.jar", "GET", 403),
    (GITHUB, "/wsagents/", "GET", 403),
    (STRANGER, "/computer/x/jenkins-agent.jnlp", "GET", 403),
    (STRANGER, "/oidc/jwks", "GET", "jenkins"),  # AWS STS fetches the issuer's keys
    (STRANGER, "/oidc/jwks", "POST", 404),
]


def test_who_reaches_which_path_of_jenkins_and_of_an_app(door: Any) -> None:
    ask, groups = door
    wrong = []
    for source, path, method, reached in WHO_REACHES_WHAT:
        got = ask(source, f"https://jenkins.example.com{path}", method)
        expected = Answer("fixed-response", status=reached) if isinstance(reached, int) \
            else Answer("forward", groups[reached])
        if got != expected:
            wrong.append(f"{method} {path} from {source}: {got}, not {expected}")
    assert wrong == []
    for source in (STRANGER, OFFICE, GITHUB):  # the apps keep edge.allowed_cidrs: 0.0.0.0/0
        assert ask(source, "https://web.example.com/") == Answer("forward", groups["app-web"])
    assert ask(STRANGER, "http://jenkins.example.com/login").kind == "redirect"
