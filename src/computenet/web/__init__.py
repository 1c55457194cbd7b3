"""The web portal: pages for people who never write a batch script.

Server-rendered Jinja2 pages with htmx for live parts and uPlot for charts,
served by the API server under ``/portal``. Every page handler reads the
browser's session cookie and calls the server through the SDK
(``computenet.client.Client``) with that session's token, as the CLI does:
the API's rules decide what each user sees. See docs/portal.md.
"""

from __future__ import annotations

PREFIX = "/portal"
