"""``scancel``: cancel jobs by id (``123``, ``123_4``) or by filter, as
Slurm's scancel does: quiet on success, Slurm's messages otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from computenet.shims.common import (
    SLURM_VERSION,
    SlurmArgs,
    UsageError,
    connect,
    run,
    split_list,
    user_filter,
)
from computenet.shims.records import JobView, slurm_state_name

PROG = "scancel"
_CANCELLABLE = frozenset({"PENDING", "RUNNING", "SUSPENDED", "STAGE_OUT"})


def _parser() -> SlurmArgs:
    p = SlurmArgs(PROG)
    p.add_argument("-A", "--account")
    p.add_argument("-b", "--batch", action="store_true")
    p.add_argument("-f", "--full", action="store_true")
    p.add_argument("-H", "--hurry", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-M", "--clusters")
    p.add_argument("--me", action="store_true")
    p.add_argument("-n", "--name", "--jobname")
    p.add_argument("-p", "--partition")
    p.add_argument("-q", "--qos")
    p.add_argument("-Q", "--quiet", action="store_true")
    p.add_argument("-R", "--reservation")
    p.add_argument("-s", "--signal")
    p.add_argument("-t", "--state")
    p.add_argument("-u", "--user")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-V", "--version", action="store_true")
    p.add_argument("-w", "--nodelist")
    p.add_argument("--help", action="store_true")
    p.add_argument("--usage", action="store_true")
    p.add_argument("ids", nargs="*")
    return p


def main(argv: Sequence[str]) -> int:
    return run(PROG, _scancel, argv)


def _scancel(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.help or args.usage:
        sys.stdout.write("Usage: scancel [OPTIONS] [job_id[_array_id][.step_id]]\n")
        return 0
    if args.version:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    if args.signal and args.signal.upper().removeprefix("SIG") not in ("KILL", "9", "TERM", "15"):
        raise UsageError(f"--signal={args.signal}: computenet can only cancel jobs")
    if args.interactive:
        raise UsageError("--interactive is not supported")
    ids = split_list(args.ids)
    filters = any((args.user, args.name, args.state, args.partition, args.account, args.me,
                   args.qos, args.clusters))  # fmt: skip
    if not ids and not filters:
        sys.stderr.write("scancel: error: No job identification provided\n")
        return 1
    client = connect()
    if not ids:
        return _cancel_matching(client, args)
    code = 0
    for job_id in ids:
        code = max(code, _cancel_one(client, args, job_id, filters))
    return code


def _cancel_one(client: Any, args: Any, job_id: str, filters: bool) -> int:
    from computenet.errors import NotFoundError, SpecError

    target = job_id.partition(".")[0]  # a step id cancels its job: no steps here
    try:
        if filters and not _matches(JobView(client.job(target)), args):
            return 0
        results = client.cancel(target)["results"]
    except (NotFoundError, SpecError):
        _say(args, f"scancel: error: Kill job error on job id {job_id}: Invalid job id specified")
        return 1
    for r in results:
        if not r.get("changed"):
            _say(
                args,
                f"scancel: error: Kill job error on job id {r.get('id', job_id)}: "
                "Job/step already completing or completed",
            )
    return 0


def _cancel_matching(client: Any, args: Any) -> int:
    user = user_filter(client, args.user)
    for job in client.jobs(all=False, user=user, name=args.name):
        view = JobView(job, lambda i: dict(client.job(i)))
        if _matches(view, args):
            client.cancel(view.job_id)
    return 0


def _matches(j: JobView, args: Any) -> bool:
    if j.state not in _CANCELLABLE:
        return not (args.state or args.name or args.user or args.partition)
    if args.state:
        try:
            wanted = {slurm_state_name(s) for s in split_list([args.state])}
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if j.state not in wanted:
            return False
    # values are read only when a filter asks: some need the job's spec
    checks: tuple[tuple[str | None, Callable[[], str]], ...] = (
        (args.name, lambda: j.name),
        (args.user, lambda: j.user),
        (args.partition, lambda: j.partition),
        (args.account, lambda: j.account),
        (args.clusters, lambda: j.cluster),
    )
    return all(not want or get() in split_list([want]) for want, get in checks)


def _say(args: Any, message: str) -> None:
    if not args.quiet:
        sys.stderr.write(message + "\n")
