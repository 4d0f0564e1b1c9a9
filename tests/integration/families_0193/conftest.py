"""TEMPORARY (issue #13 part 3, helper "families"): a session fixture ``comfy_server_0193`` that
builds and starts a ComfyUI 0.19.3 server for the tests in this folder, until helper "host19"'s
0.19.3 host (scripts/host.py, issue #13 part 1) is merged. At that merge, delete this file's
fixture and let these tests use host19's ``comfy_server_0193`` of the same name and meaning: a
started 0.19.3 server with the pack, the test doubles and the tiny models (ComfyServer API), or a
one-line skip where that host is unavailable.

This stand-in lays the host out where host19's host.py puts it (.host/0.19.3/{comfyui,base,logs})
and reads the same variables: SVG_HOST_0_19_3_TARBALL (default <repo>/../shared/hosts/
comfyui-0.19.3.tar.gz) and SVG_HOST_0_19_3_VENV (a venv that runs ComfyUI 0.19.3; this stand-in
does not build one). It makes only the tiny models of the 2026 families
(scripts/tiny_models_2026.py); host19's setup makes all of them.
"""
from __future__ import annotations

import os
import subprocess
import tarfile
import time
import urllib.error
from pathlib import Path

import pytest

import host
from comfy_client import ComfyServer, server_env

VERSION = "0.19.3"
HOME = host.REPO / ".host" / VERSION
COMFY_DIR = HOME / "comfyui"
BASE_DIR = HOME / "base"
MODELS_DIR = BASE_DIR / "models" / "diffusion_models"
TARBALL = Path(os.environ.get("SVG_HOST_0_19_3_TARBALL",
                              host.REPO.parent / "shared" / "hosts" / "comfyui-0.19.3.tar.gz"))
VENV = os.environ.get("SVG_HOST_0_19_3_VENV")
MAKE_MODELS = """
import sys
from pathlib import Path
tree, out = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, sys.argv[3])
import make_tiny_models as m
m._init_comfy(tree)
from safetensors.torch import save_file
import torch
torch.set_grad_enabled(False)
out.mkdir(parents=True, exist_ok=True)
for name, spec in m._all_models().items():
    if spec.get("verify") is None or m.tiny_models_2026.unavailable(spec):
        continue
    path = out / name
    if path.is_file():
        continue
    sd = spec["build"](spec, m._init_params)
    save_file(sd, str(path), metadata={"svg_test_model": "random weights for tests", **spec.get("metadata", {})})
    print("[tiny-models]", spec["verify"](path, spec, sd), flush=True)
"""


def _unavailable() -> str | None:
    if not TARBALL.is_file():
        return f"ComfyUI {VERSION} host unavailable: {TARBALL} not found"
    if not VENV or not (Path(VENV) / "bin" / "python").is_file():
        return (f"ComfyUI {VERSION} host unavailable: set SVG_HOST_0_19_3_VENV to a venv that runs it "
                f"(until scripts/host.py builds one)")
    return None


def _python() -> str:
    return str(Path(VENV) / "bin" / "python")


def _ensure_host() -> None:
    if not (COMFY_DIR / "main.py").is_file():
        COMFY_DIR.mkdir(parents=True, exist_ok=True)
        top = f"comfyui-{VERSION}/"
        with tarfile.open(TARBALL) as tf:
            members = [m for m in tf.getmembers() if m.name.startswith(top) and m.name != top]
            for m in members:
                m.name = m.name[len(top):]
            tf.extractall(COMFY_DIR, members=members, filter="data")
    host.ensure_base(with_test_nodes=True, base=BASE_DIR)
    subprocess.run([_python(), "-c", MAKE_MODELS, str(COMFY_DIR), str(MODELS_DIR), str(host.REPO / "scripts")],
                   check=True, env=server_env())


class Server0193(ComfyServer):
    """ComfyServer on this host's python and tree."""

    def start(self, timeout: float = 240.0) -> "ComfyServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [_python(), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
               "--disable-auto-launch", "--base-directory", str(self.base),
               "--database-url", f"sqlite:///{self.base / 'user' / 'comfyui.db'}", *self.extra_args]
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=COMFY_DIR, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     env=server_env(), start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode}; log tail:\n{self.log_tail()}")
            try:
                self.get("/object_info/KSampler", timeout=5)
                return self
            except (OSError, urllib.error.URLError, RuntimeError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer in {timeout}s; log tail:\n{self.log_tail()}")


@pytest.fixture(scope="session")
def comfy_server_0193():
    """TEMPORARY stand-in for host19's fixture of the same name (see the module docstring)."""
    missing = _unavailable()
    if missing:
        pytest.skip(missing)
    _ensure_host()
    log = HOME / "logs" / f"families-{time.strftime('%Y%m%d-%H%M%S')}.log"
    server = Server0193(log, base=BASE_DIR, extra_args=["--cache-none"])
    server.start()
    print(f"\nComfyUI {VERSION} test server on {server.url}, log: {log}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def object_info_0193(comfy_server_0193) -> dict:
    return comfy_server_0193.object_info()


@pytest.fixture(scope="session")
def output_dir_0193() -> Path:
    return BASE_DIR / "output"
