"""SDK calls for reports, usage, budgets, quotas, diagnosis and clusters.

Mixed into ``Client``; each method is one REST call (docs/telemetry.md,
docs/cli.md). The web portal and the CLI both use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from computenet.client.calls import Requests


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class AccountingCalls:
    # ----- reports --------------------------------------------------------------
    def utilization(
        self: Requests, *, by: str = "cluster", since: str | None = None, until: str | None = None
    ) -> Any:
        """``{"rows": [...]}``: used and available core-hours per ``by``."""
        return self.request(
            "GET", "/reports/utilization", params=_given(by=by, since=since, until=until)
        )

    def waits(
        self: Requests, *, by: str = "cluster", since: str | None = None, until: str | None = None
    ) -> Any:
        """Queue waits (mean, p50, p95) by cluster and size, or by day."""
        return self.request("GET", "/reports/waits", params=_given(by=by, since=since, until=until))

    def diagnosis(self: Requests, job_id: int | str) -> Any:
        """Why a job ended as it did: ``{"cause", "evidence", "hint"}``."""
        return self.request("GET", f"/jobs/{quote(str(job_id), safe='')}/diagnosis")

    # ----- usage and money ---------------------------------------------------------
    def usage(self: Requests, *, project: str | None = None, month: str | None = None) -> Any:
        """A month's statement (per project, with a line per user)."""
        return self.request("GET", "/usage", params=_given(project=project, month=month))

    def sacct(
        self: Requests,
        *,
        project: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Any:
        """Per-attempt usage lines: ``{"fields": [...], "lines": ["a|b|..."]}``."""
        return self.request(
            "GET", "/usage/sacct", params=_given(project=project, since=since, until=until)
        )

    def budgets(self: Requests) -> list[Any]:
        return list(self.request("GET", "/budgets")["budgets"])

    def set_budget(
        self: Requests, project: str, amount: float, *, soft: bool = False, period: str = "month"
    ) -> Any:
        body = {"project": project, "amount": amount, "soft": soft, "period": period}
        return self.request("POST", "/budgets", json=body)

    def quotas(self: Requests) -> list[Any]:
        return list(self.request("GET", "/quotas")["quotas"])

    def set_quota(self: Requests, scope: str, name: str, **limits: Any) -> Any:
        return self.request("POST", "/quotas", json={"scope": scope, "name": name, **limits})

    # ----- clusters -------------------------------------------------------------------
    def add_cluster(self: Requests, config: Mapping[str, Any]) -> Any:
        return self.request("POST", "/clusters", json=dict(config))

    def remove_cluster(self: Requests, name: str, *, force: bool = False) -> Any:
        return self.request("DELETE", f"/clusters/{quote(name, safe='')}", params={"force": force})

    def drain_cluster(self: Requests, name: str) -> Any:
        """Place no new jobs on ``name`` (those there go on)."""
        return self.request("POST", f"/clusters/{quote(name, safe='')}/drain")

    def resume_cluster(self: Requests, name: str) -> Any:
        return self.request("POST", f"/clusters/{quote(name, safe='')}/resume")
