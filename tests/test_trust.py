"""The trust tiers as dockyard.yml decides them (dockyard/trust.py): which builds are trusted
with which app, the role a command asks for, how long its credentials last, and the names
the templates and the CLI share."""

from __future__ import annotations

import base64
import json

import pytest

from dockyard import trust
from dockyard.config import parse_config
from dockyard.errors import DockyardError, UsageError
from tests.conftest import example_config, example_text

TWO_JOBS = ("      deploy_branches: [main]\n",
            "      deploy_branches: [main, release/1.x]\n"
            "    - name: api\n      repository: example-org/api\n")


def token(sub: str, number: int | None = 7) -> str:
    claims = {"sub": sub, **({"build_number": number} if number is not None else {})}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"e30.{payload}.c2ln"


def test_subjects_are_the_jobs_names_jenkins_gives_branches() -> None:
    assert trust.subject("web", "main") == "web/main"
    assert trust.subject("web", "release/1.x") == "web/release%2F1.x"
    assert trust.subject("web", "100%") == "web/100%25"


def test_an_app_is_trusted_to_its_jobs_deploy_branches_only() -> None:
    cfg = parse_config(example_text(TWO_JOBS), "dockyard.yml")
    assert trust.trusted_subjects(cfg, "web") == ["web/main", "web/release%2F1.x"]
    assert trust.untrusted_subjects(cfg) == ["web/*", "api/*"]
    assert trust.trusted_builds(cfg) == ["api/main", "web/main", "web/release%2F1.x"]
    for sub, apps in (("web/main", ["web"]), ("web/release%2F1.x", ["web"]),
                      ("web/PR-12", []), ("web/feature%2Fx", []), ("api/main", [])):
        assert trust.trusted_apps(cfg, trust.read_token(token(sub))) == apps, sub


def test_the_role_a_command_asks_for() -> None:
    cfg = example_config()
    main, pull = trust.read_token(token("web/main")), trust.read_token(token("web/PR-12", 3))
    assert trust.for_build(cfg, main, "web") == trust.Acting("acme-pipeline-web", "web", main)
    assert trust.for_build(cfg, pull, "web").role == "acme-pipeline-untrusted"
    assert trust.for_build(cfg, main, "jenkins-agent").role == "acme-pipeline-untrusted"
    assert trust.for_build(cfg, main, "docker.io/acme/web").role == "acme-pipeline-web"
    assert trust.for_app(cfg, main, "web", "deploy").role == "acme-pipeline-web"
    with pytest.raises(DockyardError) as refused:
        trust.for_app(cfg, pull, "web", "deploy")
    assert refused.value.message == ("deploy web: this build (web/PR-12) is untrusted for web; "
                                     "it may build and test, not deploy or run tasks")
    assert refused.value.hint == "builds trusted with web: web/main (jobs[web].deploy_branches)"
    assert refused.value.exit_code == 3
    assert pull.session_name() == "web.PR-12.3"
    assert trust.role_arn(cfg, "123456789012", "acme-pipeline-web") == \
        "arn:aws:iam::123456789012:role/acme-pipeline-web"


@pytest.mark.parametrize("text", ["", "abc", "a.b.c", "a.e30.c", f"a.{'x' * 10}.c"])
def test_what_is_not_a_jenkins_token_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="DOCKYARD_ID_TOKEN is not a Jenkins id token"):
        trust.read_token(text)


def test_credentials_outlast_the_longest_command_of_each_role() -> None:
    cfg = example_config()
    # rolling web: a 60-minute build is its longest command; plus 15 minutes, in hours
    assert trust.longest_command_seconds(cfg, "web") == 3600
    assert trust.max_session_seconds(cfg, "web") == 7200
    linear = example_config(("strategy: rolling", "strategy: linear"))
    assert trust.longest_command_seconds(linear, "web") > 3600  # ECS's linear defaults
    assert trust.max_session_seconds(linear, "web") >= \
        trust.longest_command_seconds(linear, "web") + trust.SESSION_MARGIN_SECONDS
    # a command asks for its own timeout and the margin, within the role's maximum
    assert trust.session_seconds(cfg, "web", 15 * 60) == 30 * 60
    assert trust.session_seconds(cfg, "web", 0) == 900
    assert trust.session_seconds(cfg, "web", 10 * 3600) == 7200
    long_builds = example_config(("timeout_minutes: 60", "timeout_minutes: 700"))
    assert trust.max_session_seconds(long_builds, None) == 43_200, "IAM's most: 12 hours"


@pytest.mark.parametrize(("edit", "message"), [
    (("deploy_branches: [main]", "deploy_branches: [PR-3]"),
     "jenkins.jobs.0.deploy_branches.0: 'PR-3' is not a branch name"),
    (("deploy_branches: [main]", "deploy_branches: [main, main]"), "a branch is listed twice"),
    (("    job: web ", "    job: nope "),
     "apps.web.job: no job 'nope' (jobs: web; 'none' leaves the app to the operator)"),
    (("  web:\n", "  untrusted:\n"), "app name 'untrusted' is reserved"),
    # <name>-web-run is web's one-off family; <name>-kaniko-amd64 the builder's
    (("  web:\n", "  web-run:\n"), "app name 'web-run' is reserved"),
    (("  web:\n", "  kaniko-amd64:\n"), "app name 'kaniko-amd64' is reserved"),
    (("  web:\n", "  pipeline-web:\n"), "app name 'pipeline-web' is reserved"),
    (("    - 0.0.0.0/0", "    - 10.0.0.0/16\n    - 10.1.0.0/16\n    - 10.2.0.0/16\n"
                          "    - 10.3.0.0/16\n    - 10.4.0.0/16"),
     "edge.allowed_cidrs: 5 blocks; with the internet left out"),
])
def test_bad_trust_settings_are_refused_with_their_field(edit: tuple[str, str],
                                                        message: str) -> None:
    from dockyard.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        parse_config(example_text(edit), "dockyard.yml")
    assert message in refused.value.message, refused.value.message


def test_an_app_no_job_deploys_gets_no_pipeline_role() -> None:
    from dockyard.templates import render_stacks

    cfg = example_config(("    job: web ", "    job: none "))
    assert cfg.deploying_job("web") is None and trust.trusted_subjects(cfg, "web") == []
    app = next(s for s in render_stacks(cfg) if s.key == "app-web").to_dict()
    assert "PipelineRole" not in app["Resources"] and "KanikoRole" in app["Resources"]
