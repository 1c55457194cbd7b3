"""The authorisation matrix: every API route of the app times every kind of caller.

Routes come from ``app.routes`` (so a route added later is in it), each
one's rule from ``api.authz.RULES`` (a route without one fails). What each
caller must get follows from the rule's kind by the table in ``expected``,
written here independently of the code that enforces it. Routes with a
sample request below are also checked to work for the callers allowed;
others only to pass or refuse authorisation as their rule says.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from fastapi.routing import iter_route_contexts

from computenet.api.app import API_PREFIX
from computenet.api.authz import RULES
from computenet.client import Client
from computenet.errors import NotFoundError

from .conftest import TOKEN, ClockedServer

PASSWORD = "matrix password 1"
INVALID = ("none", "malformed", "unknown", "expired", "revoked")
VALID = ("read_only", "viewer", "member", "peer", "other", "manager", "admin")
CALLERS = INVALID + VALID
#: who each valid caller is: alice is the member (and owns the read-only token and
#: the objects in the paths); mia is another member of her project, bob in another
USERS = {
    "read_only": "alice",
    "viewer": "vic",
    "member": "alice",
    "peer": "mia",
    "other": "bob",
    "manager": "carol",
    "admin": "admin",
}
OK = 0  # a 2xx answer
_n = itertools.count(1)


def expected(who: str, scope: str | None, caller: str) -> int:
    """What a caller gets from a route whose rule is (who, scope), samples aside."""
    if who == "public":
        return OK
    if caller in INVALID:
        return 401
    if caller == "read_only":
        if scope != "read":
            return 403
        caller = "member"
    allowed: dict[str, dict[str, int]] = {
        "user": {},
        "admin": {c: 403 for c in ("viewer", "member", "peer", "other", "manager")},
        "project": {"other": 403},
        "manager": {"viewer": 403, "member": 403, "peer": 403, "other": 403},
        "self": {"viewer": 403, "peer": 403, "other": 403, "manager": 403},
        "sees": {"peer": 404, "other": 404},
        "changes": {"viewer": 403, "peer": 404, "other": 404},
    }
    return allowed[who].get(caller, OK)


@dataclass
class World:
    server: ClockedServer
    tokens: dict[str, str]
    ids: dict[str, Any]

    def admin(self) -> Client:
        return self.server.client(TOKEN)

    def as_user(self, caller: str) -> Client:
        return self.server.client(self.tokens[caller])


@dataclass
class Sample:
    """A request that works for the callers the rule allows. ``setup`` runs
    before each call and may return path values or a body; ``expect``
    overrides ``expected`` for some callers (by role, after read_only maps)."""

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    setup: Callable[[World], dict[str, Any]] | None = None
    expect: dict[str, int] = field(default_factory=dict)
    fresh_token: bool = False


def _new_user_body(_: World) -> dict[str, Any]:
    return {"body": {"name": f"new{next(_n)}", "project": "chem"}}


def _new_token(w: World) -> dict[str, Any]:
    made = w.as_user("member").create_token(f"t{next(_n)}")
    return {"path": {"token_id": str(made["id"])}}


def _new_cluster_body(_: World) -> dict[str, Any]:
    part = {"name": "p", "nodes": 1, "cores": 2, "default": True}
    return {"body": {"name": f"extra{next(_n)}", "kind": "fake", "partitions": [part]}}


def _added_cluster(w: World) -> dict[str, Any]:
    body = _new_cluster_body(w)["body"]
    w.admin().post("/clusters", body)
    return {"path": {"name": body["name"]}}


def _new_project_body(_: World) -> dict[str, Any]:
    return {"body": {"name": f"proj{next(_n)}"}}


def _new_site_body(w: World) -> dict[str, Any]:
    return {"body": {"name": f"site{next(_n)}", "kind": "path", "config": {"root": "/tmp"}}}


def _added_site(w: World) -> dict[str, Any]:
    body = _new_site_body(w)["body"]
    w.admin().post("/sites", body)
    return {"path": {"name": body["name"]}}


def _dave_in_chem(w: World) -> dict[str, Any]:
    w.admin().add_member("chem", "dave", "member")
    return {}


def _identity(w: World) -> dict[str, Any]:
    w.admin().set_identity("chem", "beta", user="chem01")
    return {}


def _budget(w: World) -> dict[str, Any]:
    w.admin().post("/budgets", {"project": "chem", "amount": 50.0})
    return {}


def _quota(w: World) -> dict[str, Any]:
    w.admin().post("/quotas", {"scope": "project", "name": "chem", "max_running_cpus": 64})
    return {}


def _clear_identity(w: World) -> None:
    with contextlib.suppress(NotFoundError):  # already gone is fine
        w.admin().remove_identity("chem", "beta")


CHEM_JOB = ["--wrap", "true", "--hold", "--account", "chem"]
SUBMITTERS = {"viewer": 403, "other": 403}  # --account chem: members and managers only

SAMPLES: dict[tuple[str, str], Sample] = {
    ("GET", "/images"): Sample(),
    ("POST", "/jobs"): Sample(body={"options": CHEM_JOB}, expect=SUBMITTERS),
    ("POST", "/jobs:bulk"): Sample(body={"jobs": [{"options": CHEM_JOB}]}, expect=SUBMITTERS),
    ("GET", "/jobs"): Sample(query={"all": True}),
    ("POST", "/jobs:cancel"): Sample(setup=lambda w: {"body": {"ids": [str(w.ids["held"])]}}),
    ("GET", "/jobs/{job_id}"): Sample(),
    ("POST", "/jobs/{job_id}/cancel"): Sample(setup=lambda w: {"path": {"job_id": w.ids["held"]}}),
    ("GET", "/jobs/{job_id}/events"): Sample(),
    ("GET", "/jobs/{job_id}/placement"): Sample(),
    ("GET", "/jobs/{job_id}/logs"): Sample(),
    ("GET", "/jobs/{job_id}/diagnosis"): Sample(),
    ("GET", "/clusters"): Sample(),
    ("POST", "/clusters"): Sample(setup=_new_cluster_body),
    ("DELETE", "/clusters/{name}"): Sample(setup=_added_cluster),
    ("POST", "/auth/login"): Sample(body={"username": "alice", "password": PASSWORD}),
    ("POST", "/auth/logout"): Sample(fresh_token=True),
    ("GET", "/whoami"): Sample(),
    ("GET", "/tokens"): Sample(),
    ("POST", "/tokens"): Sample(body={"name": "made"}),
    # a token has no project: only its owner (alice) and admins reach it
    ("DELETE", "/tokens/{token_id}"): Sample(
        setup=_new_token, expect={"manager": 404, "viewer": 404, "peer": 404}
    ),
    ("GET", "/users"): Sample(),
    ("POST", "/users"): Sample(setup=_new_user_body),
    ("GET", "/users/{name}"): Sample(path={"name": "alice"}),
    ("PATCH", "/users/{name}"): Sample(path={"name": "alice"}, body={"display_name": "Alice"}),
    ("PUT", "/users/{name}/password"): Sample(
        path={"name": "alice"}, body={"password": PASSWORD, "current_password": PASSWORD}
    ),
    ("GET", "/projects"): Sample(),
    ("POST", "/projects"): Sample(setup=_new_project_body),
    ("GET", "/projects/{name}"): Sample(),
    ("PATCH", "/projects/{name}"): Sample(body={"description": "chemistry"}),
    ("GET", "/projects/{name}/members"): Sample(),
    ("PUT", "/projects/{name}/members/{user}"): Sample(
        path={"user": "dave"}, body={"role": "member"}
    ),
    ("DELETE", "/projects/{name}/members/{user}"): Sample(
        path={"user": "dave"}, setup=_dave_in_chem
    ),
    ("GET", "/projects/{name}/identities"): Sample(),
    ("PUT", "/projects/{name}/identities/{cluster}"): Sample(body={"user": "chem01"}),
    ("DELETE", "/projects/{name}/identities/{cluster}"): Sample(setup=_identity),
    ("GET", "/identities"): Sample(),
    ("GET", "/usage"): Sample(query={"project": "chem"}),
    ("GET", "/usage/sacct"): Sample(query={"project": "chem"}),
    ("GET", "/budgets"): Sample(),
    ("POST", "/budgets"): Sample(body={"project": "chem", "amount": 100.0}),
    ("DELETE", "/budgets/{project}"): Sample(setup=_budget),
    ("GET", "/quotas"): Sample(),
    ("POST", "/quotas"): Sample(body={"scope": "project", "name": "chem", "max_running_cpus": 128}),
    ("DELETE", "/quotas/{scope}/{name}"): Sample(setup=_quota),
    ("GET", "/reports/utilization"): Sample(),
    ("GET", "/reports/waits"): Sample(),
    ("GET", "/reports/efficiency"): Sample(),
    ("GET", "/reports/idle"): Sample(),
    ("GET", "/reports/predictions"): Sample(),
    ("GET", "/alerts"): Sample(),
    ("GET", "/telemetry/export/{table}"): Sample(),
    ("GET", "/sites"): Sample(),
    ("POST", "/sites"): Sample(setup=_new_site_body),
    ("DELETE", "/sites/{name}"): Sample(setup=_added_site),
    ("POST", "/sites/{name}/access"): Sample(path={"name": "scratch"}),
    ("GET", "/transfers"): Sample(),
    ("POST", "/transfers"): Sample(body={"source": "scratch:/a", "dest": "local:/tmp/b"}),
    ("GET", "/transfers/{transfer_id}"): Sample(),
    ("POST", "/transfers/{transfer_id}/events"): Sample(body={"state": "running"}),
}

#: the rule each route has today (kind, scope): a change here is a decision, made on purpose
PINNED = {
    ("GET", "/images"): ("user", "read"),
    ("POST", "/images"): ("admin", "manage"),
    ("GET", "/images/builds/{build_id}"): ("user", "read"),
    ("DELETE", "/images/{name}"): ("admin", "manage"),
    ("POST", "/clusters"): ("admin", "manage"),
    ("DELETE", "/clusters/{name}"): ("admin", "manage"),
    ("POST", "/users"): ("admin", "manage"),
    ("GET", "/users"): ("admin", "read"),
    ("PATCH", "/projects/{name}"): ("admin", "manage"),
    ("POST", "/projects"): ("admin", "manage"),
    ("PUT", "/projects/{name}/identities/{cluster}"): ("admin", "manage"),
    ("POST", "/budgets"): ("manager", "manage"),
    ("POST", "/quotas"): ("manager", "manage"),
    ("PUT", "/projects/{name}/members/{user}"): ("manager", "manage"),
    ("GET", "/jobs/{job_id}"): ("sees", "read"),
    ("GET", "/jobs/{job_id}/logs"): ("sees", "read"),
    ("POST", "/jobs/{job_id}/cancel"): ("changes", "submit"),
    ("POST", "/jobs"): ("user", "submit"),
    ("GET", "/usage"): ("project", "read"),
    ("GET", "/transfers/{transfer_id}"): ("sees", "read"),
    ("GET", "/telemetry/export/{table}"): ("admin", "read"),
    ("POST", "/auth/login"): ("public", None),
}


def build_world(server: ClockedServer) -> World:
    admin = server.client(TOKEN)
    admin.add_project("chem")
    admin.add_project("phys")
    tokens = {"admin": TOKEN}
    for name, project, role in (
        ("alice", "chem", "member"),
        ("vic", "chem", "viewer"),
        ("carol", "chem", "manager"),
        ("mia", "chem", "member"),
        ("bob", "phys", "member"),
        ("dave", "phys", "member"),
    ):
        made = admin.add_user(name, project=project, role=role, password=PASSWORD)
        tokens[name] = made["token"]
    by_user = dict(tokens)
    for caller, user in USERS.items():
        tokens[caller] = by_user[user]
    alice = server.client(tokens["member"])
    tokens["read_only"] = alice.create_token("ro", scopes=["read"])["token"]
    tokens["expired"] = alice.create_token("old", expires_in_s=60)["token"]
    gone = alice.create_token("gone")
    alice.revoke_token(gone["id"])
    tokens["revoked"] = gone["token"]
    tokens["unknown"] = "cn_" + "u" * 43
    running = alice.submit(options=["--wrap", "sleep 1000", "--time=30"])
    held = alice.submit(options=["--wrap", "true", "--hold"])
    admin.post("/sites", {"name": "scratch", "kind": "path", "config": {"root": "/tmp"}})
    transfer = alice.post("/transfers", {"source": "scratch:/x", "dest": "local:/tmp/y"})
    import time

    deadline = time.monotonic() + 20
    while alice.job(running["id"])["cluster"] is None:  # placed: it has a placement
        assert time.monotonic() < deadline, "the running job was never placed"
        time.sleep(0.05)
    server.clock.advance(61)  # the "old" token has expired
    ids = {"running": running["id"], "held": held["id"], "transfer": transfer["id"]}
    return World(server, tokens, ids)


DEFAULTS = {
    "job_id": lambda w: w.ids["running"],
    "transfer_id": lambda w: w.ids["transfer"],
    "name": lambda w: "chem",
    "project": lambda w: "chem",
    "user": lambda w: "alice",
    "cluster": lambda w: "beta",
    "scope": lambda w: "project",
    "table": lambda w: "usage_records",
    "token_id": lambda w: 1,
    "run_id": lambda w: 1,
    "build_id": lambda w: "0123456789ab",
}


def _headers(world: World, caller: str, sample: Sample | None) -> dict[str, str]:
    if caller == "none":
        return {}
    if caller == "malformed":
        return {"Authorization": "Token " + world.tokens["member"]}
    token = world.tokens[caller]
    if sample is not None and sample.fresh_token and caller in VALID:
        scopes = ["read"] if caller == "read_only" else None
        owner = world.as_user("member" if caller == "read_only" else caller)
        token = owner.create_token(f"fresh{next(_n)}", scopes=scopes)["token"]
    return {"Authorization": f"Bearer {token}"}


def _call(
    http: httpx2.Client, world: World, method: str, path: str, caller: str
) -> tuple[int, str]:
    sample = SAMPLES.get((method, path))
    values: dict[str, Any] = dict(sample.path) if sample else {}
    body = sample.body if sample else {}
    query = dict(sample.query) if sample else {}
    if sample is not None and sample.setup is not None:
        extra = sample.setup(world)
        values.update(extra.get("path", {}))
        body = extra.get("body", body)
    url = path
    for name in _params(path):
        value = values.get(name)
        if value is None:
            assert name in DEFAULTS, f"{method} {path}: add a value for {{{name}}} to DEFAULTS"
            value = DEFAULTS[name](world)
        url = url.replace("{" + name + "}", str(value))
    headers = _headers(world, caller, sample)
    resp = http.request(
        method,
        API_PREFIX + url,
        params=query,
        json=body if method in ("POST", "PUT", "PATCH") else None,
        headers=headers,
    )
    if path.endswith("/identities/{cluster}") and method == "PUT":
        _clear_identity(world)
    return resp.status_code, resp.text[:300]


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def test_every_route_times_every_caller(clocked: ClockedServer) -> None:
    world = build_world(clocked)
    app = clocked.server.server.config.app
    routes = sorted(
        (method, rc.path.removeprefix(API_PREFIX))
        for rc in iter_route_contexts(app.routes)
        if (rc.path or "").startswith(API_PREFIX + "/")
        for method in rc.methods or ()
    )
    assert len(routes) >= len(SAMPLES)
    failures: list[str] = []
    cells = 0
    with httpx2.Client(base_url=clocked.url, timeout=30) as http:
        for method, path in routes:
            rule = RULES.get((method, API_PREFIX + path))
            if rule is None:
                failures.append(f"{method} {path}: no rule in api/authz.py RULES")
                continue
            who, scope = rule.who.value, rule.scope.value if rule.scope else None
            pinned = PINNED.get((method, path))
            if pinned is not None and pinned != (who, scope):
                failures.append(f"{method} {path}: rule is {(who, scope)}, pinned {pinned}")
            sample = SAMPLES.get((method, path))
            for caller in CALLERS:
                want = expected(who, scope, caller)
                if sample is not None and caller in VALID:
                    role = "member" if caller == "read_only" and want == OK else caller
                    want = sample.expect.get(role, want)
                status, text = _call(http, world, method, path, caller)
                cells += 1
                if want == OK:
                    good = 200 <= status < 300 if sample is not None else status not in (401, 403)
                else:
                    good = status == want
                if not good:
                    shown = "2xx" if want == OK else want
                    failures.append(f"{method} {path} as {caller}: {status}, want {shown}: {text}")
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)
    untested = sorted(f"{m} {p}" for m, p in routes if (m, p) not in SAMPLES)
    print(f"{cells} cells over {len(routes)} routes; without a sample: {untested or 'none'}")
