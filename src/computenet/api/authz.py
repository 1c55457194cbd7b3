"""Authorisation in one place: every API route's rule, and the check that applies it.

A rule is the token scope a route needs and who may act:

    public    no token needed (login)
    user      any caller with a valid token; the route returns only what they may see
    admin     a network administrator
    project   any role (manager, member, viewer) in the project the request names
    manager   a manager of the project the request names
    self      the user named in the path
    sees      who may see the object in the path: its owner, a manager or viewer
              of its project; anyone else gets 404, as for an id that does not exist
    changes   who may change it: its owner, a manager of its project; a viewer
              of the project gets 403, anyone else 404
    session   a web portal page for a signed-in browser: the page reads the
              session cookie and calls the API as that user, so every call it
              makes passes that route's own rule; no session: the login page

An administrator passes every role check; no one passes a missing scope.
Every caller with a token passes admission control first (a token bucket
per user, ``core/admission.py``): over it, 429 before any other work.
Adding a route means adding its line to ``RULES``; a route without one is
refused (403) and fails the authorisation matrix test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from computenet.core import service
from computenet.core.service import Principal
from computenet.errors import ForbiddenError, NotFoundError
from computenet.model.tenancy import Scope, ordered_scopes
from computenet.store.tables import JobRow

log = logging.getLogger("computenet.api.authz")

bearer = HTTPBearer(auto_error=False, description="computenet token (cnet prints its path)")


class Who(StrEnum):
    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"
    PROJECT = "project"
    MANAGER = "manager"
    SELF = "self"
    SEES = "sees"
    CHANGES = "changes"
    SESSION = "session"


@dataclass(frozen=True)
class Parts:
    """What a project extractor may read: path parameters, query, JSON body."""

    path: Mapping[str, Any]
    query: Mapping[str, str]
    body: Any


#: reads the project a request names; None means "no project" (see ``Rule``)
ProjectOf = Callable[[Parts], str | None]


@dataclass(frozen=True)
class Rule:
    """``project`` says where the request names its project (for ``project``
    and ``manager``); when it names none, an administrator acts on every
    project, and anyone else on their default project if ``default_project``,
    else needs to be an administrator."""

    scope: Scope | None
    who: Who
    project: ProjectOf | None = field(default=None, compare=False)
    default_project: bool = False


def path(name: str) -> ProjectOf:
    return lambda parts: parts.path.get(name)


def query(name: str) -> ProjectOf:
    return lambda parts: parts.query.get(name)


def body(name: str) -> ProjectOf:
    return lambda parts: parts.body.get(name) if isinstance(parts.body, dict) else None


def _quota_project(parts: Parts) -> str | None:
    """A project quota names its project; a user quota is the admins' alone."""
    source = parts.body if isinstance(parts.body, dict) else parts.path
    return source.get("name") if source.get("scope") == "project" else None


READ, SUBMIT, MANAGE = Scope.READ, Scope.SUBMIT, Scope.MANAGE
PUBLIC = Rule(None, Who.PUBLIC)

