"""``cnet projects add|ls|show|set``, ``members add|rm|ls``, ``identity set|rm|ls``."""

from __future__ import annotations

from typing import Any

import typer

from computenet.cli.context import get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (fields: docs/tenancy.md).")
projects_app = typer.Typer(
    help="Projects (Slurm's accounts): who is in them with which role, which clusters "
    "and partitions they may use, and who submits for them at each cluster.",
    no_args_is_help=True,
)
members_app = typer.Typer(
    help="A project's members and their roles (its managers and administrators).",
    no_args_is_help=True,
)
identity_app = typer.Typer(
    help="Who submits for a project at a cluster: a Unix account and/or an SSH key "
    "(administrators).",
    no_args_is_help=True,
)
CLUSTERS_OPT = typer.Option(
    None, "--clusters", help="Clusters it may use, comma-separated ('' = every cluster)."
)
PARTITIONS_OPT = typer.Option(
    None,
    "--partitions",
    help="Only these partitions at their clusters, as CLUSTER:PARTITION,... ('' = no limit).",
)


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def _print_project(p: dict[str, Any]) -> None:
    print(f"project:     {p['name']}")
    print(f"description: {p['description'] or '-'}")
    print(f"clusters:    {', '.join(p['clusters']) or 'all'}")
    print(f"partitions:  {', '.join(p['partitions']) or 'all (of those clusters)'}")
    if "members" in p:
        roles = ", ".join(f"{m['user']} ({m['role']})" for m in p["members"])
        print(f"members:     {roles or '-'}")
    if "identities" in p:
        idents = ", ".join(_identity(i) for i in p["identities"])
        print(f"identities:  {idents or '- (the network account submits)'}")


def _say(done: Any, as_json: bool, text: str) -> None:
    if as_json:
        print_json(done)
    else:
        print(text)


def _show(project: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(project)
    else:
        _print_project(project)


def _identity(i: dict[str, Any]) -> str:
    parts = [x for x in (i["user"], f"key {i['ssh_key']}" if i["ssh_key"] else None) if x]
    return f"{i['cluster']}: {' '.join(parts)} [{i['source']}]"


@projects_app.command("add")
def add_project(
    name: str = typer.Argument(...),
    description: str = typer.Option(None, "--description", "-d"),
    clusters: str = CLUSTERS_OPT,
    partitions: str = PARTITIONS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create a project (administrators).

    \b
    Examples:
      cnet projects add chem -d "Computational chemistry"
      cnet projects add gpu-lab --clusters big,local-a --partitions big:gpu
    """
    made = get_client().add_project(
        name,
        description=description,
        clusters=_split(clusters) or [],
        partitions=_split(partitions) or [],
    )
    _show(made, as_json)


@projects_app.command("ls")
def list_projects(as_json: bool = JSON_OPT) -> None:
    """Your projects with your role (administrators: every project).

    \b
    Example:
      cnet projects ls --json | jq -r '.[].name'
    """
    rows = get_client().projects()
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table()
    for col in ("project", "your role", "clusters", "partitions", "description"):
        table.add_column(col)
    for p in rows:
        table.add_row(
            p["name"],
            p["role"] or "-",
            ",".join(p["clusters"]) or "all",
            ",".join(p["partitions"]) or "all",
            p["description"] or "",
        )
    out_console().print(table)


@projects_app.command("show")
def show_project(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """A project with its members and identities (anyone in it).

    \b
    Example:
      cnet projects show chem
    """
    p = get_client().project(name)
    _show(p, as_json)


@projects_app.command("set")
def set_project(
    name: str = typer.Argument(...),
    description: str = typer.Option(None, "--description", "-d"),
    clusters: str = CLUSTERS_OPT,
    partitions: str = PARTITIONS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Change a project's description, clusters or partitions (administrators).

    \b
    Examples:
      cnet projects set chem --clusters local-a         # only local-a from now on
      cnet projects set chem --partitions big:gpu,big:debug
      cnet projects set chem --clusters ''              # every cluster again
    """
    fields: dict[str, Any] = {}
    if description is not None:
        fields["description"] = description
    for key, value in (("clusters", _split(clusters)), ("partitions", _split(partitions))):
        if value is not None:
            fields[key] = value
    if not fields:
        raise typer.BadParameter("nothing to change: give -d, --clusters or --partitions")
    p = get_client().set_project(name, **fields)
    _show(p, as_json)


@members_app.command("ls")
def list_members(project: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """A project's members and roles.

    \b
    Example:
      cnet projects members ls chem --json
    """
    rows = get_client().members(project)
    if as_json:
        print_json(rows)
        return
    for m in rows:
        print(f"{m['user']:24} {m['role']}")


@members_app.command("add")
def add_member(
    project: str = typer.Argument(...),
    user: str = typer.Argument(...),
    role: str = typer.Option("member", "--role", "-r", help="manager, member or viewer."),
    as_json: bool = JSON_OPT,
) -> None:
    """Add a user to a project, or change their role there.

    \b
    Examples:
      cnet projects members add chem alice
      cnet projects members add chem pi --role manager
      cnet projects members add chem auditor --role viewer
    """
    done = get_client().add_member(project, user, role)
    _say(done, as_json, f"{user} is {role} of {project}")


@members_app.command("rm")
def remove_member(
    project: str = typer.Argument(...), user: str = typer.Argument(...), as_json: bool = JSON_OPT
) -> None:
    """Remove a user from a project (their jobs stay, theirs to see and cancel).

    \b
    Example:
      cnet projects members rm chem alice
    """
    done = get_client().remove_member(project, user)
    _say(done, as_json, f"{user} removed from {project}")


@identity_app.command("ls")
def list_identities(
    project: str = typer.Argument(None, help="One project's (default: every one, admins)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Who submits for each project at each cluster (file and API).

    \b
    Example:
      cnet projects identity ls chem
    """
    rows = get_client().identities(project)
    if as_json:
        print_json(rows)
        return
    for i in rows:
        print(f"{i['project']:16} {_identity(i)}")


@identity_app.command("set")
def set_identity(
    project: str = typer.Argument(...),
    cluster: str = typer.Argument(...),
    user: str = typer.Option(None, "--user", "-u", help="Unix account at the cluster."),
    key: str = typer.Option(None, "--key", help="SSH private key path on the server."),
    as_json: bool = JSON_OPT,
) -> None:
    """Say who submits for PROJECT at CLUSTER. Once a cluster lists any identity,
    projects without one are not placed there.

    \b
    Examples:
      cnet projects identity set chem big --user chem01 --key /etc/cnet/keys/chem01
      cnet projects identity set chem local-slurm --user chem01   # server runs as root
    """
    done = get_client().set_identity(project, cluster, user=user, ssh_key=key)
    _say(done, as_json, f"{project} at {cluster}: {_identity(done)}")


@identity_app.command("rm")
def remove_identity(
    project: str = typer.Argument(...), cluster: str = typer.Argument(...), as_json: bool = JSON_OPT
) -> None:
    """Remove a project's identity at a cluster.

    \b
    Example:
      cnet projects identity rm chem big
    """
    done = get_client().remove_identity(project, cluster)
    _say(done, as_json, f"{project} has no identity at {cluster} now")


def register(app: typer.Typer) -> None:
    projects_app.add_typer(members_app, name="members")
    projects_app.add_typer(identity_app, name="identity")
    app.add_typer(projects_app, name="projects")
