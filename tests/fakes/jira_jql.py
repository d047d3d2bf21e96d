"""The Jira fake's JQL search (``/rest/api/3/search/jql``): the small part of JQL that
idpsync sends, evaluated the way Jira Cloud documents it.

* Parameters ``jql``, ``maxResults`` (default 50), ``fields``, ``nextPageToken``; only
  ``id`` comes back for each issue unless ``fields`` asks for more (``*all``: every field).
* The answer is ``{"issues": [...], "isLast": bool}``, with ``nextPageToken`` only when a
  page follows (Jira leaves the key out on the last page, JRACLOUD-92184).
* ``reporter = currentUser()``: issues the calling account reported (Jira makes the caller
  the reporter of an issue it creates unless the request names another).
* A query with no restriction is unbounded: 400. A field Jira does not know, or a
  project that does not exist (or that the user cannot browse): 400 naming it.
* ``GET /rest/api/3/field`` lists the fields (system ones here) with the ``clauseNames``
  JQL knows them by; the client reads it once to translate field names in searches.
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
https://jira.atlassian.com/browse/JRACLOUD-92184
"""

from __future__ import annotations

import re
from typing import Any

SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
_SYSTEM_FIELDS = (
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("labels", "Labels", "array"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("status", "Status", "status"),
    ("created", "Created", "datetime"),
    ("attachment", "Attachment", "array"),
    ("comment", "Comment", "comments-page"),
    ("reporter", "Reporter", "user"),
)
FIELDS = [
    {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [fid],
        "schema": {"type": kind, "system": fid},
    }
    for fid, name, kind in _SYSTEM_FIELDS
]
_CLAUSE = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|(\S+))')
_ORDER = re.compile(r"\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


# The fake has one account (the API token's); ``currentUser()`` is it
# (https://support.atlassian.com/jira-software-cloud/docs/jql-functions/#currentUser--).
ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"


def _matches(issue: dict[str, Any], field: str, value: str) -> bool:
    fields = issue["fields"]
    if field == "reporter":
        want = ACCOUNT_ID if value.lower() == "currentuser()" else value
        return bool((fields.get("reporter") or {}).get("accountId") == want)
    if field == "project":
        return bool(fields["project"]["key"] == value)
    if field == "labels":
        return value in fields["labels"]
    return bool(issue["key"] == value)  # field == "key"


def _parse(jql: str, projects: tuple[str, ...]) -> tuple[list[tuple[str, str]], bool] | str:
    """(clauses, newest first), or the error message Jira would give."""
    newest_first = False
    order = _ORDER.search(jql)
    if order is not None:
        if order.group(1).lower() != "created":
            return f"Not able to sort using field '{order.group(1)}'."
        newest_first = (order.group(2) or "ASC").upper() == "DESC"
        jql = jql[: order.start()]
    clauses: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in re.split(r"\s+AND\s+", jql, flags=re.I))):
        m = _CLAUSE.fullmatch(part)
        if m is None:
            return f"Error in the JQL Query: cannot parse '{part}'."
        field = m.group(1).lower()
        if field not in ("project", "labels", "key", "reporter"):
            return f"Field '{m.group(1)}' does not exist or you do not have permission to view it."
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if field == "project" and value not in projects:
            return f"The value '{value}' does not exist for the field 'project'."
        clauses.append((field, value))
    if not clauses:
        return UNBOUNDED
    return clauses, newest_first


def _shown(issue: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": issue["id"]}
    wanted = [f for f in fields if f and f not in ("id", "-id")]
    if wanted:
        every = "*all" in wanted or "*navigable" in wanted
        out["key"], out["self"] = issue["key"], issue["self"]
        out["fields"] = {
            k: _public(k, v) for k, v in issue["fields"].items() if every or k in wanted
        }
    return out


def _public(name: str, value: Any) -> Any:
    if name != "attachment":
        return value
    return [{k: v for k, v in a.items() if k != "_data"} for a in value]


def jql_search(
    issues: dict[str, dict[str, Any]], projects: tuple[str, ...], params: dict[str, Any]
) -> tuple[int, Any]:
    parsed = _parse(str(params.get("jql") or ""), projects)
    if isinstance(parsed, str):
        return 400, {"errorMessages": [parsed], "errors": {}}
    clauses, newest_first = parsed
    found = [i for i in issues.values() if all(_matches(i, f, v) for f, v in clauses)]
    found.sort(key=lambda i: int(i["id"]), reverse=newest_first)  # ids grow with creation
    start = int(params.get("nextPageToken") or 0)
    size = max(1, min(int(params.get("maxResults") or 50), 5000))
    fields = params.get("fields") or []
    fields = fields.split(",") if isinstance(fields, str) else list(fields)
    page = [_shown(i, fields) for i in found[start : start + size]]
    answer: dict[str, Any] = {"issues": page, "isLast": start + size >= len(found)}
    if not answer["isLast"]:
        answer["nextPageToken"] = str(start + size)
    return 200, answer
