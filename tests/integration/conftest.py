"""Server-level tests: one real ComfyUI server (built by scripts/host.py) for the session, of the
host $SVG_HOST_VERSION selects (0.3.75 by default; scripts/test.sh runs these tests once per host).

The server gets the pack and the test-double pack (tests/fixtures/svg_test_nodes) through
symlinks in the host's base/custom_nodes, and the tiny random-weight models (made by that host's
own python and ComfyUI) in base/models/diffusion_models. Run through `bash scripts/test.sh`, which
builds the hosts first; when the host is missing these tests are skipped with a hint, and where
it cannot be built (the 0.19.3 tarball absent) with that one reason.

Fixtures: ``comfy_server`` (the running server: ComfyServer of scripts/comfy_client.py),
``object_info``, ``output_dir``, ``comfy_version`` (the host's version string, e.g. "0.19.3").
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import host  # noqa: E402
from comfy_client import ComfyServer  # noqa: E402
from host_selection import skip_unless_host_available  # noqa: E402


def _host_missing() -> str | None:
    if not host.SELECTED.built():
        return (f"ComfyUI {host.COMFY_VERSION} test host not built: run `bash scripts/test.sh` "
                f"(or `python3 scripts/host.py setup {host.COMFY_VERSION}`)")
    return None


@pytest.fixture(scope="session")
def comfy_server():
    skip_unless_host_available()
    missing = _host_missing()
    if missing:
        pytest.skip(missing)
    host.ensure_base(with_test_nodes=True)
    host.ensure_models(host.venv_python())  # no-op when the tiny models are current
    log = host.LOGS_DIR / f"integration-{time.strftime('%Y%m%d-%H%M%S')}.log"
    # --cache-none: every prompt executes all of its nodes. With ComfyUI's default cache a
    # repeated sampler would be served from the cache, and neither run its attention nor log
    # an SVG summary, which several tests compare across prompts.
    server = ComfyServer(log, extra_args=["--cache-none"])
    server.start()
    print(f"\nComfyUI test server on {server.url}, log: {log}")
    yield server
    server.stop()
    if server_errors := [ln for ln in log.read_text("utf-8", "replace").splitlines()
                         if "Traceback" in ln and "svg" in ln.lower()]:
        print("tracebacks mentioning svg in the server log:", *server_errors, sep="\n")


@pytest.fixture(scope="session")
def object_info(comfy_server) -> dict:
    return comfy_server.object_info()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    return host.BASE_DIR / "output"


@pytest.fixture(scope="session")
def comfy_version() -> str:
    return host.COMFY_VERSION
