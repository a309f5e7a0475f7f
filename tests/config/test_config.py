"""dockyard.yml: defaults, checks, and errors that name the field and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.config import load_config, parse_config, starter_text
from dockyard.config.models import DEFAULT_EXECUTOR_IMAGE, Config
from dockyard.config.routing import app_priority
from dockyard.errors import ConfigError, ExitCode
from tests.conftest import example_config, example_text


def problems(*replacements: tuple[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(example_text(*replacements), "dockyard.yml")
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.problems


def test_the_example_validates_with_the_documented_defaults() -> None:
    cfg = example_config()
    assert cfg.name == "acme"
    assert cfg.network.mode == "default-vpc"
    assert cfg.edge.certificate == "auto"
    assert (cfg.jenkins.cpu, cfg.jenkins.memory, cfg.jenkins.storage_gib) == (2048, 4096, 30)
    b = cfg.builder
    assert (b.cpu, b.memory, b.storage_gib, b.spot, b.timeout_minutes) == (2048, 8192, 50, True, 60)
    assert b.architectures == ["amd64"]
    assert b.executor_image == DEFAULT_EXECUTOR_IMAGE
    assert cfg.apps["web"].port == 5001


def test_a_minimal_file_gets_every_default() -> None:
    cfg = parse_config("name: shop\nregion: eu-west-1\nedge:\n  domain: Shop.Example.COM.\n"
                       "  allowed_cidrs: [10.0.0.0/8]\n", "dockyard.yml")
    assert cfg.edge.domain == "shop.example.com"
    assert cfg.jenkins.host == "jenkins"
    assert cfg.apps == {}
    assert cfg.url("jenkins") == "https://jenkins.shop.example.com/"


def test_only_plan_falls_back_to_the_bundled_example(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the top of a checkout: the search stops here
    loaded = load_config(None, allow_example=True)
    assert loaded.is_example
    assert loaded.config == example_config()
    with pytest.raises(ConfigError) as refused:
        load_config(None)
    assert refused.value.exit_code == 2
    assert "no dockyard.yml in" in refused.value.message
    assert refused.value.hint is not None and "dockyard init" in refused.value.hint


def test_the_config_is_found_here_or_in_the_nearest_folder_above(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As git finds its repository: this folder, then its parents, up to the checkout's top."""
    (tmp_path / "dockyard.yml").write_text(example_text(("name: acme", "name: outer")))
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    deep = project / "services" / "web"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    with pytest.raises(ConfigError):  # the checkout's top is as far as it looks
        load_config(None)
    (project / "dockyard.yml").write_text(example_text(("name: acme", "name: shop")))
    found = load_config(None)
    assert found.config.name == "shop" and found.source == str(project / "dockyard.yml")
    (deep / "dockyard.yml").write_text(example_text(("name: acme", "name: web")))
    assert load_config(None).config.name == "web"
    assert load_config(None).source == "dockyard.yml"


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yml")


