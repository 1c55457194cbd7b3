"""Python SDK over the REST API.

from computenet.client import Client
cn = Client.connect()                       # the configured or local server
job = cn.submit(script=open("job.sh").read(), options=["-N", "1", "--time=10"])
cn.wait(job["id"])
"""

from __future__ import annotations

from computenet.client.api import Client

__all__ = ["Client"]
