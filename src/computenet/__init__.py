"""computenet: one control plane in front of many compute clusters."""

from __future__ import annotations

__version__ = "0.1.0"
