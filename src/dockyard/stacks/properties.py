"""Property-level differences between a stack's deployed template and the one ``up`` would
deploy: what ``dockyard diff`` shows under each modified resource, as Terraform and ecspresso
show attribute changes (``HealthCheckPath: "/" -> "/healthz"``).

The comparison is of template text: a property set from a parameter shows as the same
``{"Ref": ...}`` on both sides, so parameter values are compared separately, from the live
stack's parameters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from dockyard.rules import clipped

MOST = 20  # changes listed per resource; the rest are counted
SHOWN = 120  # characters of one value
_PLAIN = re.compile(r"[\w.:/@+-]{1,120}")


@dataclass(frozen=True)
class PropertyChange:
    """One property (``Port``, ``Tags[1].Value``) and its value before and after."""

    path: str
    before: str
    after: str

    def document(self) -> dict[str, str]:
        return {"path": self.path, "before": self.before, "after": self.after}


def _text(value: Any) -> str:
    """A value as the diff shows it: a plain word or number bare, anything else as JSON, cut
    to a readable length."""
    if value is _MISSING:
        return "(none)"
    if isinstance(value, str | int | float) and not isinstance(value, bool) and \
            _PLAIN.fullmatch(str(value)):
        return str(value)
    return clipped(json.dumps(value, sort_keys=True), SHOWN)


_MISSING = object()


def _walk(path: str, before: Any, after: Any, found: list[PropertyChange]) -> None:
    if isinstance(before, dict) and isinstance(after, dict) and not (
            set(before) & {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If"}):
        for key in sorted(set(before) | set(after)):
            _walk(f"{path}.{key}" if path else key, before.get(key, _MISSING),
                  after.get(key, _MISSING), found)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            _walk(f"{path}[{index}]", old, new, found)
    elif before != after:
        found.append(PropertyChange(path, _text(before), _text(after)))


def resource_changes(deployed: dict[str, Any], wanted: dict[str, Any],
                     logical_id: str) -> list[PropertyChange]:
    """How ``logical_id``'s properties differ between two templates (both parsed)."""
    old = deployed.get("Resources", {}).get(logical_id, {}).get("Properties", {})
    new = wanted.get("Resources", {}).get(logical_id, {}).get("Properties", {})
    found: list[PropertyChange] = []
    _walk("", old, new, found)
    return found


def parameter_changes(deployed: dict[str, str], wanted: dict[str, str]) -> list[PropertyChange]:
    """Parameters whose value would change (an image digest, an adopted file system)."""
    return [PropertyChange(name, _text(deployed.get(name, _MISSING)),
                           _text(wanted.get(name, _MISSING)))
            for name in sorted(set(deployed) | set(wanted))
            if deployed.get(name) != wanted.get(name)]
