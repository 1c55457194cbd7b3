"""SDK calls for sign-in, tokens, users, projects, members and identities.

Mixed into ``Client``; each method is one REST call (docs/tenancy.md).
``login`` swaps the client's token for the new session token, ``logout``
revokes the client's token and leaves it without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote


class _Requests(Protocol):
    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any: ...

    def set_token(self, token: str | None) -> None: ...


def _q(part: str) -> str:
    return quote(part, safe="")


class TenancyCalls:
    # ----- signing in --------------------------------------------------------
    def login(self: _Requests, username: str, password: str) -> Any:
        """Sign in with a password; the client then uses the session token.
        Returns ``{"token", "expires_at", "user"}``."""
        body = self.request(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        self.set_token(body["token"])
        return body

    def logout(self: _Requests) -> Any:
        """Revoke this client's token (a session, or a personal token)."""
        body = self.request("POST", "/auth/logout")
        self.set_token(None)
        return body

    def whoami(self: _Requests) -> Any:
        return self.request("GET", "/whoami")

    # ----- tokens --------------------------------------------------------------
    def tokens(self: _Requests, *, user: str | None = None, revoked: bool = False) -> list[Any]:
        params: dict[str, Any] = {"revoked": revoked}
        if user is not None:
            params["user"] = user
        return list(self.request("GET", "/tokens", params=params)["tokens"])

    def create_token(
        self: _Requests,
        name: str = "token",
        *,
        scopes: Sequence[str] | None = None,
        expires_in_s: int | None = None,
    ) -> Any:
        """A new personal token: the answer's ``token`` is shown this once."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if expires_in_s is not None:
            body["expires_in_s"] = expires_in_s
        return self.request("POST", "/tokens", json=body)

    def revoke_token(self: _Requests, token_id: int) -> Any:
        return self.request("DELETE", f"/tokens/{int(token_id)}")

    # ----- users ---------------------------------------------------------------
    def users(self: _Requests) -> list[Any]:
        return list(self.request("GET", "/users")["users"])

    def add_user(self: _Requests, name: str, *, project: str = "default", **fields: Any) -> Any:
        """Fields: is_admin, display_name, email, password, role (in ``project``)."""
        return self.request("POST", "/users", json={"name": name, "project": project, **fields})

    def user(self: _Requests, name: str) -> Any:
        return self.request("GET", f"/users/{_q(name)}")

    def set_user(self: _Requests, name: str, **fields: Any) -> Any:
        """Fields: display_name, email, default_project; admins: is_admin, disabled."""
        return self.request("PATCH", f"/users/{_q(name)}", json=fields)

    def set_password(
        self: _Requests, name: str, password: str, *, current_password: str | None = None
    ) -> Any:
        body = {"password": password}
        if current_password is not None:
            body["current_password"] = current_password
        return self.request("PUT", f"/users/{_q(name)}/password", json=body)

    # ----- projects --------------------------------------------------------------
    def projects(self: _Requests) -> list[Any]:
        return list(self.request("GET", "/projects")["projects"])

    def add_project(
        self: _Requests,
        name: str,
        *,
        description: str | None = None,
        clusters: Sequence[str] = (),
        partitions: Sequence[str] = (),
    ) -> Any:
        body = {
            "name": name,
            "description": description,
            "clusters": list(clusters),
            "partitions": list(partitions),
        }
        return self.request("POST", "/projects", json=body)

    def project(self: _Requests, name: str) -> Any:
        return self.request("GET", f"/projects/{_q(name)}")

    def set_project(self: _Requests, name: str, **fields: Any) -> Any:
        """Fields: description, clusters, partitions (``cluster:partition``)."""
        return self.request("PATCH", f"/projects/{_q(name)}", json=fields)

    def members(self: _Requests, project: str) -> list[Any]:
        return list(self.request("GET", f"/projects/{_q(project)}/members")["members"])

    def add_member(self: _Requests, project: str, user: str, role: str = "member") -> Any:
        """Add ``user`` with ``role`` (manager, member, viewer), or change their role."""
        path = f"/projects/{_q(project)}/members/{_q(user)}"
        return self.request("PUT", path, json={"role": role})

    def remove_member(self: _Requests, project: str, user: str) -> Any:
        return self.request("DELETE", f"/projects/{_q(project)}/members/{_q(user)}")

    # ----- cluster identities ------------------------------------------------------
    def identities(self: _Requests, project: str | None = None) -> list[Any]:
        path = f"/projects/{_q(project)}/identities" if project else "/identities"
        return list(self.request("GET", path)["identities"])

    def set_identity(
        self: _Requests,
        project: str,
        cluster: str,
        *,
        user: str | None = None,
        ssh_key: str | None = None,
    ) -> Any:
        path = f"/projects/{_q(project)}/identities/{_q(cluster)}"
        return self.request("PUT", path, json={"user": user, "ssh_key": ssh_key})

    def remove_identity(self: _Requests, project: str, cluster: str) -> Any:
        return self.request("DELETE", f"/projects/{_q(project)}/identities/{_q(cluster)}")
