"""Every rendered template passes cfn-lint with no errors and checkov with no failed check.

A checkov suppression lives only in the resource's Metadata, with its reason, and must be
needed: a suppression of a check that passes anyway is reported as stale.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dockyard.planning.lint import Finding, lint_templates
from dockyard.templates import render_stacks
from dockyard.templates.stack import template_json
from tests.conftest import REPO, VARIANTS, example_config


def _rendered() -> dict[str, dict[str, Any]]:
    """Every stack of every variant, as ``variant/stack-name`` -> template."""
    return {f"{variant}/{stack.name}": stack.to_dict()
            for variant, replacements in VARIANTS.items()
            for stack in render_stacks(example_config(*replacements))}


@pytest.fixture(scope="module")
def linted() -> dict[str, list[Finding]]:
    """Every rendered template linted by one cfn-lint set-up, as ``plan`` does."""
    found: dict[str, list[Finding]] = {name: [] for name in _rendered()}
    for finding in lint_templates(_rendered(), "ap-southeast-2"):
        found[finding.stack].append(finding)
    return found


@pytest.mark.parametrize("name", sorted(_rendered()))
def test_cfn_lint_finds_nothing(name: str, linted: dict[str, list[Finding]]) -> None:
    findings = linted[name]
    assert findings == [], "\n".join(f"{f.rule} line {f.line}: {f.message}" for f in findings)


def test_cfn_lint_reports_a_broken_template_as_an_error_of_that_stack() -> None:
    rendered = _rendered()
    broken = json.loads(json.dumps(rendered["example/acme-edge"]))
    broken["Resources"]["HttpsListener"]["Properties"]["Prot"] = 443
    findings = lint_templates({"acme-builder": rendered["example/acme-builder"],
                               "acme-edge": broken,
                               "acme-jenkins": rendered["example/acme-jenkins"]},
                              "ap-southeast-2")
    assert findings and all(f.stack == "acme-edge" for f in findings), findings
    assert any(f.is_error and "Prot" in f.message for f in findings), findings
    lines = template_json(broken).splitlines()
    assert any('"Prot"' in lines[f.line - 1] or "HttpsListener" in lines[f.line - 1]
               for f in findings), "line numbers point into the JSON written to disk"


def _checkov() -> str:
    for candidate in (os.environ.get("DOCKYARD_CHECKOV"), str(REPO / ".venv-tools/bin/checkov"),
                      shutil.which("checkov")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("checkov not found: `make test` installs it into .venv-tools "
                "(or set DOCKYARD_CHECKOV)")


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("templates")
    for name, template in _rendered().items():
        (folder / name.replace("/", "__")).with_suffix(".json").write_text(json.dumps(template))
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_GUIDE": "TRUE",
           "PRISMA_API_URL": "", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(
        [_checkov(), "-d", str(folder), "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.stdout.strip(), done.stderr[-2000:]
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


@pytest.mark.slow
def test_checkov_has_no_failed_check(checkov_report: list[dict[str, Any]]) -> None:
    summary = checkov_report[0]["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 40
    assert summary["passed"] > 100
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})"
              for r in checkov_report for c in r["results"]["failed_checks"]]
    assert failed == []


@pytest.mark.slow
def test_every_suppression_has_a_reason_and_is_needed(
        checkov_report: list[dict[str, Any]]) -> None:
    declared: set[tuple[str, str, str]] = set()
    for name, template in _rendered().items():
        for logical, resource in template["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert len(skip.get("comment", "")) > 20, f"{name} {logical}: give the reason"
                declared.add((name.replace("/", "__") + ".json", logical, skip["id"]))
    used = {(Path(c["file_path"]).name, c["resource"].split(".")[-1], c["check_id"])
            for r in checkov_report for c in r["results"]["skipped_checks"]}
    assert declared, "expected some justified suppressions"
    assert declared - used == set(), "suppressions of checks that pass anyway"