@pytest.mark.parametrize(("old", "new", "path", "words", "below"), [
    ("cpu: 256", "cpu: 300", "apps.web.cpu", "not a Fargate CPU value", 0),
    ("memory: 512", "memory: 4096", "apps.web.memory", "does not go with cpu 256", 0),
    # The memory line, below the changed cpu line, is the one to fix.
    ("cpu: 2048                      # 2 vCPU", "cpu: 256", "jenkins.memory",
     "does not go with cpu 256", 1),
    ("port: 5001", "port: 5001\n    prot: 80", "apps.web.prot", "unknown key; expected one of", 1),
    # the keys of the mode chosen, not of every mode (that list named cidr as expected)
    ("mode: default-vpc", "mode: default-vpc\n  cidr: 10.0.0.0/16", "network.cidr",
     "unknown key with mode default-vpc; expected one of: mode", 1),
    ("mode: default-vpc", "mode: create\n  cidrr: 10.0.0.0/16", "network.cidrr",
     "unknown key with mode create; expected one of: mode, cidr", 1),
    ("0.0.0.0/0\n", "10.0.0.300/8\n", "edge.allowed_cidrs.0", "not a CIDR block", 0),
    ("0.0.0.0/0\n", "10.0.0.1/8\n", "edge.allowed_cidrs.0", "host bits set", 0),
    ("name: acme", "name: Acme_1", "name", "not a valid name", 0),
    ("mode: default-vpc", "mode: vpn", "network.mode", "not a network mode", 0),
    ("host: web", "host: jenkins", "apps.web.host", "already used by jenkins", 0),
    ("LOG_LEVEL: info", "DB_PASSWORD: hunter2", "apps.web.env.DB_PASSWORD",
     "looks like a secret", 0),
    ("secrets: {}", "secrets: {DB: 'arn:aws:s3:::bucket'}", "apps.web.secrets.DB",
     "not a Secrets Manager name or ARN", 0),
    ("spot: true", "spot: sometimes", "builder.spot", "valid boolean", 0),
    ("architectures: [amd64]", "architectures: [amd64, amd64]", "builder.architectures",
     "once", 0),
    ("region: ap-southeast-2", "region: mars", "region", "not an AWS region", 0),
    ("certificate: auto", "certificate: arn:aws:acm:us-east-1:123456789012:certificate/"
     "12345678-1234-1234-1234-123456789012", "edge.certificate", "needs one in ap-southeast-2",
     0),
    ("  web:\n", "  jenkins-ui:\n", "apps.jenkins-ui", "reserved", 0),
])
def test_a_bad_value_names_its_field_and_line(old: str, new: str, path: str, words: str,
                                              below: int) -> None:
    original = starter_text()
    changed_line = original[:original.index(old)].count("\n") + 1
    first = problems((old, new))[0]
    assert f": {path}: " in first, first
    assert words in first, first
    assert first.startswith(f"dockyard.yml:{changed_line + below}: "), first


def test_a_missing_required_key_points_at_its_section() -> None:
    found = problems(("  domain: example.com", "  hosted_zone_id: Z123"))
    assert any(p.endswith("edge.domain: required, but missing") for p in found), found


def test_a_web_app_without_its_port_is_told_what_a_worker_is() -> None:
    found = problems(("    port: 5001\n", ""))
    assert any(p.endswith("apps.web.port: a web app needs the port its container listens on "
                          "(kind: worker for an app that serves no traffic)") for p in found), \
        found


def test_network_existing_needs_its_vpc_and_subnets() -> None:
    found = problems(("mode: default-vpc", "mode: existing"))
    assert any("network.vpc_id: required" in p for p in found)
    assert any("network.subnets: required" in p for p in found)


def test_existing_network_with_private_subnets() -> None:
    cfg = example_config(("mode: default-vpc", "mode: existing\n  vpc_id: vpc-0123456789abcdef0\n"
                          "  subnets: [subnet-01234567, subnet-89abcdef]\n"
                          "  private_subnets: [subnet-11111111, subnet-22222222]"))
    assert cfg.network.mode == "existing"


@pytest.mark.parametrize(("text", "words"), [
    ("name: [", "invalid YAML"),
    ("", "the file is empty"),
    ("- a\n- b\n", "expected a mapping"),
    ("name: a\nname: b\n", "name: duplicate key"),
])
def test_unreadable_yaml_is_one_clear_line(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "dockyard.yml")
    assert words in caught.value.problems[0]
    assert caught.value.problems[0].startswith("dockyard.yml:")


def test_env_values_from_yaml_scalars_become_strings() -> None:
    cfg = example_config(("LOG_LEVEL: info", "WORKERS: 4\n      DEBUG: false"))
    assert cfg.apps["web"].env == {"WORKERS": "4", "DEBUG": "false"}


def test_secret_references_of_every_kind_are_accepted() -> None:
    refs = {"A": "acme/db", "B": "ssm:/acme/token",
            "C": "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:acme/db-AbCdEf",
            "D": "arn:aws:ssm:ap-southeast-2:123456789012:parameter/acme/x"}
    inline = ", ".join(f"{k}: '{v}'" for k, v in refs.items())
    cfg = example_config(("secrets: {}", f"secrets: {{{inline}}}"))
    assert cfg.apps["web"].secrets == refs


def test_app_priorities_are_stable_and_distinct() -> None:
    cfg = example_config()
    first = app_priority("web", cfg.apps["web"])
    assert first == app_priority("web", cfg.apps["web"])
    assert 2 <= first <= 50000
    clash = problems(("host: web", f"host: web\n    priority: {first}\n  api:\n    port: 80\n"
                                   f"    priority: {first}"))
    assert "clashes with apps.web" in clash[0]


