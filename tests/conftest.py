"""Load the repository root as a package (its folder name is whatever the clone is called), so that
tests import it the way ComfyUI does: ``svg_pack.svg_attention``, ``svg_pack.kernels``."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "svg_pack"

if PACKAGE not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)


def pytest_configure(config):
    """Triton fixes interpreted-vs-compiled at its first import: set TRITON_INTERPRET=1 for the
    whole process now, before anything imports Triton, unless the run selects the GPU tests
    (`pytest tests/kernels -m gpu` on a CUDA machine)."""
    import os

    selection = (config.getoption("markexpr", "") or "").replace(" ", "")
    wants_gpu = "gpu" in selection and "notgpu" not in selection
    if not wants_gpu:
        os.environ.setdefault("TRITON_INTERPRET", "1")
