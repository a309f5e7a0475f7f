"""cfn-lint, used as a library, on the rendered templates: AWS's own resource schemas, offline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockyard.templates.stack import template_json

_SEVERITY = {"E": "error", "W": "warning", "I": "info"}


@dataclass(frozen=True)
class Finding:
    """One cfn-lint finding in one stack's template."""

    stack: str
    rule: str
    severity: str
    line: int
    message: str

    @property
    def is_error(self) -> bool:
        """Whether the finding fails validation (cfn-lint's E rules)."""
        return self.severity == "error"


def lint_templates(bodies: dict[str, dict[str, Any]], region: str,
                   on_progress: Callable[[str], None] = lambda _: None) -> list[Finding]:
    """Lint each stack's template for ``region`` with one cfn-lint set-up (its rules and
    schemas load once, most of its cost); line numbers refer to the JSON written to disk."""
    # cfn-lint takes a few hundred milliseconds to import: only commands that lint pay for it.
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner

    runner = Runner(ConfigMixIn(regions=[region]))
    findings: list[Finding] = []
    for stack, body in bodies.items():
        on_progress(f"validating {stack} with cfn-lint")
        template, errors = decode_str(template_json(body))
        matches = errors if errors or template is None else runner.validate_template(template)
        findings += [Finding(stack=stack, rule=m.rule.id,
                             severity=_SEVERITY.get(m.rule.id[:1], "error"),
                             line=int(m.linenumber), message=str(m.message)) for m in matches]
    return findings
