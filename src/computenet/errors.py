"""The project's error tree.

Every error a user can meet is a ``ComputeNetError``. Each class carries a
stable ``code`` string (the API's error code), an HTTP status and a CLI exit
code, and says whether retrying may help (``transient``). Third-party errors
are translated at the adapter boundary with ``raise ... from exc``.

    ComputeNetError
    ├── ConfigError            bad configuration file or setting
    ├── SpecError              a malformed script or option (nothing submitted)
    │   ├── UnsupportedOption  an option this cluster cannot honour
    │   └── ParameterError     application parameters out of range (details: every field)
    ├── InfeasibleError        no cluster can ever run the job
    ├── NotFoundError          unknown job, cluster, site or user
    ├── AuthError              missing or wrong token
    ├── ForbiddenError         another user's object
    ├── ConflictError          the object changed or is in the wrong state
    ├── LimitError             a request over a size or count limit
    ├── QuotaError             a budget or quota would be exceeded
    ├── RateLimitError         too many attempts (failed logins); retry after a while
    ├── ClusterError           a cluster refused or failed (transient if it may pass)
    │   └── ClusterUnavailable the cluster did not answer (transient)
    ├── TransferError          data movement failed
    │   └── IntegrityError     a checksum did not match
    ├── ImageError             a container image could not be built, found or started
    ├── StoreError             the database failed
    └── ServerError            the computenet server is unreachable or broke
"""

from __future__ import annotations

from typing import Any, ClassVar


class ComputeNetError(Exception):
    """Root of every computenet error."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    transient_default: ClassVar[bool] = False

    def __init__(self, message: str, *, transient: bool | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.transient = self.transient_default if transient is None else transient
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "transient": self.transient,
            "details": self.details,
        }


class ConfigError(ComputeNetError):
    code = "config"
    http_status = 500
    exit_code = 78


class SpecError(ComputeNetError):
    code = "invalid_spec"
    http_status = 422
    exit_code = 2


class UnsupportedOption(SpecError):
    code = "unsupported_option"


class ParameterError(SpecError):
    """Catalogue parameters that do not fit their declarations; ``details``
    holds ``fields``: one ``{"field", "message"}`` per bad field."""

    code = "invalid_parameters"


class InfeasibleError(ComputeNetError):
    code = "infeasible"
    http_status = 422
    exit_code = 3


class NotFoundError(ComputeNetError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class AuthError(ComputeNetError):
    code = "unauthorized"
    http_status = 401
    exit_code = 5


class ForbiddenError(ComputeNetError):
    code = "forbidden"
    http_status = 403
    exit_code = 5


class ConflictError(ComputeNetError):
    code = "conflict"
    http_status = 409
    exit_code = 6


class LimitError(ComputeNetError):
    code = "limit"
    http_status = 413
    exit_code = 7


class QuotaError(ComputeNetError):
    code = "quota"
    http_status = 402
    exit_code = 8


class RateLimitError(ComputeNetError):
    """``details["retry_after_s"]`` says when to try again (the API's Retry-After)."""

    code = "rate_limited"
    http_status = 429
    exit_code = 13
    transient_default = True


class ClusterError(ComputeNetError):
    code = "cluster"
    http_status = 502
    exit_code = 9


class ClusterUnavailable(ClusterError):
    code = "cluster_unavailable"
    http_status = 503
    transient_default = True


class TransferError(ComputeNetError):
    code = "transfer"
    http_status = 502
    exit_code = 10


class IntegrityError(TransferError):
    code = "integrity"


class ImageError(ComputeNetError):
    code = "image"
    http_status = 422
    exit_code = 14


class StoreError(ComputeNetError):
    code = "store"
    http_status = 503
    exit_code = 11
    transient_default = True


class ServerError(ComputeNetError):
    code = "server"
    http_status = 502
    exit_code = 12
    transient_default = True


ERRORS_BY_CODE: dict[str, type[ComputeNetError]] = {
    cls.code: cls
    for cls in (
        ComputeNetError,
        ConfigError,
        SpecError,
        UnsupportedOption,
        ParameterError,
        InfeasibleError,
        NotFoundError,
        AuthError,
        ForbiddenError,
        ConflictError,
        LimitError,
        QuotaError,
        RateLimitError,
        ClusterError,
        ClusterUnavailable,
        TransferError,
        IntegrityError,
        ImageError,
        StoreError,
        ServerError,
    )
}


def from_dict(data: dict[str, Any]) -> ComputeNetError:
    """Rebuild an error sent by the API (used by the SDK)."""
    cls = ERRORS_BY_CODE.get(str(data.get("code")), ComputeNetError)
    details = data.get("details") or {}
    return cls(str(data.get("message", "error")), transient=bool(data.get("transient")), **details)
