"""A platform as big as teams run them (50 apps) deploys within AWS's quotas, which the strict
emulator enforces: CloudFormation's 51,200-byte TemplateBody, 200 parameters and 500 resources;
IAM's 10,240 characters of inline policy per role; 100 rules per listener."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from devtools import moto_server

from tests.e2e.conftest import Account, Dockyard

APPS = 50


def fifty_apps(account: Account) -> str:
    apps = "".join(f"  app{i:02d}:\n    port: 8080\n    priority: {100 + i}\n"
                   f"    secrets: {{DB: acme/app{i:02d}/db}}\n" for i in range(APPS))
    return moto_server.example_config(account.certificate).replace("apps:\n", "apps:\n" + apps, 1)


@pytest.mark.long
def test_fifty_apps_deploy_within_the_quotas(dockyard: Dockyard, account: Account,
                                             tmp_path: Path) -> None:
    secrets = account.client("secretsmanager")
    for i in range(APPS):
        secrets.create_secret(Name=f"acme/app{i:02d}/db", SecretString="postgres://")
    (tmp_path / "dockyard.yml").write_text(fifty_apps(account))
    done = dockyard("up", "--yes", "--no-wait-jenkins", "--output", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    stacks = {s["name"]: s["outcome"] for s in json.loads(done.stdout)["stacks"]}
    # builder, edge, jenkins, the example's web, and the fifty
    assert len(stacks) == 4 + APPS and set(stacks.values()) == {"created"}

    cloudformation = account.client("cloudformation")
    body = cloudformation.get_template(StackName="acme-builder")["TemplateBody"]
    size = len(json.dumps(body, separators=(",", ":")).encode())
    assert size < 51_200 // 2, f"the builder template ({size} bytes) does not grow with apps"
    from devtools.strict.quotas import policy_characters
    from moto.iam.models import iam_backends

    # The builder's roles name no app; each app's roles are its own, the same size for each.
    for role in ("acme-pipeline-untrusted", "acme-kaniko-untrusted", "acme-kaniko-platform",
                 "acme-pipeline-app49", "acme-kaniko-app49"):
        policies = iam_backends["123456789012"]["aws"].get_role(role).policies
        inline = sum(policy_characters(document) for document in policies.values())
        assert inline < 10_240 // 2, f"{role}: {inline} characters"
    listener = account.output("acme-edge", "HttpsListenerArn")
    rules = [r for page in account.client("elbv2").get_paginator("describe_rules").paginate(
        ListenerArn=listener) for r in page["Rules"]]
    # the default; Jenkins' 3 blocked-path rules, 2 webhook rules (GitHub's 6 hook ranges), its
    # host's and its OIDC issuer's; the example's web; each app
    assert len(rules) == 1 + 7 + 1 + APPS

    # The only job deploys every app (apps.<name>.job defaults to it): its main branch's build
    # assumes app49's own role.
    web = json.loads(dockyard("status", "app49", "--output", "json", build="web/main").stdout)
    assert web["service"] is None
