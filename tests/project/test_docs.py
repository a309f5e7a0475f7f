"""The documents name only commands and options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockyard.cli import cli

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "docs" / "walkthrough.md",
        REPO / "examples" / "web" / "README.md"]


def _command_lines() -> list[tuple[str, str]]:
    """Every `dockyard ...` line inside a sh block of the documents."""
    found = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(), flags=re.S):
            for raw in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"^.*?\$\(|\)$|#.*$", "", raw.strip()).strip()
                if line.startswith("dockyard ") or "/dockyard " in line.split(" ", 1)[0] + " ":
                    found.append((doc.name, line))
    return found


COMMANDS = _command_lines()


def test_the_documents_show_commands() -> None:
    assert len(COMMANDS) > 20
    assert {"walkthrough.md", "README.md"} <= {doc for doc, _ in COMMANDS}


@pytest.mark.parametrize(("doc", "line"), COMMANDS, ids=[f"{d}:{c[:40]}" for d, c in COMMANDS])
def test_every_documented_command_and_option_exists(doc: str, line: str) -> None:
    words = shlex.split(line.replace('"$IMAGE"', "IMG").replace("$IMAGE", "IMG"))
    words[0] = "dockyard"
    path: list[str] = []
    group = cli
    for word in words[1:]:
        sub = getattr(group, "commands", {}).get(word)
        if sub is None:
            break
        path.append(word)
        group = sub
    if not path:
        assert words[1:] and all(w.startswith("-") for w in words[1:]), \
            f"{doc}: no such command in {line!r}"
    helped = CliRunner().invoke(cli, [*path, "--help"])
    assert helped.exit_code == 0, helped.output
    for option in (w.split("=")[0] for w in words if w.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helped.output), \
            f"{doc}: {line!r}: {option} is not an option of dockyard {' '.join(path)}"


def test_starter_example_and_docs_describe_the_github_secret_as_the_code_reads_it() -> None:
    """Every place that shows the GitHub secret's JSON names each key `up` checks for: the
    App's (``"private_key"``) or the personal token's (``"username"``)."""
    from dockyard.config.models import GitHub
    from dockyard.stacks.platform import github_secret_keys

    forms = {'"private_key"': github_secret_keys(GitHub(credentials_secret="acme/github",
                                                         app_id="42")),
             '"username"': github_secret_keys(GitHub(credentials_secret="acme/github"))}
    assert forms == {'"private_key"': ["private_key", "webhook_secret"],
                     '"username"': ["username", "token", "webhook_secret"]}
    places = [REPO / "src" / "dockyard" / "config" / "starter.yml",
              REPO / "examples" / "web" / "dockyard.yml",
              REPO / "examples" / "django" / "dockyard.yml", *DOCS]
    seen = {form: 0 for form in forms}
    for path in places:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for form, keys in forms.items():
                if form in line:
                    seen[form] += 1
                    for key in keys:
                        assert f'"{key}"' in line, f"{path.name}:{number} leaves out {key}"
    assert seen['"private_key"'] >= 5 and seen['"username"'] >= 3, seen


def test_the_security_models_identity_table_is_what_the_templates_grant() -> None:
    """README, "Security model": the table of every role is the rendered example's, so it
    cannot claim less than the policies allow (regenerate it from planning/identities.py)."""
    from dockyard.planning.identities import identities, markdown_table
    from dockyard.templates import render_stacks
    from tests.conftest import example_config

    text = (REPO / "README.md").read_text()
    table = text.split("tests/project/test_docs.py -->\n", 1)[1].split(
        "<!-- identities: end -->", 1)[0]
    rendered = {s.name: s.to_dict() for s in render_stacks(example_config())}
    assert table == markdown_table(identities(rendered))
    assert "acme-pipeline-untrusted" in table and "Jenkins tokens of web/main" in table
