"""The reason a user reads for the reference fallback is the real one: on a CPU, that there is no
CUDA device, not the dtype or head size that a CPU run happens to have as well (issue 15)."""
import pytest
import torch

from svg_pack import kernels
from svg_pack.svg_attention import backends
from svg_pack.svg_attention.patterns import get_pattern

SVG_OPS = get_pattern("svg").ops


@pytest.fixture(autouse=True)
def fresh_cache():
    backends.triton_backend_or_reason.cache_clear()
    yield
    backends.triton_backend_or_reason.cache_clear()


@pytest.mark.parametrize("dtype, head_dim", [(torch.float32, 128), (torch.float32, 96), (torch.float16, 96),
                                             (torch.int8, 64)])
def test_cpu_reason_is_no_cuda_device_whatever_else_is_off(dtype, head_dim):
    ok, why = kernels.triton_support("cpu", dtype, head_dim)
    assert not ok and why.startswith("no CUDA device"), why
    backend, why = backends.resolve_backend("auto", torch.device("cpu"), dtype, head_dim, SVG_OPS)
    assert backend.name == "reference"
    assert why.startswith("reference backend (no CUDA device"), why
    backend, why = backends.resolve_backend("triton", torch.device("cpu"), dtype, head_dim, SVG_OPS)
    assert backend.name == "reference" and "(no CUDA device" in why, why


def test_cpu_reason_does_not_need_the_kernels_package(monkeypatch):
    """The device is checked before the kernels package is imported: no import error on a CPU."""
    import sys
    monkeypatch.setitem(sys.modules, "svg_pack.kernels", None)     # `from .. import kernels` fails
    monkeypatch.delattr(sys.modules["svg_pack"], "kernels")
    backend, why = backends.triton_backend_or_reason("cpu", None, torch.float32, 128)
    assert backend is None and why.startswith("no CUDA device"), why


def test_dtype_and_head_dim_reasons_once_the_device_fits(monkeypatch):
    """Under the interpreter a CPU counts as a device: then dtype and head size are the reasons."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(kernels, "_triton_importable", lambda: (True, "triton (stub)"))
    ok, why = kernels.triton_support("cpu", torch.int8, 96, allow_interpreter=True)
    assert not ok and why.startswith("dtype torch.int8 not supported"), why
    ok, why = kernels.triton_support("cpu", torch.float16, 96, allow_interpreter=True)
    assert not ok and why.startswith("head_dim 96 not supported"), why
    ok, why = kernels.triton_support("cpu", torch.float16, 64, allow_interpreter=True)
    assert ok, why


def test_cuda_without_a_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ok, why = kernels.triton_support("cuda", torch.float32, 96)
    assert not ok and why.startswith("no CUDA device"), why
