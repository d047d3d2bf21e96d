"""ServiceNow change requests through ``pysnc`` (Table API and Attachment API).

* Open: ``POST /api/now/table/change_request`` (``short_description``, ``description``,
  ``type``, optional ``assignment_group``); the three plan files go to
  ``POST /api/now/attachment/file?table_name=change_request&table_sys_id=...``.
* Approval: the record's ``approval`` field: ``approved`` applies, ``rejected`` rejects;
  ``not requested`` / ``requested`` wait. Who approves is the change model's business.
* Find (a run died after the insert): every change carries the plan checksum in
  ``correlation_id`` (the task field for "this record's identifier in the system that
  created it", with ``correlation_display`` naming that system); a Table API query
  ``sysparm_query=correlation_id=<checksum>`` reads the database, so a change inserted a
  moment ago is found. The instance ignores an unknown field in a query (and returns
  every row), so each row's ``correlation_id`` is checked again.
* Outcome: a ``work_notes`` journal entry; after a successful apply the change moves to
  ``state=0`` (Review) with ``close_code=successful``, for the change manager to close.

The password (or token) of ``user`` comes from ``token_env``/``token_file``.
https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_TableAPI.html
https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_AttachmentAPI.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from pysnc import ServiceNowClient
from pysnc.exceptions import AuthenticationException, RoleException

from agent.tickets.base import Approval, PlanPacket, TicketBackend, TicketError, TicketRef
from agent.tickets.config import ServiceNowConfig

T = TypeVar("T")
TABLE = "change_request"
FIND_LIMIT = 5  # rows read when looking for a plan's change (one, unless duplicated)


class ServiceNowBackend(TicketBackend):
    def __init__(
        self, config: ServiceNowConfig, token: str, *, client: ServiceNowClient | None = None
    ) -> None:
        super().__init__(config.name)
        self.config = config
        self._token = token
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            client = self._guard(
                "connecting",
                lambda: ServiceNowClient(
                    self.config.instance,
                    (self.config.user, self._token),
                    verify=self.config.ca_bundle or True,
                    auto_retry=False,  # the next poll or interval is the retry
                ),
            )
            if self.config.ca_bundle:
                _pin_ca_bundle(client.session, self.config.ca_bundle)
            self._client = client
        return self._client

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AuthenticationException:
            raise TicketError(f"ServiceNow {what}: HTTP 401 (check user and token_env)") from None
        except RoleException:
            raise TicketError(f"ServiceNow {what}: HTTP 403 (the user lacks a role)") from None
        except requests.RequestException as exc:
            raise TicketError(f"ServiceNow {what}: {type(exc).__name__}: {exc}"[:300]) from None
        except Exception as exc:  # pysnc raises its own exceptions with the JSON error
            raise TicketError(f"ServiceNow {what}: {type(exc).__name__}: {exc}"[:300]) from None

    def _record(self, ref: TicketRef) -> Any:
        record = self.client.GlideRecord(TABLE)
        if not self._guard(f"reading {ref.key}", lambda: record.get(ref.key)):
            raise TicketError(f"ServiceNow: change_request {ref.key} not found")
        return record

    def _url(self, sys_id: str) -> str:
        return f"{self.config.instance.rstrip('/')}/change_request.do?sys_id={sys_id}"

    def open(self, packet: PlanPacket) -> TicketRef:
        record = self.client.GlideRecord(TABLE)
        record.initialize()
        record.short_description = packet.title[:160]
        record.description = packet.summary
        record.type = self.config.change_type
        if self.config.assignment_group:
            record.assignment_group = self.config.assignment_group
        record.correlation_id = packet.checksum  # what find() looks for
        record.correlation_display = "idpsync"
        sys_id = str(self._guard("creating the change request", record.insert))
        for name, data in packet.files.items():
            kind = "application/json" if name.endswith(".json") else "text/plain"
            self._guard(
                f"attaching {name}",
                lambda n=name, d=data, k=kind: record.add_attachment(n, d, k),  # type: ignore[misc]
            )
        return TicketRef(key=sys_id, url=self._url(sys_id))

    def find(self, checksum: str) -> TicketRef | None:
        record = self.client.GlideRecord(TABLE)
        record.add_query("correlation_id", checksum)
        # Only a change the integration user opened is adopted: anyone who can open one
        # could copy the correlation ID.
        record.add_query("sys_created_by", self.config.user)
        record.order_by("sys_created_on")  # the first change opened for the plan
        record.limit = FIND_LIMIT
        self._guard("looking for the plan's change request", record.query)
        while record.next():
            ours = str(record.get_value("sys_created_by") or "") == self.config.user
            if ours and str(record.get_value("correlation_id") or "") == checksum:
                sys_id = str(record.get_value("sys_id"))
                return TicketRef(key=sys_id, url=self._url(sys_id))
        return None

    def comment(self, ref: TicketRef, text: str) -> None:
        record = self._record(ref)
        record.work_notes = text
        self._guard(f"adding a work note to {ref.key}", record.update)

    def approval(self, ref: TicketRef) -> Approval:
        value = str(self._record(ref).get_value("approval") or "")
        if value == "approved":
            return Approval.APPROVED
        if value == "rejected":
            return Approval.REJECTED
        return Approval.PENDING

    def close(self, ref: TicketRef, applied: bool) -> None:
        if not applied:
            return
        record = self._record(ref)
        record.state = "0"
        record.close_code = "successful"
        record.close_notes = "Applied by idpsync; see the work notes for the run and rollback."
        self._guard(f"moving {ref.key} to Review", record.update)


def _pin_ca_bundle(session: requests.Session, ca_bundle: str) -> None:
    """pysnc merges the environment into every request, and requests then lets
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace ``Session.verify``: the configured
    ``ca_bundle`` would be silently ignored on hosts that set those variables."""
    merge = session.merge_environment_settings

    def pinned(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = merge(url, proxies, stream, verify, cert)
        settings["verify"] = ca_bundle
        return settings

    session.merge_environment_settings = pinned  # type: ignore[method-assign]
