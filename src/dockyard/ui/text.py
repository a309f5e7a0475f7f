"""Plain-text tables: aligned columns that read the same in a terminal, a log and a diff."""

from __future__ import annotations

from collections.abc import Sequence


def columns(rows: Sequence[Sequence[str]], *, right: Sequence[int] = (), indent: int = 2,
            gap: int = 3) -> list[str]:
    """Align ``rows`` into lines; column indexes in ``right`` are right-aligned."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        lines.append((" " * indent + (" " * gap).join(cells)).rstrip())
    return lines


def money(usd: float) -> str:
    """Dollars with cents; three decimals below a cent."""
    return f"${usd:,.3f}" if 0 < usd < 0.01 else f"${usd:,.2f}"


def elapsed(seconds: float) -> str:
    """A step's duration as people read it on a clock: ``0.4s``, ``12s``, ``2m05s``, ``1h02m``."""
    if seconds < 10:
        return f"{max(seconds, 0):.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
