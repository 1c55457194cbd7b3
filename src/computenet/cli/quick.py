"""The entry of ``cnet``: ``cnet cp`` to the local server without the full CLI.

A copy to the local server is a request and a few long-polls, so most of
what a full start-up loads (Typer and Click, pydantic-settings, the HTTP
client: about 0.2 s here) would be the copy's fixed cost. When the local
server already runs and no remote server is configured, ``cp`` parses its
options with ``argparse`` (the same options as ``cli/transfer.py``; a test
holds them equal), finds the server as ``client/local.py`` does and talks
to it over its Unix socket with ``http.client``. Anything else (another
command, ``--help``, a usage error, a remote server, no server running yet)
goes to the full CLI, which behaves the same.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn


def run() -> None:
    """Console-script entry (``cnet``)."""
    if sys.argv[1:2] == ["cp"]:
        code = quick_cp(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from computenet.cli.main import run as full

    full()


def fail(as_json: bool, error: dict[str, Any], exit_code: int, text: str) -> NoReturn:
    """One line on stderr, or with ``--json`` one JSON object on stdout
    (the REST API's error shape), and the exit code either way."""
    if as_json:
        sys.stdout.write(json.dumps({"error": error}) + "\n")
    else:
        sys.stderr.write(text + "\n")
    sys.exit(exit_code)


# ----- finding the local server (as client/local.py and config.py do) -------


def _xdg(var: str, fallback: str) -> str:
    return os.environ.get(var) or os.path.join(os.path.expanduser("~"), fallback)


def local_server() -> tuple[str, str] | None:
    """The running local server's (socket path, token), or None when settings name
    a remote server, the settings file cannot be read here, or none runs."""
    env = os.environ
    if env.get("CN_SERVER_URL"):
        return None
    path = env.get("CN_CONFIG") or os.path.join(
        _xdg("XDG_CONFIG_HOME", ".config"), "computenet", "config.toml"
    )
    file: dict[str, Any] = {}
    if os.path.exists(path):
        import tomllib

        try:
            with open(path, "rb") as fh:
                file = tomllib.load(fh)
        except (OSError, ValueError):
            return None  # the full CLI says what is wrong with it
    if file.get("server_url"):
        return None
    data_dir = env.get("CN_DATA_DIR") or file.get("data_dir")
    state_dir = env.get("CN_STATE_DIR") or file.get("state_dir")
    data_dir = str(data_dir or os.path.join(_xdg("XDG_DATA_HOME", ".local/share"), "computenet"))
    state_dir = str(state_dir or os.path.join(_xdg("XDG_STATE_HOME", ".local/state"), "computenet"))
    try:
        with open(os.path.join(state_dir, "server.json")) as fh:
            info = json.load(fh)
        sock = info["socket"]
        os.kill(int(info["pid"]), 0)
        token = env.get("CN_TOKEN") or file.get("token")
        if not token:
            with open(os.path.join(data_dir, "token")) as fh:
                token = fh.read().strip()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(sock, str) or not isinstance(token, str) or not token:
        return None
    return sock, token


class SocketClient:
    """The REST API over the local server's Unix socket (what ``follow`` needs)."""

    def __init__(self, socket_path: str, token: str) -> None:
        import http.client
        import socket

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(socket_path)

        self.socket_path = socket_path
        self._conn = Connection("localhost", timeout=60)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> Any:
        from computenet.errors import ServerError, from_dict

        data = None if body is None else json.dumps(body).encode()
        try:
            self._conn.request(method, "/api/v1" + path, body=data, headers=self._headers)
            resp = self._conn.getresponse()
            payload = resp.read()
        except OSError as exc:
            self._conn.close()
            raise ServerError(
                f"cannot reach the local server at {self.socket_path}: {exc}"
            ) from exc
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            answer = None
        if resp.status >= 400:
            err = answer.get("error") if isinstance(answer, dict) else None
            if not err:
                raise ServerError(f"server answered {resp.status}: {payload[:200]!r}")
            raise from_dict(err)
        return answer

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        from urllib.parse import urlencode

        return self.request("GET", path + ("?" + urlencode(params) if params else ""))

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json if json is not None else {})


# ----- cnet cp ------------------------------------------------------------------


def cp_parser() -> Any:
    """``cnet cp``'s options, as ``cli/transfer.py`` declares them."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise ValueError(message)  # no usage printed: the full CLI words it

    p = Parser(prog="cnet cp", add_help=False, exit_on_error=False, allow_abbrev=False)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("-r", "--recursive", action="store_true")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--limit", default=None)
    p.add_argument("--compress", action="store_true")
    p.add_argument("--checksum-only", action="store_true", dest="checksum_only")
    p.add_argument("--detach", action="store_true")
    p.add_argument("--no-encrypt", action="store_true", dest="no_encrypt")
    p.add_argument("--json", action="store_true", dest="as_json")
    return p


def quick_cp(args: list[str]) -> int | None:
    """Run ``cnet cp ARGS`` on the local server; None: leave it to the full CLI."""
    if any(a in ("-h", "--help") for a in args):
        return None
    try:
        ns, rest = cp_parser().parse_known_args(args)
    except (ValueError, TypeError):  # a usage error: the full CLI words it
        return None
    if rest or not 1 <= ns.parallel <= 64:
        return None
    found = local_server()
    if found is None:
        return None
    from computenet.errors import ComputeNetError

    try:
        return _cp(SocketClient(*found), ns)
    except ComputeNetError as exc:
        fail(ns.as_json, exc.to_dict(), exc.exit_code, f"cnet: error: {exc.message}")
    except KeyboardInterrupt:
        error = {"code": "interrupted", "message": "interrupted", "transient": False, "details": {}}
        fail(ns.as_json, error, 130, "cnet: interrupted")


def _cp(client: SocketClient, ns: Any) -> int:
    from computenet.cli import transfer_follow as follow

    limit = None
    if ns.limit:
        from computenet.transfer.chunks import parse_rate

        limit = parse_rate(ns.limit)
    options = {
        "recursive": ns.recursive,
        "resume": ns.resume,
        "parallel": ns.parallel,
        "limit_bytes_per_s": limit,
        "compress": ns.compress,
        "checksum_only": ns.checksum_only,
        "no_encrypt": ns.no_encrypt,
    }
    record = client.post(
        "/transfers",
        {
            "source": follow.absolute(ns.src),
            "dest": follow.absolute(ns.dst),
            "options": options,
            "run": True,
        },
    )
    if ns.detach:
        follow.detached(record["id"], ns.as_json)
        return 0
    result = follow.follow(client, record, not ns.as_json and sys.stderr.isatty())
    if ns.as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        print(follow.summary(result, ns.checksum_only))
    if ns.checksum_only and not result.verified:
        from computenet.errors import IntegrityError

        return IntegrityError.exit_code
    return 0


if __name__ == "__main__":
    run()