def test_config_is_immutable() -> None:
    cfg = example_config()
    with pytest.raises(ValueError, match="frozen"):
        cfg.name = "other"


def test_init_starter_substitutes_its_values() -> None:
    text = starter_text(name="shop", region="eu-west-1", domain="shop.dev")
    cfg = parse_config(text, "dockyard.yml")
    assert (cfg.name, cfg.region, cfg.edge.domain) == ("shop", "eu-west-1", "shop.dev")
    assert cfg.jenkins.github is not None
    assert cfg.jenkins.github.credentials_secret == "shop/github"
    assert text.count("#") > 20, "the starter file explains itself in comments"


def test_schema_lists_every_top_level_key() -> None:
    schema = Config.model_json_schema()
    assert set(schema["properties"]) == {"name", "region", "network", "edge", "jenkins",
                                         "builder", "apps", "access_logs", "stacks"}
    assert set(schema["required"]) == {"name", "region", "edge"}


@pytest.mark.parametrize(("replacement", "words"), [
    ("admins: [example-org*platform]", "jenkins.sign_in.github.admins"),
    ("admins: [example-org]", "is not a GitHub team as organization*team-slug"),
    ("admins: ['-org*team']", "is not a GitHub team as organization*team-slug"),
    ("developers: [example-org*web-developers]", None),
])
def test_github_sign_in_names_teams_and_an_admin(replacement: str, words: str | None) -> None:
    from dockyard.config import parse_config
    from tests.conftest import GITHUB_SIGN_IN, example_text

    changed = replacement if words != "jenkins.sign_in.github.admins" else "admins: []"
    text = example_text(GITHUB_SIGN_IN, ("admins: [example-org*platform]", changed)) \
        if replacement.startswith("admins") else example_text(GITHUB_SIGN_IN)
    if words is None:
        cfg = parse_config(text, "dockyard.yml")
        assert cfg.jenkins.sign_in.github is not None
        assert cfg.jenkins.sign_in.github.developers == ["example-org*web-developers"]
        return
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "dockyard.yml")
    assert words in raised.value.problems[0]
    assert "jenkins.sign_in.github.admins" in raised.value.problems[0]


def test_exec_needs_a_writable_root_and_is_off_by_default() -> None:
    assert example_config().apps["web"].exec is False
    found = problems(("    port: 5001\n", "    port: 5001\n    exec: true\n"))
    line = starter_text().split("\n").index("    port: 5001") + 2  # the line added below it
    assert found == [found[0]] and found[0].startswith(f"dockyard.yml:{line}: apps.web.exec: ")
    assert "read_only_root: false" in found[0]
    cfg = parse_config(example_text(("    port: 5001\n", "    port: 5001\n    exec: true\n"
                                                       "    read_only_root: false\n")),
                       "dockyard.yml")
    assert cfg.apps["web"].exec and not cfg.apps["web"].read_only_root


@pytest.mark.parametrize(("scale", "problem"), [
    ("{min: 3, max: 2, cpu_percent: 50}", "min (3) is above max (2)"),
    ("{min: 1, max: 2}", "give at least one target"),
    ("{min: 0, max: 2, cpu_percent: 50}", "apps.web.scale.min"),
    ("{min: 1, max: 101, cpu_percent: 50}", "apps.web.scale.max"),
    ("{min: 1, max: 2, cpu_percent: 150}", "apps.web.scale.cpu_percent"),
])
def test_a_scaling_range_must_hold_together(scale: str, problem: str) -> None:
    found = problems(("    count: 1\n", f"    scale: {scale}\n"))
    assert len(found) == 1 and problem in found[0], found


def test_scale_and_a_fixed_count_exclude_each_other() -> None:
    found = problems(("    count: 1\n", "    count: 1\n    scale: {min: 1, max: 3, "
                                         "cpu_percent: 50}\n"))
    assert len(found) == 1 and "apps.web.count: a fixed count and scale exclude" in found[0]
    cfg = example_config(("    count: 1\n", "    scale: {min: 2, max: 3, memory_percent: 70}\n"))
    scale = cfg.apps["web"].scale
    assert scale is not None and (scale.min, scale.max, scale.memory_percent) == (2, 3, 70)
    assert cfg.apps["web"].initial_count == 2
