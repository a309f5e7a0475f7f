"""How a plan reads: a text summary for people, one JSON document for programs."""

from __future__ import annotations

from typing import Any

from dockyard.planning.lint import Finding
from dockyard.planning.plan import Plan
from dockyard.ui.text import columns, money


def plan_text(plan: Plan) -> str:
    """The plan summary as text (stdout)."""
    lines = [f"dockyard plan: {plan.project} in {plan.region}, network {plan.network_mode}, "
             f"from {plan.source}", ""]
    lines.append(f"Stacks ({len(plan.stacks)}), templates in {plan.out_dir}/")
    lines += columns([(s.name, f"{s.resources} resources", _highlights(s.resource_types))
                      for s in plan.stacks], right=(1,))
    if plan.jenkins_config:
        lines.append(f"  Jenkins configuration as code: {plan.jenkins_config}")
    lines += ["", "Endpoints"]
    lines += columns([(e.name, e.url) for e in plan.endpoints])
    lines += ["", "Open to whom"]
    lines += columns([(x.target, x.ports, f"from {x.source}" if x.ports != "none" else "",
                       x.note) for x in plan.exposures])
    lines += ["", "Who reaches which path (the load balancer's rules, first match wins)"]
    lines += columns([(d.host, d.paths, f"from {d.source}", d.answer) for d in plan.doors])
    lines.append("  GitHub's hook ranges (jenkins.webhook_cidrs) change now and then; compare "
                 "them with `curl -s https://api.github.com/meta | jq .hooks`.")
    lines += ["", "Who may do what (every role; the JSON output lists each one's actions)"]
    lines += columns([(i.role, i.granted_to, i.purpose) for i in plan.identities])
    lines.append("  Jenkins agents have no task role: a build reaches AWS only as its own token's "
                 "role (README, \"Security model\").")
    lines += ["", "Monthly cost estimate, always-on parts"]
    rows = [(c.item, c.detail, money(c.monthly_usd)) for c in plan.cost.lines]
    rows.append(("Total", "", money(plan.cost.total_usd)))
    lines += columns(rows, right=(2,))
    build = plan.cost.build_example
    lines.append(f"  Builds are paid per use: {build.detail} costs about "
                 f"{money(build.monthly_usd)}.")
    lines += [f"  Each {deploy.item.removeprefix('one ')} runs {deploy.detail}: about "
              f"{money(deploy.monthly_usd)} a deploy (its test rule adds to the load "
              "balancer's rule evaluations: the first 10 a request meets are free)."
              for deploy in plan.cost.deploy_examples]
    lines += [f"  {note}" for note in plan.cost.notes]
    lines += ["", _validation_line(plan)]
    return "\n".join(lines)


def _highlights(types: dict[str, int]) -> str:
    short = {t.split("::", 2)[-1].replace("::", " "): n for t, n in types.items()}
    top = sorted(short.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    return ", ".join(f"{n} {name}" if n > 1 else name for name, n in top)


def _validation_line(plan: Plan) -> str:
    if not plan.linted:
        return (f"cfn-lint: not run (--no-lint) on the {len(plan.stacks)} templates; "
                "dockyard.yml was checked against every AWS limit dockyard knows.")
    errors = len(plan.errors)
    others = len(plan.findings) - errors
    result = "no errors" if not errors else f"{errors} error{'s' * (errors != 1)}"
    if others:
        result += f", {others} warning{'s' * (others != 1)}"
    return f"cfn-lint: {len(plan.stacks)} templates checked, {result}."


def finding_line(finding: Finding, plan: Plan) -> str:
    """One finding as ``file:line: RULE message``."""
    stack = next((s for s in plan.stacks if s.name == finding.stack), None)
    where = stack.path if stack else finding.stack
    return f"{where}:{finding.line}: {finding.rule} {finding.message}"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as one JSON document (stdout with ``--output json``)."""
    return {
        "project": plan.project,
        "region": plan.region,
        "source": plan.source,
        "network_mode": plan.network_mode,
        "valid": not plan.errors,
        "linted": plan.linted,
        "out_dir": str(plan.out_dir),
        "stacks": [{"name": s.name, "key": s.key, "resources": s.resources,
                    "resource_types": s.resource_types, "parameters": s.parameters,
                    "template": str(s.path)} for s in plan.stacks],
        "endpoints": {e.name: e.url for e in plan.endpoints},
        "exposure": [{"target": x.target, "ports": x.ports, "source": x.source, "note": x.note}
                     for x in plan.exposures],
        "doors": [{"host": d.host, "paths": d.paths, "source": d.source, "answer": d.answer,
                   "priority": d.priority} for d in plan.doors],
        "identities": [{"role": i.role, "purpose": i.purpose, "granted_to": i.granted_to,
                        "actions": list(i.actions), "scope": list(i.scope)}
                       for i in plan.identities],
        "cost": {
            "currency": "USD",
            "monthly_total": plan.cost.total_usd,
            "lines": [{"item": c.item, "detail": c.detail, "monthly": c.monthly_usd}
                      for c in plan.cost.lines],
            "per_build_example": {"detail": plan.cost.build_example.detail,
                                  "cost": plan.cost.build_example.monthly_usd},
            "per_deploy_examples": [{"item": d.item, "detail": d.detail, "cost": d.monthly_usd}
                                    for d in plan.cost.deploy_examples],
            "notes": plan.cost.notes,
        },
        "findings": [{"stack": f.stack, "rule": f.rule, "severity": f.severity, "line": f.line,
                      "message": f.message} for f in plan.findings],
        "removed_templates": [str(p) for p in plan.removed],
        "jenkins_config": str(plan.jenkins_config) if plan.jenkins_config else None,
    }
