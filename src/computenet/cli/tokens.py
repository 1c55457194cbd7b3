"""``cnet tokens create|ls|revoke``: personal API tokens."""

from __future__ import annotations

import re

import typer

from computenet.cli.context import fmt_time, get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (fields: docs/tenancy.md).")
tokens_app = typer.Typer(
    help="Personal API tokens: scoped (read, submit, manage), expiring, revocable. "
    "Use one as CN_TOKEN with CN_SERVER_URL, or in the SDK.",
    no_args_is_help=True,
)
_AGE = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNIT_S = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age_s(text: str) -> int:
    """``30d``, ``12h``, ``90m``, ``2w``, ``3600s`` (a bare number is days)."""
    m = _AGE.match(text.strip().lower())
    if m is None or int(m.group(1)) == 0:
        raise typer.BadParameter(f"{text!r}: want a duration like 30d, 12h, 90m or 2w")
    return int(m.group(1)) * _UNIT_S[m.group(2)]


@tokens_app.command("create")
def create(
    name: str = typer.Option("token", "--name", "-n", help="A name to tell it by."),
    scope: str = typer.Option(
        None, "--scope", "-s", help="read, submit, manage, comma-separated (default: yours)."
    ),
    expires: str = typer.Option(None, "--expires", "-e", help="Lifetime: 30d, 12h, 2w."),
    as_json: bool = JSON_OPT,
) -> None:
    """Make a token and print it (shown this once; only its hash is kept).

    \b
    Examples:
      cnet tokens create --name ci --scope read,submit --expires 30d
      export CN_TOKEN=$(cnet tokens create -n dashboard -s read -e 12h)
    """
    scopes = None
    if scope is not None:
        scopes = [s.strip() for s in scope.split(",") if s.strip()]
    ttl = parse_age_s(expires) if expires is not None else None
    made = get_client().create_token(name, scopes=scopes, expires_in_s=ttl)
    if as_json:
        print_json(made)
    else:
        print(made["token"])


@tokens_app.command("ls")
def list_tokens(
    revoked: bool = typer.Option(False, "--revoked", help="Include revoked and expired ones."),
    user: str = typer.Option(None, "--user", "-u", help="Another user's, or '*' (admins)."),
    as_json: bool = JSON_OPT,
) -> None:
    """List your tokens (never their secret).

    \b
    Examples:
      cnet tokens ls
      cnet tokens ls --user '*' --json     # every token (administrators)
    """
    rows = get_client().tokens(user=user, revoked=revoked)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table()
    for col in ("id", "owner", "name", "kind", "scopes", "created", "expires", "last used", ""):
        table.add_column(col)
    for t in rows:
        note = "this one" if t["current"] else ("revoked" if t["revoked_at"] else "")
        table.add_row(
            str(t["id"]),
            t["owner"],
            t["name"],
            t["kind"],
            ",".join(t["scopes"]),
            fmt_time(t["created_at"]),
            fmt_time(t["expires_at"]) if t["expires_at"] else "never",
            fmt_time(t["last_used_at"]),
            note,
        )
    out_console().print(table)


@tokens_app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The id from cnet tokens ls."),
    as_json: bool = JSON_OPT,
) -> None:
    """Revoke a token: refused at once here, within a few seconds on other servers.

    \b
    Example:
      cnet tokens revoke 12
    """
    done = get_client().revoke_token(token_id)
    if as_json:
        print_json(done)
    else:
        print(f"token {done['id']} ({done['name']}) revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
