"""Static security lint (bandit) of the package, and known vulnerabilities
(pip-audit, PyPI's advisory data) in the packages it runs on.

Accepted findings are justified in docs/reliability.md (## Security): whole
checks in ``[tool.bandit]`` of pyproject.toml, single lines by ``# nosec``.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
#: the extras a deployment may install; dev and bench are tools, not the product
RUNTIME_EXTRAS = ("postgres", "ssh", "slurm", "transfer", "sim", "oidc", "parquet", "cloud")
#: advisories accepted, each with its reason in docs/reliability.md (## Security)
ACCEPTED: dict[str, str] = {}


def _tool(name: str) -> str:
    exe = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing in CI (pip install -e '.[dev]')")
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return exe


def test_bandit_finds_nothing_unjustified_in_src() -> None:
    proc = subprocess.run(
        [_tool("bandit"), "-c", "pyproject.toml", "-r", "src", "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    report = json.loads(proc.stdout)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it did read the package
    found = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert not found and proc.returncode == 0, "\n".join(found) or proc.stderr


def runtime_closure() -> dict[str, str]:
    """name -> installed version of every package computenet and its runtime
    extras pull in (what a deployment runs)."""
    seen: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [("computenet", frozenset(RUNTIME_EXTRAS))]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), extras)
        if key in done:
            continue
        done.add(key)
        dist = md.distribution(name)
        seen[canonicalize_name(dist.metadata["Name"])] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            wanted = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(e) for e in wanted):
                continue
            try:
                md.distribution(req.name)
            except md.PackageNotFoundError:
                continue  # an optional dependency this environment lacks
            todo.append((req.name, frozenset(req.extras)))
    seen.pop("computenet", None)
    return seen


def test_no_known_vulnerability_in_the_runtime_dependencies(tmp_path: Path) -> None:
    closure = runtime_closure()
    assert {"fastapi", "sqlalchemy", "cryptography", "asyncssh"} <= set(closure)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("".join(f"{n}=={v}\n" for n, v in sorted(closure.items())))
    proc = subprocess.run(
        [
            _tool("pip-audit"),
            "--requirement",
            str(reqs),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"pip-audit failed: {proc.stderr[-2000:]}")
    deps = report["dependencies"]
    vulns = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions']) or '-'})"
        for d in deps
        for v in d.get("vulns", [])
        if v["id"] not in ACCEPTED
    ]
    assert not vulns, "\n".join(vulns)
    unaudited = [d["name"] for d in deps if "skip_reason" in d]
    if len(unaudited) == len(deps):
        # PyPI answered without its per-release data (a mirror, or no network):
        # nothing was checked, which must not read as "no vulnerabilities"
        pytest.skip(f"PyPI gave no advisory data for any of {len(deps)} packages")
    assert not unaudited, f"not audited: {unaudited}"
