from __future__ import annotations

import pytest

from computenet.errors import AuthError, ForbiddenError
from computenet.transfer import tokens

SECRET = b"k" * 32


def test_good_token_passes_with_its_scope() -> None:
    tok = tokens.mint(SECRET, expires_at=2000, scope="rw")
    assert tokens.check(SECRET, tok, now=1000, need_write=True) == "rw"


def test_expired_token_is_refused() -> None:
    tok = tokens.mint(SECRET, expires_at=2000)
    with pytest.raises(AuthError, match="expired"):
        tokens.check(SECRET, tok, now=2000, need_write=False)


def test_wrong_or_tampered_token_is_refused() -> None:
    tok = tokens.mint(SECRET, expires_at=2000, scope="r")
    with pytest.raises(AuthError):
        tokens.check(b"x" * 32, tok, now=1000, need_write=False)
    forged = tok.replace(".r.", ".rw.")  # widen the scope without the secret
    with pytest.raises(AuthError):
        tokens.check(SECRET, forged, now=1000, need_write=True)
    with pytest.raises(AuthError):
        tokens.check(SECRET, "", now=1000, need_write=False)


def test_read_only_token_cannot_write() -> None:
    tok = tokens.mint(SECRET, expires_at=2000, scope="r")
    assert tokens.check(SECRET, tok, now=1000, need_write=False) == "r"
    with pytest.raises(ForbiddenError):
        tokens.check(SECRET, tok, now=1000, need_write=True)
