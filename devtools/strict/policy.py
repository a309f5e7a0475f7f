"""IAM policy evaluation, as AWS documents it, for the emulator's strict profile.

Follows the IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements":
- an explicit Deny in any policy wins; otherwise an Allow that matches the action, the
  resource and every condition allows; otherwise the request is implicitly denied;
- actions match case-insensitively, with ``*`` and ``?`` wildcards ("Action" element);
- resources match case-sensitively, with ``*`` and ``?`` wildcards that may span ``/`` and
  ``:`` ("Resource" element, "Wildcards in resource ARNs");
- conditions: every operator of a block must hold (AND), any value of an operator may match
  (OR); a key missing from the request context makes the operator false, except the ``Not``
  operators and ``...IfExists`` ("Condition element", "Condition operators").

Identity-based policies are evaluated for what a session may do, and a role's trust policy
for who may assume it (:func:`trusts`: the ``Principal`` element must name the caller, "AWS
JSON policy elements: Principal"); other resource policies, permission boundaries, SCPs and
session policies are not (dockyard's roles use none of them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Context = Mapping[str, str | list[str]]


@dataclass(frozen=True)
class Decision:
    """The answer for one action on one resource: allowed, and why (a statement id or
    "implicit deny")."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, normalised to lists."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sid: str = ""
    principals: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def matches(self, action: str, resource: str, context: Context) -> bool:
        """Whether the statement applies to this request."""
        if self.actions and not any(_action_match(p, action) for p in self.actions):
            return False
        if self.not_actions and any(_action_match(p, action) for p in self.not_actions):
            return False
        if self.resources and not any(_resource_match(p, resource) for p in self.resources):
            return False
        if self.not_resources and any(_resource_match(p, resource) for p in self.not_resources):
            return False
        return all(_condition(op, values, context) for op, values in self.conditions.items())


def statements(document: str | Mapping[str, Any]) -> list[Statement]:
    """The statements of a policy document (JSON text or a parsed dict)."""
    doc = json.loads(document) if isinstance(document, str) else document
    raw = doc.get("Statement", [])
    found = []
    for s in raw if isinstance(raw, list) else [raw]:
        found.append(Statement(
            effect=str(s.get("Effect", "")), actions=_strings(s.get("Action")),
            not_actions=_strings(s.get("NotAction")), resources=_strings(s.get("Resource")),
            not_resources=_strings(s.get("NotResource")),
            conditions={op: {k: list(_strings(v)) for k, v in block.items()}
                        for op, block in (s.get("Condition") or {}).items()},
            sid=str(s.get("Sid", "")), principals=_principals(s.get("Principal"))))
    return found


def _principals(value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if value == "*":
        return {"AWS": ("*",)}
    return {str(kind): _strings(names) for kind, names in dict(value).items()}


def trusts(policies: Iterable[Statement], kind: str, principal: str, action: str,
           context: Context) -> Decision:
    """Whether a role's trust policy lets ``principal`` (of ``kind``: ``Federated``,
    ``Service``, ``AWS``) perform ``action`` on it: as :func:`evaluate`, counting only the
    statements whose ``Principal`` names the caller (IAM User Guide, "Policy evaluation logic":
    a role trust policy is a resource-based policy, and the trust policy must allow the
    caller)."""
    named = [statement for statement in policies
             if any(_resource_match(p, principal) or p == "*"
                    for p in statement.principals.get(kind, ()))]
    return evaluate(named, action, "*", context)


def evaluate(policies: Iterable[Statement], action: str, resource: str,
             context: Context) -> Decision:
    """Allow or deny ``action`` on ``resource`` (IAM User Guide, "Policy evaluation logic")."""
    allowed_by = None
    for statement in policies:
        if not statement.matches(action, resource, context):
            continue
        if statement.effect == "Deny":
            return Decision(False, f"explicit deny in statement {statement.sid or '(no Sid)'}")
        if statement.effect == "Allow" and allowed_by is None:
            allowed_by = statement.sid or "(no Sid)"
    if allowed_by is not None:
        return Decision(True, f"allowed by statement {allowed_by}")
    return Decision(False, "no identity-based policy allows it")


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    # IAM wildcards: '*' any run of characters (including '/' and ':'), '?' one character.
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, 0 if case else re.IGNORECASE) is not None


def _action_match(pattern: str, action: str) -> bool:
    return _glob(pattern, action, case=False)


def _resource_match(pattern: str, resource: str) -> bool:
    return pattern == "*" or _glob(pattern, resource, case=True)


def _arn_like(pattern: str, arn: str) -> bool:
    # ArnLike/ArnEquals compare the six colon-separated parts, each with wildcards.
    p, a = pattern.split(":", 5), arn.split(":", 5)
    return len(p) == len(a) == 6 and all(_glob(x, y, case=True) for x, y in zip(p, a, strict=True))


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda want, have: want == have,
    "StringEqualsIgnoreCase": lambda want, have: want.lower() == have.lower(),
    "StringLike": lambda want, have: _glob(want, have, case=True),
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda want, have: want.lower() == have.lower(),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
            "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase"}


def _condition(operator: str, block: dict[str, list[str]], context: Context) -> bool:
    if_exists = operator.endswith("IfExists")
    name = operator.removesuffix("IfExists")
    quantifier = ""
    if ":" in name:  # ForAnyValue:StringEquals / ForAllValues:StringLike
        quantifier, name = name.split(":", 1)
    for key, wanted in block.items():
        if name == "Null":
            present = key in context
            if present == (wanted[0].lower() == "true"):
                return False
            continue
        if key not in context:
            if if_exists or name in _NEGATED:
                continue
            return False
        raw = context[key]
        values = raw if isinstance(raw, list) else [raw]
        base = _NEGATED.get(name, name)
        test = _OPERATORS.get(base)
        if test is None:
            raise ValueError(f"the strict emulator does not evaluate condition operator "
                             f"{operator} (add it with its IAM User Guide reference)")
        if quantifier == "ForAllValues":
            hit = all(any(test(w, v) for w in wanted) for v in values)
        else:
            hit = any(test(w, v) for w in wanted for v in values)
        if hit == (name in _NEGATED):
            return False
    return True


def matches_any(patterns: Iterable[str], value: str) -> bool:
    """Whether any IAM-style resource pattern matches ``value`` (for tests and messages)."""
    return any(_resource_match(p, value) for p in patterns)


