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
