"""Which ComfyUI host the tests of this pytest process run against: the one $SVG_HOST_VERSION selects
(scripts/test.sh runs one pytest process per host), as scripts/host.py describes it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import host  # noqa: E402  (scripts/host.py)

VERSION = host.SELECTED.version


def skip_unless_host_available() -> None:
    """Skip the calling test when the selected host cannot be built here (the 0.19.3 tarball absent
    in a user's own clone). One reason from one place: `pytest -ra` reports all these skips on one
    line."""
    reason = host.SELECTED.unavailable()
    if reason:
        pytest.skip(reason)
