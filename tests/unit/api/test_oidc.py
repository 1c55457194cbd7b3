"""Sign-in with an identity provider's ID token, checked offline against a JWKS."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from computenet.clock import FakeClock
from computenet.core.runtime import Runtime
from tests.support.live import LiveServer

from .conftest import TOKEN, ClockedServer, clocked_settings

ISSUER = "https://idp.example.org/realms/hpc"
AUDIENCE = "computenet-portal"
NOW = 1_800_000_000


@pytest.fixture
def idp_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def _jwks(tmp_path: Path, *keys: Any) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.as_dict(private=False) for k in keys]}))
    return path


def _server(tmp_path: Path, jwks: str) -> ClockedServer:
    clock = FakeClock(float(NOW))
    settings = clocked_settings(
        tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=jwks
    )
    server = ClockedServer(LiveServer(Runtime(settings, clock=clock)), clock)
    with server.client(TOKEN) as admin:
        admin.add_user("alice", project="chem")
    return server


def _token(key: Any, alg: str = "RS256", **claims: Any) -> str:
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": NOW + 300,
        "iat": NOW,
        "preferred_username": "alice",
        **claims,
    }
    return jwt.encode(
        {"alg": alg, "kid": key.kid}, {k: v for k, v in body.items() if v is not None}, key
    )


def _login(server: ClockedServer, id_token: str) -> httpx2.Response:
    return httpx2.post(server.url + "/api/v1/auth/oidc", json={"id_token": id_token})


def test_a_valid_id_token_gives_a_session(tmp_path: Path, idp_key: RSAKey) -> None:
    server = _server(tmp_path, str(_jwks(tmp_path, idp_key)))
    try:
        resp = _login(server, _token(idp_key))
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["user"]["name"] == "alice" and body["user"]["token_kind"] == "session"
        with server.client(body["token"]) as alice:
            assert alice.whoami()["default_project"] == "chem"
    finally:
        server.server.stop()


def test_tokens_that_fail_a_check_are_refused(tmp_path: Path, idp_key: RSAKey) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, not the idp's
    server = _server(tmp_path, str(_jwks(tmp_path, idp_key)))
    cases = {
        "wrong issuer": _token(idp_key, iss="https://evil.example"),
        "wrong audience": _token(idp_key, aud="someone-else"),
        "expired": _token(idp_key, exp=NOW - 60),
        "no expiry": _token(idp_key, exp=None),
        "someone else's signature": _token(other),
        "unknown user": _token(idp_key, preferred_username="mallory"),
        "no user claim": _token(idp_key, preferred_username=None),
        "not a JWT": "not.a.jwt",
    }
    unsigned = _token(idp_key)
    head, payload, _ = unsigned.split(".")
    cases["signature removed"] = f"{head}.{payload}."
    try:
        for what, id_token in cases.items():
            resp = _login(server, id_token)
            assert resp.status_code in (401, 429), (what, resp.text)
            assert id_token not in resp.text
        assert _login(server, _token(idp_key)).status_code == 429  # nine failures from here
    finally:
        server.server.stop()


def test_keys_come_from_a_url_and_a_new_key_is_fetched(tmp_path: Path, idp_key: RSAKey) -> None:
    served = tmp_path / "served"
    served.mkdir()
    _jwks(served, idp_key)
    with _http(served) as url:
        server = _server(tmp_path, url + "/jwks.json")
        try:
            assert _login(server, _token(idp_key)).status_code == 201
            new = ECKey.generate_key("P-256", parameters={"kid": "k2"})
            _jwks(served, idp_key, new)  # the provider adds a key: fetched again for kid k2
            assert _login(server, _token(new, alg="ES256")).status_code == 201
        finally:
            server.server.stop()


def test_oidc_is_off_unless_configured(clocked: ClockedServer, idp_key: RSAKey) -> None:
    resp = _login(clocked, _token(idp_key))
    assert resp.status_code == 404 and "not configured" in resp.text


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def _http(root: Path) -> Iterator[str]:
    """Files of ``root`` over HTTP on loopback, as the provider's JWKS URL."""

    def handler(*args: Any) -> _Quiet:
        return _Quiet(*args, directory=str(root))

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
