"""No committed file names a developer machine's absolute paths (logs, docstrings, JSON records):
paths are relative to the repository, or placeholders such as <out> and <venv>."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MACHINE_DIRS = ("work", "home", "root", "tmp", "opt", "mnt", "scratch", "Users")


def test_no_absolute_machine_paths_in_tracked_files():
    pattern = "/(" + "|".join(MACHINE_DIRS) + ")/"
    found = subprocess.run(["git", "-C", str(ROOT), "grep", "-n", "-I", "-E", pattern, "--", "."],
                           capture_output=True, text=True)
    assert found.returncode in (0, 1), found.stderr           # 1: no match
    assert found.stdout == "", "absolute paths in committed files:\n" + found.stdout[:3000]
