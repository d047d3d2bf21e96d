"""Encoded queries (``sysparm_query``) for the ServiceNow fake, the simple kind pysnc
builds from ``add_query(field, value)`` and ``order_by``: ``field=value`` conditions
joined by ``^`` (AND), and ``ORDERBY<field>`` / ``ORDERBYDESC<field>`` terms.

As documented for the Table API, a condition on a field the table does not have is
dropped and the rest of the query still selects rows (unless the instance sets
``glide.invalid_query.returns_no_rows``), so a misspelt field returns every record.
Operators other than ``=`` are not modelled: such a query is refused loudly (a test
that needs one extends this module).
https://docs.servicenow.com/bundle/geneva-servicenow-platform/page/integrate/inbound_rest/reference/r_TableAPI-GET.html
https://docs.servicenow.com/bundle/latest/page/use/using-lists/concept/c_EncodedQueryStrings.html
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any


def select(rows: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    conditions: list[tuple[str, str]] = []
    order: list[tuple[str, bool]] = []  # (field, descending)
    for term in filter(None, query.split("^")):
        if term.startswith("ORDERBYDESC"):
            order.append((term[len("ORDERBYDESC") :], True))
        elif term.startswith("ORDERBY"):
            order.append((term[len("ORDERBY") :], False))
        elif re.fullmatch(r"[a-z0-9_.]+=.*", term):
            name, _, value = term.partition("=")
            conditions.append((name, value))
        else:  # another operator (!=, LIKE, IN, >=...), or an OR (^OR, ^NQ)
            raise ValueError(f"the ServiceNow fake does not model the query term {term!r}")
    known = set(rows[0]) if rows else set()
    valid = [(n, v) for n, v in conditions if n in known]  # the instance drops the rest
    out = [r for r in rows if all(str(r.get(n, "")) == v for n, v in valid)]
    for name, descending in reversed(order):  # stable sorts: the first term wins
        if name in known:
            out.sort(key=partial(_text, name), reverse=descending)
    return out


def _text(name: str, row: dict[str, Any]) -> str:
    return str(row.get(name, ""))
