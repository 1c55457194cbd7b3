"""``cnet whoami`` and ``cnet users add|ls|show|set|disable|enable|passwd``."""

from __future__ import annotations

import sys
from typing import Any

import typer

from computenet.cli.context import get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (fields: docs/tenancy.md).")
users_app = typer.Typer(
    help="Users of this network: administrators add and change them; users set "
    "their own password, display name and default project.",
    no_args_is_help=True,
)


def _roles(user: dict[str, Any]) -> str:
    return ", ".join(f"{p['name']} ({p['role']})" for p in user["projects"]) or "-"


def whoami(as_json: bool = JSON_OPT) -> None:
    """Who this token is: user, admin flag, projects with roles, scopes, expiry.

    \b
    Examples:
      cnet whoami
      cnet whoami --json | jq .projects
    """
    me = get_client().whoami()
    if as_json:
        print_json(me)
        return
    from computenet.cli.context import fmt_time

    admin = " (network admin)" if me["is_admin"] else ""
    print(f"{me['name']}{admin}")
    print(f"default project: {me['default_project']}")
    print(f"projects:        {_roles(me)}")
    print(f"token:           {me['token_kind']} {me['token_id']}, scopes {','.join(me['scopes'])}")
    print(f"expires:         {fmt_time(me['expires_at']) if me['expires_at'] else 'never'}")


@users_app.command("add")
def add_user(
    name: str = typer.Argument(..., help="Login name (lower case, like a Unix account)."),
    project: str = typer.Option(
        "default", "--project", "-A", help="Default project (made if new)."
    ),
    role: str = typer.Option("member", "--role", help="Role there: manager, member or viewer."),
    admin: bool = typer.Option(False, "--admin", help="Make a network administrator."),
    display_name: str = typer.Option(None, "--display-name", help="Full name."),
    email: str = typer.Option(None, "--email"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a first password from standard input."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Create a user and print their first token (shown this once).

    \b
    Examples:
      cnet users add alice --project chem
      cnet users add pi --project chem --role manager --display-name "Dr P. I."
      echo "$PW" | cnet users add bob -A phys --password-stdin --json
    """
    body: dict[str, Any] = {"project": project, "role": role, "is_admin": admin}
    for key, value in (("display_name", display_name), ("email", email)):
        if value is not None:
            body[key] = value
    if password_stdin:
        body["password"] = _stdin_lines(1)[0]
    made = get_client().add_user(name, **body)
    if as_json:
        print_json(made)
    else:
        print(made["token"])


@users_app.command("ls")
def list_users(as_json: bool = JSON_OPT) -> None:
    """List users with their projects and roles (administrators).

    \b
    Example:
      cnet users ls --json | jq -r '.[] | select(.is_admin) | .name'
    """
    rows = get_client().users()
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table()
    for col in ("user", "name", "admin", "default", "projects", "state"):
        table.add_column(col)
    for u in rows:
        table.add_row(
            u["name"],
            u["display_name"] or "",
            "yes" if u["is_admin"] else "",
            u["default_project"],
            _roles(u),
            "disabled" if u["disabled"] else "active",
        )
    out_console().print(table)


@users_app.command("show")
def show_user(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """One user: yourself, or anyone for an administrator.

    \b
    Example:
      cnet users show alice --json
    """
    u = get_client().user(name)
    if as_json:
        print_json(u)
        return
    for key in ("name", "display_name", "email", "default_project", "is_admin", "disabled"):
        print(f"{key + ':':17}{u[key] if u[key] is not None else '-'}")
    print(f"{'projects:':17}{_roles(u)}")
    print(f"{'password:':17}{'set' if u['has_password'] else 'none'}")


@users_app.command("set")
def set_user(
    name: str = typer.Argument(...),
    display_name: str = typer.Option(None, "--display-name"),
    email: str = typer.Option(None, "--email"),
    default_project: str = typer.Option(None, "--default-project", "-A"),
    admin: bool = typer.Option(None, "--admin/--no-admin", help="Administrators only."),
    as_json: bool = JSON_OPT,
) -> None:
    """Change a user's display name, email, default project or admin flag.

    \b
    Examples:
      cnet users set alice --default-project bio
      cnet users set bob --admin
    """
    fields = {
        k: v
        for k, v in (
            ("display_name", display_name),
            ("email", email),
            ("default_project", default_project),
            ("is_admin", admin),
        )
        if v is not None
    }
    if not fields:
        raise typer.BadParameter("nothing to change: give --display-name, --email, -A or --admin")
    _done(get_client().set_user(name, **fields), as_json)


@users_app.command("disable")
def disable_user(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """Disable a user: their tokens and logins stop working at once (administrators).

    \b
    Example:
      cnet users disable mallory
    """
    _done(get_client().set_user(name, disabled=True), as_json)


@users_app.command("enable")
def enable_user(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """Enable a disabled user again (administrators)."""
    _done(get_client().set_user(name, disabled=False), as_json)


@users_app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="Whose password: yours, or anyone's for an admin."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the new password from the first line of standard input (and, when you "
        "change your own, the current one from the second).",
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Set a password for portal and ``login`` sign-in; your other sessions end.

    \b
    Examples:
      cnet users passwd alice
      printf '%s\\n%s\\n' "$NEW" "$OLD" | cnet users passwd "$USER" --password-stdin
    """
    client = get_client()
    own = client.whoami()["name"] == name
    needs_current = own and client.user(name)["has_password"]
    current = None
    if password_stdin:
        lines = _stdin_lines(2 if needs_current else 1)
        new, current = lines[0], (lines[1] if needs_current else None)
    else:
        if needs_current:
            current = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    done = client.set_password(name, new, current_password=current)
    if as_json:
        print_json(done)
    else:
        print(f"password of {name} set; {done['sessions_ended']} other session(s) ended")


def _stdin_lines(count: int) -> list[str]:
    lines = [sys.stdin.readline().rstrip("\n") for _ in range(count)]
    if not all(lines):
        want = "a password" if count == 1 else f"{count} lines (new, then current password)"
        raise typer.BadParameter(f"standard input must hold {want}")
    return lines


def _done(user: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(user)
    else:
        state = "disabled" if user["disabled"] else "active"
        print(f"{user['name']}: {state}, default project {user['default_project']}")


def register(app: typer.Typer) -> None:
    app.command("whoami")(whoami)
    app.add_typer(users_app, name="users")