RULES: dict[tuple[str, str], Rule] = {
    # jobs
    ("POST", "/api/v1/jobs"): Rule(SUBMIT, Who.USER),  # + the account's role, at submission
    ("POST", "/api/v1/jobs:bulk"): Rule(SUBMIT, Who.USER),
    ("GET", "/api/v1/jobs"): Rule(READ, Who.USER),
    ("POST", "/api/v1/jobs:cancel"): Rule(SUBMIT, Who.CHANGES),
    ("GET", "/api/v1/jobs/{job_id}"): Rule(READ, Who.SEES),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Rule(SUBMIT, Who.CHANGES),
    ("GET", "/api/v1/jobs/{job_id}/events"): Rule(READ, Who.SEES),
    ("GET", "/api/v1/jobs/{job_id}/placement"): Rule(READ, Who.SEES),
    ("GET", "/api/v1/jobs/{job_id}/logs"): Rule(READ, Who.SEES),
    ("GET", "/api/v1/jobs/{job_id}/diagnosis"): Rule(READ, Who.SEES),
    # clusters
    ("GET", "/api/v1/clusters"): Rule(READ, Who.USER),
    ("POST", "/api/v1/clusters"): Rule(MANAGE, Who.ADMIN),
    ("DELETE", "/api/v1/clusters/{name}"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/capacity"): Rule(READ, Who.USER),
    ("POST", "/api/v1/bench/runs"): Rule(SUBMIT, Who.USER),  # + the account's role, as a job
    ("GET", "/api/v1/bench/runs"): Rule(READ, Who.USER),
    ("GET", "/api/v1/bench/runs/{run_id}"): Rule(READ, Who.USER),
    ("POST", "/api/v1/clusters/{name}/drain"): Rule(MANAGE, Who.ADMIN),
    ("POST", "/api/v1/clusters/{name}/resume"): Rule(MANAGE, Who.ADMIN),
    # sign-in, tokens, users
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/oidc"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): Rule(READ, Who.USER),
    ("GET", "/api/v1/whoami"): Rule(READ, Who.USER),
    ("GET", "/api/v1/tokens"): Rule(READ, Who.USER),
    ("POST", "/api/v1/tokens"): Rule(MANAGE, Who.USER),
    ("DELETE", "/api/v1/tokens/{token_id}"): Rule(MANAGE, Who.CHANGES),
    ("GET", "/api/v1/users"): Rule(READ, Who.ADMIN),
    ("POST", "/api/v1/users"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/users/{name}"): Rule(READ, Who.SELF),
    ("PATCH", "/api/v1/users/{name}"): Rule(MANAGE, Who.SELF),  # admin-only fields: admins
    ("PUT", "/api/v1/users/{name}/password"): Rule(MANAGE, Who.SELF),
    # projects, members, identities
    ("GET", "/api/v1/projects"): Rule(READ, Who.USER),
    ("POST", "/api/v1/projects"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/projects/{name}"): Rule(READ, Who.PROJECT, path("name")),
    ("PATCH", "/api/v1/projects/{name}"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/projects/{name}/members"): Rule(READ, Who.PROJECT, path("name")),
    ("PUT", "/api/v1/projects/{name}/members/{user}"): Rule(MANAGE, Who.MANAGER, path("name")),
    ("DELETE", "/api/v1/projects/{name}/members/{user}"): Rule(MANAGE, Who.MANAGER, path("name")),
    ("GET", "/api/v1/projects/{name}/identities"): Rule(READ, Who.PROJECT, path("name")),
    ("PUT", "/api/v1/projects/{name}/identities/{cluster}"): Rule(MANAGE, Who.ADMIN),
    ("DELETE", "/api/v1/projects/{name}/identities/{cluster}"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/identities"): Rule(READ, Who.ADMIN),
    # accounting
    ("GET", "/api/v1/usage"): Rule(READ, Who.PROJECT, query("project"), default_project=True),
    ("GET", "/api/v1/usage/sacct"): Rule(READ, Who.PROJECT, query("project"), default_project=True),
    ("GET", "/api/v1/budgets"): Rule(READ, Who.USER),
    ("POST", "/api/v1/budgets"): Rule(MANAGE, Who.MANAGER, body("project")),
    ("DELETE", "/api/v1/budgets/{project}"): Rule(MANAGE, Who.MANAGER, path("project")),
    ("GET", "/api/v1/quotas"): Rule(READ, Who.USER),
    ("POST", "/api/v1/quotas"): Rule(MANAGE, Who.MANAGER, _quota_project),
    ("DELETE", "/api/v1/quotas/{scope}/{name}"): Rule(MANAGE, Who.MANAGER, _quota_project),
    # reports and telemetry
    ("GET", "/api/v1/reports/utilization"): Rule(READ, Who.USER),
    ("GET", "/api/v1/reports/waits"): Rule(READ, Who.USER),
    ("GET", "/api/v1/reports/efficiency"): Rule(READ, Who.USER),
    ("GET", "/api/v1/reports/idle"): Rule(READ, Who.USER),
    ("GET", "/api/v1/reports/predictions"): Rule(READ, Who.USER),
    ("GET", "/api/v1/alerts"): Rule(READ, Who.USER),
    ("GET", "/api/v1/telemetry/export/{table}"): Rule(READ, Who.ADMIN),
    # data: sites and transfers
    ("GET", "/api/v1/sites"): Rule(READ, Who.USER),
    ("POST", "/api/v1/sites"): Rule(MANAGE, Who.ADMIN),
    ("DELETE", "/api/v1/sites/{name}"): Rule(MANAGE, Who.ADMIN),
    ("POST", "/api/v1/sites/{name}/access"): Rule(SUBMIT, Who.USER),
    ("GET", "/api/v1/sites/{name}/files"): Rule(READ, Who.USER),
    ("GET", "/api/v1/sites/{name}/files/content"): Rule(READ, Who.USER),
    ("PUT", "/api/v1/sites/{name}/files/content"): Rule(SUBMIT, Who.USER),
    ("GET", "/api/v1/transfers"): Rule(READ, Who.USER),
    ("POST", "/api/v1/transfers"): Rule(SUBMIT, Who.USER),
    ("GET", "/api/v1/transfers/{transfer_id}"): Rule(READ, Who.SEES),
    ("POST", "/api/v1/transfers/{transfer_id}/events"): Rule(SUBMIT, Who.CHANGES),
    ("POST", "/api/v1/transfers/{transfer_id}/cancel"): Rule(SUBMIT, Who.CHANGES),
    ("POST", "/api/v1/transfers/{transfer_id}/resume"): Rule(SUBMIT, Who.CHANGES),
    # application catalogue (docs/apps.md)
    ("GET", "/api/v1/apps"): Rule(READ, Who.USER),
    ("GET", "/api/v1/apps/{name}"): Rule(READ, Who.USER),
    ("POST", "/api/v1/apps/{name}/runs"): Rule(SUBMIT, Who.USER),  # + the account's role
    ("GET", "/api/v1/reports/apps"): Rule(READ, Who.USER),
    # elastic node pools (docs/bursting.md); slurmctld's resume/suspend programs
    ("GET", "/api/v1/pools"): Rule(READ, Who.USER),
    ("GET", "/api/v1/pools/events"): Rule(READ, Who.USER),
    ("POST", "/api/v1/pools/resume"): Rule(MANAGE, Who.ADMIN),
    ("POST", "/api/v1/pools/suspend"): Rule(MANAGE, Who.ADMIN),
    # container images (docs/containers.md)
    ("GET", "/api/v1/images"): Rule(READ, Who.USER),
    ("POST", "/api/v1/images"): Rule(MANAGE, Who.ADMIN),
    ("GET", "/api/v1/images/builds/{build_id}"): Rule(READ, Who.USER),
    ("DELETE", "/api/v1/images/{name}"): Rule(MANAGE, Who.ADMIN),
    # the web portal (docs/portal.md): its pages call the API routes above
    ("GET", "/"): PUBLIC,
    ("GET", "/portal"): PUBLIC,
    ("GET", "/portal/login"): PUBLIC,
    ("POST", "/portal/login"): PUBLIC,  # the login form's own CSRF cookie
    ("POST", "/portal/logout"): Rule(READ, Who.SESSION),
    ("GET", "/portal/"): Rule(READ, Who.SESSION),
    ("GET", "/portal/jobs"): Rule(READ, Who.SESSION),
    ("GET", "/portal/jobs/{job_id}"): Rule(READ, Who.SESSION),
    ("GET", "/portal/jobs/{job_id}/log"): Rule(READ, Who.SESSION),
    ("POST", "/portal/jobs/{job_id}/cancel"): Rule(SUBMIT, Who.SESSION),
    ("POST", "/portal/jobs/{job_id}/resubmit"): Rule(SUBMIT, Who.SESSION),
    ("GET", "/portal/apps"): Rule(READ, Who.SESSION),
    ("GET", "/portal/apps/{name}"): Rule(READ, Who.SESSION),
    ("POST", "/portal/apps/{name}"): Rule(SUBMIT, Who.SESSION),
    ("GET", "/portal/usage"): Rule(READ, Who.SESSION),
    ("GET", "/portal/usage.csv"): Rule(READ, Who.SESSION),
    ("GET", "/portal/capacity"): Rule(READ, Who.SESSION),
    ("GET", "/portal/admin"): Rule(READ, Who.SESSION),
    ("GET", "/portal/files"): Rule(READ, Who.SESSION),
    ("GET", "/portal/files/download"): Rule(READ, Who.SESSION),
    ("POST", "/portal/files/upload"): Rule(SUBMIT, Who.SESSION),
    ("POST", "/portal/admin/{action}"): Rule(MANAGE, Who.SESSION),
}

#: (id of an APIRoute, method) -> its rule, filled as routers are mounted
_BOUND: dict[tuple[int, str], tuple[str, Rule | None]] = {}


def bind(prefix: str, router: APIRouter) -> list[str]:
    """Attach each route's rule; returns the routes that have none (refused)."""
    missing = []
    for route in router.routes:
        methods = getattr(route, "methods", None) or ()
        full = prefix + getattr(route, "path", "")
        for method in methods:
            rule = RULES.get((method, full))
            _BOUND[(id(route), method)] = (f"{method} {full}", rule)
            if rule is None:
                missing.append(f"{method} {full}")
    for name in missing:
        log.error("route %s has no authorisation rule in api/authz.py: it is refused", name)
    return missing


@dataclass(frozen=True)
class Access:
    """The caller and the rule their request passed. For ``sees`` and
    ``changes`` rules the route hands the object to ``job``/``check``."""

    who: Principal
    rule: Rule
    project: str | None = None

    def check(self, owner: str, project: str | None, what: str) -> None:
        """Apply a ``sees``/``changes`` rule to an object of ``owner`` in
        ``project``; ``what`` is the not-found message (\"no transfer 7\")."""
        who = self.who
        if who.is_admin or owner == who.name:
            return
        if project is None or not who.sees_project(project):
            raise NotFoundError(what)
        if self.rule.who is not Who.CHANGES:
            return
        if project is not None and who.manages(project):
            return
        raise ForbiddenError(
            f"changing this needs the manager role in project {project} (or to be its "
            f"owner); you have {who.role(project or '') or 'no role'}"
        )

    def jobs(self, session: Session, text: str) -> list[JobRow]:
        """The job (or array) ``text`` names, if this rule lets the caller at it."""
        rows = service.resolve_ids(session, text)
        for row in rows:
            if self.rule.who is Who.CHANGES:
                service.may_change(row, self.who, text)
            else:
                service.visible(row, self.who, text)
        return rows

    def job(self, session: Session, text: str) -> JobRow:
        return self.jobs(session, text)[0]

    def need_admin(self, what: str) -> None:
        """A refinement of the route's rule for one parameter value."""
        if not self.who.is_admin:
            raise ForbiddenError(f"{what} needs a network administrator")


async def authorize_page(request: Request) -> None:
    """A portal page passes if it has a rule: ``public`` pages are for anyone,
    ``session`` pages authenticate through the API calls they make."""
    name, rule = _route_rule(request)
    if rule is None:
        raise ForbiddenError(f"{name} has no authorisation rule; it is refused")
    if rule.who not in (Who.PUBLIC, Who.SESSION):
        raise ForbiddenError(f"{name}: a portal page's rule is public or session")


def _route_rule(request: Request) -> tuple[str, Rule | None]:
    route = request.scope.get("route")
    return _BOUND.get((id(route), request.method), (f"{request.method} {request.url.path}", None))


async def _parts(request: Request) -> Parts:
    data: Any = None
    if request.method in ("POST", "PUT", "PATCH"):
        try:
            data = await request.json()
        except ValueError:
            data = None
    return Parts(request.path_params, request.query_params, data)


async def authorize(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Access:
    """Authenticate the caller and apply the route's rule (``ForbiddenError``
    naming the missing scope or role, ``AuthError`` for a bad token)."""
    name, rule = _route_rule(request)
    if rule is None:
        raise ForbiddenError(f"{name} has no authorisation rule; it is refused")
    if rule.who is Who.PUBLIC:
        return Access(Principal("", scopes=frozenset()), rule)
    runtime = request.app.state.runtime
    who: Principal = runtime.tenancy.principal(creds.credentials if creds else None)
    if not who.is_admin or runtime.settings.request_limit_admins:
        # Before any of the route's work: a refused request costs no query.
        runtime.admission.admit(who.name)
    if rule.scope is not None and rule.scope.value not in who.scopes:
        have = ", ".join(ordered_scopes(who.scopes)) or "none"
        raise ForbiddenError(
            f"{name} needs a token with the {rule.scope.value} scope; this one has: {have}"
        )
    if rule.who is Who.ADMIN:
        if not who.is_admin:
            raise ForbiddenError(f"{name} needs a network administrator")
    elif rule.who is Who.SELF:
        target = request.path_params.get("name")
        if target != who.name and not who.is_admin:
            raise ForbiddenError(f"only {target} or a network administrator may do this")
    elif rule.who in (Who.PROJECT, Who.MANAGER):
        project = rule.project(await _parts(request)) if rule.project is not None else None
        if project is None and rule.default_project and not who.is_admin:
            project = who.project
        _check_project(who, rule, project, name)
        return Access(who, rule, project)
    return Access(who, rule)


def _check_project(who: Principal, rule: Rule, project: str | None, name: str) -> None:
    if who.is_admin:
        return
    if project is None:
        raise ForbiddenError(f"{name} needs a network administrator")
    role = who.role(project)
    if rule.who is Who.MANAGER and role != "manager":
        raise ForbiddenError(
            f"this needs the manager role in project {project}; you have {role or 'no role'}"
        )
    if role is None:
        raise ForbiddenError(f"you are not in project {project}")
