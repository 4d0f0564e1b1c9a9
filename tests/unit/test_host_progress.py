"""scripts/host.py shows what setup installs while pip works (issue 15: two silent minutes)."""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import host  # noqa: E402


def fake_pip(tmp_path, lines, exit_code=0, pause=0.0):
    """A command that prints pip-like lines (and sleeps, to let the quiet-time line come)."""
    script = tmp_path / "fake_pip.py"
    script.write_text("import sys, time\n"
                      f"for line in {lines!r}:\n    print(line, flush=True)\n"
                      f"time.sleep({pause})\nsys.exit({exit_code})\n")
    return [sys.executable, script]


def test_pip_progress_names_big_wheels_with_sizes_and_the_install(tmp_path, capsys):
    big = tmp_path / "torch-9.9-cp311-none-any.whl"
    with open(big, "wb") as f:
        f.truncate(120 * 10**6)                      # sparse file: 120 MB on paper
    host.run(fake_pip(tmp_path, [
        f"Processing {big}",
        f"Processing {tmp_path / 'small-1.0-py3-none-any.whl'} (from torch==9.9)",
        "Collecting nvidia-big (from torch==9.9)",
        "  Downloading nvidia_big-1.0-py3-none-manylinux.whl (706.2 MB)",
        "  Downloading tiny-1.0-py3-none-any.whl (244 kB)",
        "WARNING: Location 'file:///x' is ignored: it is neither a file nor a directory.",
        "Installing collected packages: tiny, small, nvidia-big, torch",
        "Successfully installed nvidia-big-1.0 small-1.0 tiny-1.0 torch-9.9",
    ]), pip=True)
    out = capsys.readouterr().out
    assert "torch-9.9-cp311-none-any.whl: 120 MB from the local disk" in out
    assert "nvidia_big-1.0-py3-none-manylinux.whl: 706 MB downloading" in out
    assert "tiny-1.0-py3-none-any.whl:" not in out and "small-1.0" not in out   # small wheels: no line
    assert "4 wheels collected (0.83 GB); installing 4 packages into the venv" in out
    assert "installed 4 packages" in out
    assert "WARNING" not in out and "done in" in out


def test_pip_progress_says_it_is_still_working_when_pip_is_quiet(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(host, "PIP_QUIET_SECONDS", 1)
    host.run(fake_pip(tmp_path, ["Installing collected packages: a"], pause=4.5), pip=True)
    assert "... still installing" in capsys.readouterr().out


def test_pip_failure_prints_pips_output(tmp_path, capsys):
    with pytest.raises(subprocess.CalledProcessError):
        host.run(fake_pip(tmp_path, ["Collecting nothing-like-this", "ERROR: No matching distribution"],
                          exit_code=1), pip=True)
    out = capsys.readouterr().out
    assert "Collecting nothing-like-this" in out and "ERROR: No matching distribution" in out
