"""Errors of the simulator: a bad trace or an impossible replay request.

ComputeNetError
└── SimError          a replay cannot run (bad option, no machine size)
    └── TraceError    a trace file is unreadable or malformed (path:line)
"""

from __future__ import annotations

from computenet.errors import ComputeNetError


class SimError(ComputeNetError):
    code = "simulation"
    http_status = 422
    exit_code = 2


class TraceError(SimError):
    code = "invalid_trace"
