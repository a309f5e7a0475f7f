"""cfn-lint, used as a library, on the rendered templates: AWS's own resource schemas, offline."""

from __future__ import annotations

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


def lint_template(stack: str, body: dict[str, Any], region: str) -> list[Finding]:
    """Lint one template for ``region``; line numbers refer to the JSON written to disk."""
    # cfn-lint takes a few hundred milliseconds to import: only commands that lint pay for it.
    import cfnlint.api

    matches = cfnlint.api.lint(template_json(body), regions=[region])
    return [Finding(stack=stack, rule=m.rule.id, severity=_SEVERITY.get(m.rule.id[:1], "error"),
                    line=int(m.linenumber), message=str(m.message)) for m in matches]
