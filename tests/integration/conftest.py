"""Server-level tests: one real ComfyUI 0.3.75 server (built by scripts/host.py) for the session.

The server gets the pack and the test-double pack (tests/fixtures/svg_test_nodes) through
symlinks in .host/base/custom_nodes, and the tiny random-weight models in
.host/base/models/diffusion_models. Run through `bash scripts/test.sh`, which builds the host
first; when the host is missing these tests are skipped with a hint.
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


def _host_missing() -> str | None:
    if not host.venv_python().exists() or not (host.COMFY_DIR / "main.py").exists():
        return "test host not built: run `bash scripts/test.sh` (or `python3 scripts/host.py setup`)"
    return None


@pytest.fixture(scope="session")
def comfy_server():
    missing = _host_missing()
    if missing:
        pytest.skip(missing)
    host.ensure_base(with_test_nodes=True)
    host.ensure_models(host.venv_python())  # no-op when the tiny models are current
    log = host.HOME / "logs" / f"integration-{time.strftime('%Y%m%d-%H%M%S')}.log"
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
