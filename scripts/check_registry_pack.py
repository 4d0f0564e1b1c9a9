#!/usr/bin/env python3
"""Check the archive `comfy node pack` built (what a user installs from the Comfy Registry).

    python3 scripts/check_registry_pack.py out/registry/node.zip [--load]

Contents: every git-tracked file ComfyUI loads (``__init__.py``, ``nodes/``, ``svg_attention/``,
``kernels/``), the example workflows, README.md, LICENSE, pyproject.toml and requirements.txt
are in it; nothing of the development side is (``tests/``, ``bench/``, ``models/``, ``scripts/``,
``.ci/``, ``docs/images/``, model weights, caches); it stays small (MAX_ZIP_BYTES packed,
MAX_UNPACKED_BYTES unpacked). ``--load``: unpack it as the only copy of the pack into an empty
``custom_nodes/`` and start the local host's ComfyUI (scripts/host.py setup first) on it: both
nodes must be in /object_info and the workflows among the templates.
Exit 0 when all holds; otherwise every problem is listed and the exit code is 1.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_ZIP_BYTES = 1_000_000
MAX_UNPACKED_BYTES = 2_500_000
REQUIRED_FILES = ("__init__.py", "README.md", "LICENSE", "pyproject.toml", "requirements.txt")
REQUIRED_DIRS = ("nodes/", "svg_attention/", "kernels/", "workflows/")
FORBIDDEN_PREFIXES = ("tests/", "bench/", "models/", "scripts/", ".ci/", "docs/images/", ".host/", "out/")
FORBIDDEN_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".pyc", ".zip")
NODE_IDS = ("SVGSparseAttention", "SVGAttentionReport")


def tracked_files(repo: Path = REPO) -> list:
    return subprocess.run(["git", "-C", str(repo), "ls-files"], check=True, capture_output=True,
                          text=True).stdout.split()


def content_problems(names: list, sizes: dict, packed_bytes: int, tracked: list) -> list:
    """Everything wrong with an archive's file list (no I/O: the unit tests feed it lists)."""
    problems = []
    present = set(names)
    for name in REQUIRED_FILES:
        if name not in present:
            problems.append(f"missing {name}")
    for prefix in REQUIRED_DIRS:
        wanted = [t for t in tracked if t.startswith(prefix) and not t.endswith(FORBIDDEN_SUFFIXES)]
        if not wanted:
            problems.append(f"nothing tracked under {prefix} (run from the repository)")
        problems += [f"missing {t}" for t in wanted if t not in present]
    for name in names:
        if name.startswith(FORBIDDEN_PREFIXES) or "/__pycache__/" in f"/{name}" or name.endswith(FORBIDDEN_SUFFIXES):
            problems.append(f"should not be in the archive: {name}")
    unpacked = sum(sizes.values())
    if packed_bytes > MAX_ZIP_BYTES:
        problems.append(f"archive is {packed_bytes:,} bytes (limit {MAX_ZIP_BYTES:,})")
    if unpacked > MAX_UNPACKED_BYTES:
        problems.append(f"archive unpacks to {unpacked:,} bytes (limit {MAX_UNPACKED_BYTES:,})")
    return problems


def load_problems(archive: Path, folder: str) -> list:
    """Unpack into an empty base directory and ask the host's ComfyUI for the nodes and templates."""
    sys.path.insert(0, str(REPO / "scripts"))
    from comfy_client import ComfyServer

    problems = []
    with tempfile.TemporaryDirectory(prefix="svg-registry-") as tmp:
        base = Path(tmp)
        for sub in ("custom_nodes", "models", "input", "output", "user", "temp"):
            (base / sub).mkdir()
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(base / "custom_nodes" / folder)
        log = base / "server.log"
        with ComfyServer(log, base=base) as server:
            for node in NODE_IDS:
                status, body = server.request("GET", f"/object_info/{node}")
                if status != 200 or node not in (body or {}):
                    problems.append(f"ComfyUI does not list {node} when the archive is installed")
            templates = server.get("/workflow_templates")
        shipped = sorted(Path(n).stem for n in zipfile.ZipFile(archive).namelist()
                         if n.startswith("workflows/") and n.endswith(".json"))
        served = sorted(templates.get(folder, []))
        if served != shipped:
            problems.append(f"templates served for {folder}: {served}, archive has {shipped}")
        # "Import times for custom nodes:" lists each folder, with " (IMPORT FAILED)" when it failed
        listed = [ln for ln in log.read_text("utf-8", "replace").splitlines()
                  if " seconds" in ln and ln.rstrip().endswith(f"custom_nodes/{folder}")]
        if len(listed) != 1 or "IMPORT FAILED" in listed[0]:
            problems.append(f"the server's import line for custom_nodes/{folder}: {listed}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("archive", type=Path)
    ap.add_argument("--load", action="store_true", help="also install it into the host's ComfyUI and start it")
    a = ap.parse_args(argv)
    with zipfile.ZipFile(a.archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    names = [i.filename for i in infos]
    sizes = {i.filename: i.file_size for i in infos}
    problems = content_problems(names, sizes, a.archive.stat().st_size, tracked_files())
    node_id = re.search(r'^name\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    print(f"[pack] {a.archive}: {len(names)} files, {a.archive.stat().st_size / 1e3:.0f} kB packed, "
          f"{sum(sizes.values()) / 1e3:.0f} kB unpacked; top level: "
          f"{', '.join(sorted({n.split('/')[0] + ('/' if '/' in n else '') for n in names}))}")
    if a.load and not problems:
        problems += load_problems(a.archive, node_id)
        if not problems:
            print(f"[pack] installed as custom_nodes/{node_id}: ComfyUI lists {', '.join(NODE_IDS)} "
                  f"and serves the {sum(n.startswith('workflows/') for n in names)} workflows as templates")
    for p in problems:
        print(f"[pack] PROBLEM: {p}")
    print(f"[pack] {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
