"""Sign-in with a site's identity provider: an OpenID Connect ID token for a session.

The browser dance (authorization code flow, its redirect and state) belongs
to the portal or the site's login page; the server's part is to check the ID
token it is handed: signed by a key of the issuer's JWKS (RS256 or ES256,
never ``none``), ``iss`` the configured issuer, ``aud`` holding the
configured client id, not expired. The user is the one named by
``oidc_username_claim`` (``preferred_username``), who must exist and be
enabled: the identity provider says who someone is, the network's
projects and roles still say what they may do.

The JWKS is a file or an https URL (fetched, kept ten minutes, fetched again
for a key id it has not seen). JOSE comes from joserfc (the JOSE library of
the authlib project).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from computenet.config import Settings
from computenet.errors import AuthError, ConfigError, NotFoundError

ALGORITHMS = ["RS256", "ES256"]
JWKS_TTL_S = 600.0
LEEWAY_S = 30

_cache: dict[str, tuple[Any, float]] = {}


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks)


def _key_set(source: str, *, refresh: bool = False) -> Any:
    from joserfc.jwk import KeySet

    hit = _cache.get(source)
    if hit is not None and not refresh and time.monotonic() - hit[1] < JWKS_TTL_S:
        return hit[0]
    try:
        if source.startswith(("https://", "http://")):
            import httpx2

            data = httpx2.get(source, timeout=10.0).raise_for_status().json()
        else:
            data = json.loads(Path(source).expanduser().read_text())
        keys = KeySet.import_key_set(data)
    except Exception as exc:  # OSError, bad JSON, httpx2's and joserfc's own errors
        raise ConfigError(f"cannot read the identity provider's keys from {source}: {exc}") from exc
    _cache[source] = (keys, time.monotonic())
    return keys


def username(settings: Settings, id_token: str, now: float) -> str:
    """The user an ID token names, or ``AuthError`` (the message names the
    check that failed, never the token). ``NotFoundError`` when OIDC is off."""
    if not configured(settings):
        raise NotFoundError("sign-in through an identity provider is not configured")
    from joserfc import jwt
    from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError

    issuer, audience, source = settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks
    assert issuer is not None and audience is not None and source is not None
    try:
        try:
            token = jwt.decode(id_token, _key_set(source), algorithms=ALGORITHMS)
        except (MissingKeyError, InvalidKeyIdError):
            keys = _key_set(source, refresh=True)  # rotated: a new key id
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )
        registry.validate(token.claims)
    except JoseError as exc:
        raise AuthError(f"the identity provider's token was refused: {exc.error}") from None
    except ValueError:
        raise AuthError("the identity provider's token was refused: not a JWT") from None
    name = token.claims.get(settings.oidc_username_claim)
    if not isinstance(name, str) or not name:
        raise AuthError(f"the identity provider's token has no {settings.oidc_username_claim}")
    return name
