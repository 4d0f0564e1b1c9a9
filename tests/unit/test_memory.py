"""No allocation grows with N^2: the reference path on a long sequence, peak memory measured in a
fresh process (ru_maxrss), against what one N x N score matrix would take."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib.util, json, resource, sys, torch
spec = importlib.util.spec_from_file_location("svg_pack", sys.argv[1] + "/__init__.py",
                                              submodule_search_locations=[sys.argv[1]])
pack = importlib.util.module_from_spec(spec); sys.modules["svg_pack"] = pack; spec.loader.exec_module(pack)
from svg_pack.svg_attention import VideoLayout, plan_band, sample_rows, sparse_attention
torch.set_num_threads(2)
layout = VideoLayout(num_frames=30, frame_tokens=1536, prefix_tokens=0, suffix_tokens=64)   # 46,144 tokens
heads, dim = 1, 64
g = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(1, heads, layout.total_tokens, dim, generator=g) for _ in range(3))
plan = plan_band(layout, 0.9, 128)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rows = sample_rows(layout.video_tokens, 64, torch.Generator().manual_seed(0), "cpu")
out, decision = sparse_attention(q, k, v, layout, plan, rows=rows)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"tokens": layout.total_tokens, "peak_growth_kib": after - before,
                  "finite": bool(torch.isfinite(out).all())}))
"""


def test_reference_peak_memory_is_far_below_n_squared():
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True,
                            timeout=600, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    n_squared_kib = stats["tokens"] ** 2 * 4 // 1024          # one fp32 N x N matrix: 8.1 GiB here
    assert stats["finite"]
    assert stats["peak_growth_kib"] < n_squared_kib / 16, stats
