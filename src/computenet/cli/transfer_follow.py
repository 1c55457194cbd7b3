"""Following a copy the server runs, and the words for its result.

Shared by ``cnet cp`` (both its entries: see ``cli/quick.py``) and
``cnet transfers``; no Typer here, so the quick entry does not import it.
A ``client`` is anything with ``get(path, params)`` and ``post(path, json)``
answering the REST API's JSON.
"""

from __future__ import annotations

import json
from typing import Any


def server_runs(client: Any, src: str, dst: str) -> bool:
    """The server carries the copy out when it sees the same files as this command
    (the local server), or when both sides are sites; else this command copies."""
    from computenet.transfer.paths import parse_location

    if getattr(client, "socket_path", None):
        return True
    return parse_location(src).site is not None and parse_location(dst).site is not None


def absolute(text: str) -> str:
    """A local path as the server must see it (this command's working directory is
    not the server's); a trailing "/" (copy into) is kept."""
    import os

    from computenet.transfer.paths import parse_location

    if parse_location(text).site is not None:
        return text
    path = os.path.abspath(os.path.expanduser(text))
    return path + "/" if text.endswith("/") and not path.endswith("/") else path


class Result:
    """A copy's result as the server recorded it (``CopyResult.to_dict``)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.files = int(body.get("files", 0))
        self.bytes_total = int(body.get("bytes_total", 0))
        self.bytes_sent = int(body.get("bytes_sent", 0))
        self.files_skipped = int(body.get("files_skipped", 0))
        self.seconds = float(body.get("seconds", 0.0))
        self.verified = bool(body.get("verified", True))
        self.differing = list(body.get("differing", []))

    def to_dict(self) -> dict[str, Any]:
        return self.body


FOLLOW_WAIT_S = 10.0


def follow(client: Any, row: dict[str, Any], bar: bool) -> Result:
    """Follow a server-run copy to its end; on Ctrl-C say how to reach it and exit
    130 (``SystemExit``): the copy goes on in the server."""
    try:
        row = follow_bar(client, row) if bar else wait_end(client, row, lambda _r: None)
    except KeyboardInterrupt:
        detached(row["id"], False)
        raise SystemExit(130) from None
    return ended(row)


def wait_end(client: Any, row: dict[str, Any], seen: Any) -> dict[str, Any]:
    while row["state"] == "running":
        row = client.get(
            f"/transfers/{row['id']}", params={"wait_s": FOLLOW_WAIT_S, "since": row["updated_at"]}
        )
        seen(row)
    return row


def transfer_progress() -> Any:
    """The progress bar of a copy on stderr (bytes, rate, time left), cleared
    when it ends; one for copies run here and copies followed on a server."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from computenet.cli.context import err_console

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=err_console(), transient=True)


def follow_bar(client: Any, row: dict[str, Any]) -> dict[str, Any]:
    with transfer_progress() as progress:
        task = progress.add_task(f"{row['source']} -> {row['dest']}", total=None)

        def seen(r: dict[str, Any]) -> None:
            total = r["bytes_total"] or None
            description = f"{r['files']} file(s)" if total else progress.tasks[0].description
            progress.update(task, total=total, completed=r["bytes_done"], description=description)

        return wait_end(client, row, seen)


def ended(row: dict[str, Any]) -> Result:
    """The result of an ended copy, or its error (as the server raised it)."""
    from computenet.errors import TransferError, from_dict

    if row["state"] == "completed":
        return Result(dict(row["result"] or {}))
    if row["state"] == "cancelled":
        raise TransferError(f"transfer {row['id']} was cancelled")
    error = (row["result"] or {}).get("error")
    if isinstance(error, dict) and "code" in error:
        raise from_dict(error)
    raise TransferError(str(row["error"] or "the copy failed"))


def detached(transfer_id: str, as_json: bool) -> None:
    """Say that the copy goes on without this command, and how to reach it."""
    import sys

    if as_json:
        sys.stdout.write(json.dumps({"id": transfer_id, "state": "running", "detached": True}))
        sys.stdout.write("\n")
    print(
        f"transfer {transfer_id} goes on in the server; follow it with "
        f"`cnet transfers show {transfer_id} --follow`, stop it with "
        f"`cnet transfers cancel {transfer_id}`",
        file=sys.stderr,
    )


def summary(result: Any, checksum_only: bool) -> str:
    from rich.filesize import decimal

    if checksum_only:
        if result.verified:
            return f"{result.files} file(s) identical (BLAKE3)"
        return f"{len(result.differing)} of {result.files} file(s) differ: " + ", ".join(
            result.differing[:10]
        )
    rate = decimal(int(result.bytes_sent / result.seconds)) if result.seconds else "-"
    skipped = f", {result.files_skipped} already there" if result.files_skipped else ""
    return (
        f"{result.files} file(s), {decimal(result.bytes_total)}, sent "
        f"{decimal(result.bytes_sent)} in {result.seconds:.1f}s ({rate}/s){skipped}, "
        f"verified"
    )
