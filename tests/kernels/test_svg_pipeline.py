"""The Triton backend behind the "svg" pattern (interpreter, fp32/fp16) gives the same labels and
output as the plain-torch reference backend: the kernels agree with the one reference."""
import pytest
import torch

import svg_pack.kernels as kernels
from svg_pack.svg_attention import VideoLayout, get_pattern, plan_band, reference_backend, sample_rows, sparse_attention
from svg_pack.svg_attention.backends import triton_backend

pytestmark = pytest.mark.skipif(not kernels._jit.interpret_requested(),
                                reason="CPU kernel tests need TRITON_INTERPRET=1 (set by tests/conftest.py unless -m gpu)")


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float16, 3e-3)])
@pytest.mark.parametrize("layout", [VideoLayout(4, 24, 0, 9), VideoLayout(3, 37, 16, 0)], ids=str)
def test_triton_backend_matches_reference_backend(layout, dtype, tol):
    g = torch.Generator().manual_seed(5)
    flat = [torch.randn(2, layout.total_tokens, 2 * 64, generator=g).to(dtype) for _ in range(3)]
    q, k, v = (t.view(2, layout.total_tokens, 2, 64).transpose(1, 2) for t in flat)
    key_bias = torch.zeros(2, layout.total_tokens)
    if layout.suffix_tokens:
        key_bias[0, -3:] = -1e9                       # text padding of element 0
    plan = plan_band(layout, 0.6, 16)
    rows = sample_rows(layout.video_tokens, 16, torch.Generator().manual_seed(1), "cpu")
    svg = get_pattern("svg")
    backend = triton_backend()
    assert all(op in backend.ops for op in svg.ops)
    ref_out, ref = sparse_attention(q, k, v, layout, plan, pattern=svg, backend=reference_backend, rows=rows,
                                    key_bias=key_bias)
    out, got = sparse_attention(q, k, v, layout, plan, pattern=svg, backend=backend, rows=rows, key_bias=key_bias)
    assert got.labels.dtype == torch.int8 and torch.equal(got.labels, ref.labels)
    torch.testing.assert_close(out.float(), ref_out.float(), rtol=tol, atol=tol)
