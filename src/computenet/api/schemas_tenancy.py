"""Request models of the tenancy API: strict, no extra fields, bounded sizes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from computenet.model.tenancy import NAME_PATTERN, UNIX_USER_PATTERN, USER_PATTERN
from computenet.store.users import MAX_PASSWORD_CHARS

Text = Field(None, max_length=256)
MAX_TOKEN_TTL_S = 10 * 366 * 86400
CLUSTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
ClusterName = Annotated[str, StringConstraints(pattern=CLUSTER_PATTERN)]
_PARTITION_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def _partition_ref(value: str) -> str:
    if not _PARTITION_REF.fullmatch(value):
        raise ValueError(f"{value[:80]!r} is not CLUSTER:PARTITION")
    return value


#: "cluster:partition"
PartitionRef = Annotated[str, StringConstraints(max_length=128), AfterValidator(_partition_ref)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class LoginRequest(Strict):
    # The name is not pattern-checked: an odd name must get the same answer
    # as a wrong password, not a different error.
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class OidcLoginRequest(Strict):
    id_token: str = Field(min_length=1, max_length=16384)


class UserCreate(Strict):
    name: str = Field(pattern=USER_PATTERN)
    #: the user's default project (made if it does not exist)
    project: str = Field("default", pattern=NAME_PATTERN)
    is_admin: bool = False
    display_name: str | None = Text
    email: str | None = Text
    password: str | None = Field(None, max_length=MAX_PASSWORD_CHARS)
    role: Literal["manager", "member", "viewer"] = "member"


class UserPatch(Strict):
    display_name: str | None = Text
    email: str | None = Text
    default_project: str | None = Field(None, pattern=NAME_PATTERN)
    is_admin: bool | None = None  # administrators only
    disabled: bool | None = None  # administrators only


class PasswordSet(Strict):
    password: str = Field(max_length=MAX_PASSWORD_CHARS)
    #: needed when users change their own password and already have one
    current_password: str | None = Field(None, max_length=MAX_PASSWORD_CHARS)


class TokenCreate(Strict):
    name: str = Field("token", pattern=NAME_PATTERN)
    #: default: the scopes of the token that asks (never more)
    scopes: list[Literal["read", "submit", "manage"]] | None = Field(
        None, min_length=1, max_length=3
    )
    expires_in_s: int | None = Field(None, ge=60, le=MAX_TOKEN_TTL_S)


class ProjectCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=4096)
    clusters: list[ClusterName] = Field(default_factory=list, max_length=1000)
    partitions: list[PartitionRef] = Field(default_factory=list, max_length=1000)


class ProjectPatch(Strict):
    description: str | None = Field(None, max_length=4096)
    clusters: list[ClusterName] | None = Field(None, max_length=1000)
    partitions: list[PartitionRef] | None = Field(None, max_length=1000)


class MemberSet(Strict):
    role: Literal["manager", "member", "viewer"] = "member"


class IdentitySet(Strict):
    user: str | None = Field(None, pattern=UNIX_USER_PATTERN)
    ssh_key: str | None = Field(None, min_length=1, max_length=4096)
