"""scripts/check_registry_pack.py: what the registry archive must and must not hold (the CI step
.ci/registry_pack.sh runs it on the archive `comfy node pack` builds)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import check_registry_pack as check  # noqa: E402

TRACKED = ["__init__.py", "README.md", "LICENSE", "pyproject.toml", "requirements.txt",
           "nodes/__init__.py", "nodes/patch.py", "svg_attention/attention.py", "kernels/__init__.py",
           "workflows/wan.json", "tests/unit/test_x.py", "bench/e2e.py", "models/tiny.safetensors",
           "scripts/host.py", "docs/images/a.gif", "docs/quality.md"]
GOOD = [t for t in TRACKED if not t.startswith(("tests/", "bench/", "models/", "scripts/", "docs/images/"))]


def problems(names, packed=50_000, size=1_000):
    return check.content_problems(names, {n: size for n in names}, packed, TRACKED)


def test_the_runtime_files_alone_pass():
    assert problems(GOOD) == []


def test_missing_runtime_files_are_named():
    found = problems([n for n in GOOD if n not in ("nodes/patch.py", "LICENSE")])
    assert found == ["missing LICENSE", "missing nodes/patch.py"]


def test_development_files_and_weights_are_named():
    found = problems(GOOD + ["tests/unit/test_x.py", "models/tiny.safetensors", "docs/images/a.gif",
                             "nodes/__pycache__/patch.cpython-311.pyc"])
    assert sorted(found) == sorted(f"should not be in the archive: {n}" for n in
                                   ["tests/unit/test_x.py", "models/tiny.safetensors", "docs/images/a.gif",
                                    "nodes/__pycache__/patch.cpython-311.pyc"])


def test_size_limits():
    assert problems(GOOD, packed=check.MAX_ZIP_BYTES + 1) == [
        f"archive is {check.MAX_ZIP_BYTES + 1:,} bytes (limit {check.MAX_ZIP_BYTES:,})"]
    big = check.MAX_UNPACKED_BYTES // len(GOOD) + 1
    assert len(problems(GOOD, size=big)) == 1


def test_the_repositorys_comfyignore_leaves_out_what_the_check_forbids():
    """.comfyignore and the check agree: every forbidden folder that is tracked is ignored."""
    ignored = [ln.strip() for ln in (check.REPO / ".comfyignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    tracked_tops = {t.split("/")[0] + "/" for t in check.tracked_files() if "/" in t}
    for prefix in check.FORBIDDEN_PREFIXES:
        if prefix in tracked_tops or prefix == "docs/images/":
            assert prefix in ignored, prefix
