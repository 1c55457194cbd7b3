"""Data movement: endpoints (local path, SFTP, the site agent) and the engine.

The engine moves files and trees in chunks, in parallel, checking every chunk
with BLAKE3 on arrival and every file at the end. A destination keeps a
manifest of verified chunks next to a temporary name, so an interrupted copy
resumes without sending them again; a file appears under its final name only
once it is whole and verified.
"""

from __future__ import annotations
