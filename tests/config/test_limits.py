"""AWS's limits and hostile files: refused at load with exit 2, the limit named, in bounded time
and memory (docs/limits.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from troposphere import Output

from dockyard.cli import main
from dockyard.config import limits, load_config, parse_config
from dockyard.errors import ConfigError, ExitCode
from dockyard.templates import check_quotas, render_stacks
from tests.conftest import example_text

ROOT = Path(__file__).resolve().parents[2]


def refused(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "dockyard.yml")
    assert caught.value.exit_code == ExitCode.USAGE
    return "\n".join(caught.value.problems)


def with_apps(count: int) -> str:
    apps = "".join(f"  app{i:03d}:\n    port: 8080\n" for i in range(count))
    return example_text(("apps:\n  web:", f"apps:\n{apps}  web:"))


@pytest.mark.parametrize(("replacements", "words"), [
    # Fargate: a given size is 21-200 GiB (20 is what a task gets without asking).
    ((("storage_gib: 50", "storage_gib: 20"),), r"builder\.storage_gib: 20 GiB .*21-200"),
    ((("region: ap-southeast-2", "region: xx-nowhere-9"),),
     r"region: 'xx-nowhere-9' is not an AWS region"),
    # A bool is not a port, a string is not a count.
    ((("port: 5001", "port: true"),), r"apps\.web\.port: .*integer.*got True"),
    ((("    count: 1\n    health_check", "    count: '1'\n    health_check"),),
     r"apps\.web\.count: .*integer"),
    # ACM: *.<domain> at most 64 characters.
    ((("domain: example.com", "domain: " + "a" * 59 + ".com"),),
     r"edge\.domain: .*ACM takes at most 64"),
    # The load balancer's host rule: 128 characters.
    ((("domain: example.com", "domain: " + ".".join(["b" * 60, "c" * 60]) + ".com"),
      ("certificate: auto", "certificate: arn:aws:acm:ap-southeast-2:123456789012:certificate/"
                            "0f0e0d0c-0b0a-0908-0706-050403020100")),
     r"jenkins\.host: .* takes at most 128"),
    ((("- 0.0.0.0/0", "\n".join(f"    - 10.0.{i}.0/24" for i in range(31)).lstrip()),),
     r"edge\.allowed_cidrs: 31 IPv4 blocks need 62 inbound rules.*at most 30"),
    ((("- 0.0.0.0/0", "- 10.0.0.0/8\n    - 10.0.0.0/8"),), r"10\.0\.0\.0/8 is listed twice"),
    ((("mode: default-vpc", "mode: create\n  cidr: 224.0.0.0/16"),), r"network\.cidr: .*multicast"),
    ((("mode: default-vpc", "mode: create\n  cidr: 127.0.0.0/16"),), r"network\.cidr: .*loopback"),
    ((("mode: default-vpc", "mode: create\n  cidr: 169.254.0.0/16"),),
     r"network\.cidr: .*link-local"),
    ((("health_check: /", "health_check: /" + "h" * 1024),), r"apps\.web\.health_check: "),
    ((("LOG_LEVEL: info", "LOG_LEVEL: " + "x" * 33_000),),
     r"apps\.web: env and secrets take 33,\d+ bytes"),
    ((("      jenkinsfile: Jenkinsfile\n", "      jenkinsfile: Jenkinsfile\n    - name: web\n"
                                          "      repository: example-org/web\n"),),
     r"jenkins\.jobs\.1\.name: job 'web' is declared twice"),
])
def test_a_config_aws_would_refuse_is_refused_naming_the_limit(
        replacements: tuple[tuple[str, str], ...], words: str) -> None:
    assert re.search(words, refused(example_text(*replacements)))


def test_apps_are_bounded_by_the_load_balancers_security_group() -> None:
    parse_config(with_apps(limits.MAX_APPS - 1), "dockyard.yml")  # with web: exactly the most
    message = refused(with_apps(limits.MAX_APPS))
    assert f"{limits.MAX_APPS + 1} apps; at most {limits.MAX_APPS}" in message
    assert "60" in message


def test_a_template_past_cloudformations_quotas_is_a_config_error() -> None:
    # Every Secrets Manager name is a stack parameter (its ARN is looked up at deploy).
    secrets = "".join(f"      S{i}: shop/s{i}\n" for i in range(limits.MAX_SECRETS + 1))
    message = refused(example_text(("    secrets: {}", "    secrets:\n" + secrets)))
    assert f"apps.web.secrets: {limits.MAX_SECRETS + 1} secrets; at most {limits.MAX_SECRETS}" \
        in message
    secrets = "".join(f"      S{i}: shop/s{i}\n" for i in range(limits.MAX_SECRETS))
    cfg = parse_config(example_text(("    secrets: {}", "    secrets:\n" + secrets)),
                       "dockyard.yml")
    for stack in render_stacks(cfg):  # the most the config allows still fits
        assert len(stack.to_dict().get("Parameters", {})) <= limits.TEMPLATE_COUNTS["Parameters"]


def test_the_template_check_names_the_stack_and_the_quota() -> None:
    cfg = parse_config(example_text(), "dockyard.yml")
    stack = next(s for s in render_stacks(cfg) if s.key == "app-web")
    for number in range(limits.TEMPLATE_COUNTS["Outputs"] + 1):
        # past troposphere's own guard, as a future template might grow
        stack.template.outputs[f"Extra{number}"] = Output(f"Extra{number}", Value="x")
    with pytest.raises(ConfigError, match=r"acme-app-web: 2\d\d outputs; CloudFormation takes "
                                          r"200 per template") as caught:
        check_quotas(stack)
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_huge_value_is_quoted_short() -> None:
    message = refused(example_text(("name: acme", "name: " + "a" * 1_000_000)))
    first = message.splitlines()[0]
    assert len(first) < 300
    assert "1,000,000 characters" in first


@pytest.mark.parametrize(("text", "words"), [
    ("name: !!python/name:os.system x\n", "YAML tag 'tag:yaml.org,2002:python/name:os.system'"),
    ("name: !Ref acme\n", "YAML tag '!Ref'"),
    ("? [a, b]\n: 1\n", "a key must be a plain name"),
    ("a: &a [*a]\n", "a YAML alias that contains itself"),
    ("".join(f"k{i}: &a{i} x\n" for i in range(101))
     + "".join(f"r{i}: *a{i}\n" for i in range(101)), "more than 100 YAML aliases"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
               for p, c in zip("abcde", "bcdef", strict=True)),
     "expands to more than 100,000 values"),
    ("name: [unclosed\n", "invalid YAML"),
    # Deep nesting: PyYAML's composer recursed until RecursionError ("this is a bug").
    ("name: acme\na: " + "[" * 3000 + "]" * 3000 + "\n", "dockyard.yml:2: lists and mappings "
     "nested more than 64 levels deep"),
    ("a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", "dockyard.yml:1: lists and mappings"),
    ("".join(" " * i + "k:\n" for i in range(3000)) + " " * 3000 + "x: 1\n",
     f"dockyard.yml:{limits.YAML_DEPTH + 1}: lists and mappings nested"),
    ("".join(" " * i + "-\n" for i in range(3000)) + " " * 3000 + "x\n",
     f"dockyard.yml:{limits.YAML_DEPTH + 1}: lists and mappings nested"),
    ("a: " + "[" * (limits.CONFIG_BYTES - 10) + "\n", "dockyard.yml:1: lists and mappings"),
    # aliases stack levels without writing them: each line nests the one above 4 more deep
    ("a0: &a0 " + "[" * 60 + "]" * 60 + "\n"
     + "".join(f"a{i}: &a{i} [[[[*a{i - 1}]]]]\n" for i in range(1, 60)),
     "dockyard.yml:2: lists and mappings nested more than 64"),
])
def test_hostile_yaml_is_refused_before_it_costs_anything(text: str, words: str) -> None:
    assert words in refused(text)


def test_nesting_up_to_the_limit_is_read() -> None:
    # the top-level mapping and 63 lists: 64 levels, refused only as an unknown key
    text = example_text() + "extra: " + "[" * (limits.YAML_DEPTH - 1) \
        + "]" * (limits.YAML_DEPTH - 1) + "\n"
    message = refused(text)
    assert "extra: unknown key" in message and "nested" not in message


def test_only_regular_files_of_bounded_size_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)  # opening it would block until a writer comes: it must not be opened
    with pytest.raises(ConfigError, match=r"not a regular file.*named pipe"):
        load_config(fifo)
    with pytest.raises(ConfigError, match=r"not a regular file.*character device"):
        load_config(Path("/dev/zero"))
    with pytest.raises(ConfigError, match=r"not a regular file.*directory"):
        load_config(tmp_path)
    big = tmp_path / "big.yml"
    big.write_bytes(b"#" * (limits.CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="at most 1,048,576"):
        load_config(big)
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"name: acme\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"bin.yml:2: not UTF-8"):
        load_config(binary)


def test_plan_refuses_a_pipe_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)
    assert main(["plan", "--no-lint", "--config", str(fifo), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err
    assert "unexpected" not in err


def test_a_path_too_long_for_the_system_is_named_short(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """(Found by tests/cli/test_fuzz_argv.py: the error quoted a 5,000-character path whole.)"""
    assert main(["plan", "--no-lint", "--config", "x" * 5000, "--out", str(tmp_path / "o")]) == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert "cannot read it: File name too long" in line
    assert len(line) < 300 and "(5,000 characters)" in line


def test_no_error_line_carries_a_value_whole(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """(Found by tests/cli/test_fuzz_argv.py: `status <5,000 characters>` echoed them.) The
    message quotes the value short; the console cuts any line of an error in any case."""
    from dockyard.ui.console import Console

    main(["status", "x" * 5000])
    err = capsys.readouterr().err
    assert max(len(line) for line in err.splitlines()) < 400
    import sys

    console = Console(sys.stdout, sys.stderr)
    console.error("y" * 10_000 + "\nshort", hint="z" * 10_000)
    lines = capsys.readouterr().err.splitlines()
    assert [len(line) < 400 for line in lines] == [True, True, True]
    assert lines[1] == "short" and "(10,000 characters)" in lines[0]


def test_the_docs_table_names_every_limit_with_its_value() -> None:
    table = (ROOT / "docs" / "limits.md").read_text("utf-8")
    for value in (f"{limits.STORAGE_MIN_GIB}-{limits.STORAGE_MAX_GIB} GiB",
                  f"{limits.ACM_DOMAIN_CHARACTERS} characters",
                  f"{limits.HOST_HEADER_CHARACTERS} characters",
                  f"{limits.MAX_ALLOWED_CIDRS} IPv4", f"| {limits.MAX_APPS} |",
                  f"| {limits.LISTENER_RULES} |", f"| {limits.TARGET_GROUPS} |",
                  f"{limits.HEALTH_CHECK_PATH_CHARACTERS:,} characters",
                  f"{limits.ENV_BYTES:,} bytes", f"{limits.TEMPLATE_BODY_BYTES:,} bytes",
                  f"{limits.TEMPLATE_COUNTS['Parameters']} parameters",
                  f"{limits.YAML_ALIASES} |", f"{limits.YAML_NODES:,} |", "1 MiB",
                  f"| {limits.YAML_DEPTH} levels |",
                  f"{limits.PROGRESSIVE_MINUTES_MAX:,} minutes"):
        assert value in table, value


def with_canaries(count: int) -> str:
    apps = "".join(f"  app{i:03d}:\n    port: 8080\n    deploy:\n      strategy: canary\n"
                   for i in range(count))
    return example_text(("apps:\n  web:", f"apps:\n{apps}  web:"))


def test_progressive_apps_are_bounded_by_the_load_balancers_rules(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Jenkins' 7 rules (3 blocked-path rules, 2 for GitHub's 6 hook ranges, its host's and its
    # issuer's), the example's rolling web 1, each canary 2 (host and test rule).
    jenkins = len(parse_config(example_text(), "dockyard.yml").jenkins_rule_priorities())
    assert jenkins == 7
    most = (limits.LISTENER_RULES - jenkins - 1) // 2
    parse_config(with_canaries(most), "dockyard.yml")
    message = refused(with_canaries(most + 1))
    rules = jenkins + 1 + 2 * (most + 1)
    assert f"apps: the load balancer would carry {rules} listener rules" in message
    assert f"the {most + 1} progressive apps (app000, app001, app002, app003, app004 and " \
           f"{most + 1 - 5} more) have two each" in message
    assert f"takes {limits.LISTENER_RULES}" in message
    path = tmp_path / "dockyard.yml"
    path.write_text(with_canaries(most + 1))
    code = main(["plan", "--config", str(path), "--no-lint", "--out", str(tmp_path / "out")])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{rules} listener rules" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing was written"


def _jenkins_door(*, allowed: int, webhook: int) -> str:
    def blocks(count: int, second: int) -> str:
        return "[" + ", ".join(f"10.{second}.{i}.0/24" for i in range(count)) + "]"
    return example_text(("  allowed_cidrs:\n    - 203.0.113.0/24",
                         f"  allowed_cidrs: {blocks(allowed, 1)}\n"
                         f"  webhook_cidrs: {blocks(webhook, 2)}"))


def test_jenkins_door_takes_as_many_blocks_as_its_rules_hold() -> None:
    # A host rule holds 4 blocks beside its host, a webhook rule 3 beside its host and path;
    # Jenkins takes 3 of each.
    cfg = parse_config(_jenkins_door(allowed=12, webhook=9), "dockyard.yml")
    assert len(cfg.jenkins_rule_priorities()) == 3 + 3 + 3 + 1
    too_many = refused(_jenkins_door(allowed=13, webhook=1))
    assert "jenkins.allowed_cidrs: 13 blocks; Jenkins takes at most 12" in too_many
    assert "jenkins.webhook_cidrs: 10 blocks; Jenkins takes at most 9" in \
        refused(_jenkins_door(allowed=1, webhook=10))
    twice = refused(example_text(("  allowed_cidrs:\n    - 203.0.113.0/24",
                                  "  allowed_cidrs: [10.0.0.0/8, 10.0.0.0/8]")))
    assert "jenkins.allowed_cidrs" in twice and "10.0.0.0/8 is listed twice" in twice
