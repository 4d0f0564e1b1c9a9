"""One rank of the Ulysses exactness check (started by test_ulysses_svg.py, gloo on the CPU).

    python ulysses_worker.py RANK WORLD STORE_FILE OUT_DIR

Every rank builds the same full q, k, v (fixed seeds), computes the single-process SVG call on the
whole tensor itself (the reference), then runs the Ulysses SVG call on its sequence shard and
writes, per case, how its shard compares: ``OUT_DIR/rank{RANK}.json``. Padding tokens get large
random q/k/v, so any use of them as keys or queries shows in the error.
"""
import importlib.util
import json
import sys
import traceback
import zlib
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("svg_pack", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
svg_pack = importlib.util.module_from_spec(spec)
sys.modules["svg_pack"] = svg_pack
spec.loader.exec_module(svg_pack)

from svg_pack.svg_attention import VideoLayout, plan_band, sample_rows, svg_attention  # noqa: E402
from svg_pack.svg_attention.ulysses import SequenceShards, head_counts, head_offsets, ulysses_attention  # noqa: E402
from svg_pack.svg_attention.ulysses import merge_head_values  # noqa: E402
from svg_pack.svg_attention.ulysses_engines import (ENGINE_KEY, RaylightSVGProcessor, SVGEngineSource,  # noqa: E402
                                                    xdit_attention)
from svg_pack.svg_attention.ulysses_svg import svg_ulysses_attention  # noqa: E402

try:  # the real all-to-all of yunchang (used by xFuser and so by Raylight), when installed
    from yunchang.comm.all_to_all import all_to_all_4D as yunchang_all_to_all_4d
except ImportError:
    yunchang_all_to_all_4d = None

BLOCK = 16
D = 16

# name: heads, batch, layout, segments (None: the whole sequence split at once), chunks, text mask
CASES = {
    # Wan-like: video only, 3 heads over 2 ranks, 95 tokens (one padding token on the last rank)
    "wan_3heads_padded": dict(heads=3, batch=1, layout=VideoLayout(5, 19), segments=None, chunks=1, masked=()),
    # Wan-like, heads and tokens divisible (no padding), two prompts in the batch
    "wan_4heads_even": dict(heads=4, batch=2, layout=VideoLayout(4, 24), segments=None, chunks=1, masked=()),
    # HunyuanVideo-like: 13 text tokens after the video, text padding masked by key_bias
    # (last 5 text tokens for the first prompt, last 3 for the second), joint sequence split at once
    "hunyuan_text_mask": dict(heads=3, batch=2, layout=VideoLayout(4, 20, 0, 13), segments=None, chunks=1,
                              masked=(5, 3)),
    # the same, video and text split separately (Raylight's HunyuanVideo: [video chunk, text chunk])
    "hunyuan_two_segments": dict(heads=3, batch=2, layout=VideoLayout(4, 20, 0, 13), segments=(80, 13),
                                 chunks=1, masked=(5, 3)),
    # text first, split apart from the video (ComfyUI 0.19.3's double blocks put the text first)
    "hunyuan_text_first_segments": dict(heads=3, batch=2, layout=VideoLayout(4, 20, 13, 0), segments=(13, 80),
                                        chunks=1, masked=()),
    # pipelined head groups: 3 heads as (2, 1) over the ranks, each cut into 2 groups (one empty)
    "hunyuan_chunks2": dict(heads=3, batch=2, layout=VideoLayout(4, 20, 0, 13), segments=None, chunks=2,
                            masked=(5, 3)),
    # 5 heads in 3 groups per rank, a reference-image prefix (global tokens before the video)
    "wan_prefix_chunks3": dict(heads=5, batch=1, layout=VideoLayout(3, 30, 7, 0), segments=None, chunks=3,
                               masked=()),
}


def full_inputs(case, seed):
    layout = case["layout"]
    g = torch.Generator().manual_seed(seed)
    q, k, v = torch.randn(3, case["batch"], layout.total_tokens, case["heads"], D, generator=g).unbind(0)
    key_bias = None
    if case["masked"]:
        key_bias = torch.zeros(case["batch"], layout.total_tokens)
        for b, masked in enumerate(case["masked"]):
            key_bias[b, layout.total_tokens - masked:] = -1e9
    return q, k, v, key_bias


def shard(x, shards, rank, seed):
    """This rank's tokens of x [B, N, H, D]: every segment padded at its end (large random values)
    and cut into equal chunks, this rank's chunk of each segment concatenated."""
    g = torch.Generator().manual_seed(seed)
    pieces, start = [], 0
    for tokens, chunk in zip(shards.segment_tokens, shards.chunk_tokens):
        segment = x[:, start:start + tokens]
        pad = chunk * shards.world_size - tokens
        garbage = 1e3 * torch.randn(x.shape[0], pad, *x.shape[2:], generator=g)
        segment = torch.cat([segment, garbage], dim=1)
        pieces.append(segment[:, rank * chunk:(rank + 1) * chunk])
        start += tokens
    return torch.cat(pieces, dim=1).contiguous()


def local_positions(shards, rank):
    """For each local token: its index in the valid sequence, or -1 for padding."""
    positions, start = [], 0
    for tokens, chunk in zip(shards.segment_tokens, shards.chunk_tokens):
        i = torch.arange(rank * chunk, (rank + 1) * chunk)
        positions.append(torch.where(i < tokens, start + i, torch.full_like(i, -1)))
        start += tokens
    return torch.cat(positions)


def run_case(name, case, rank, world):
    layout = case["layout"]
    q, k, v, key_bias = full_inputs(case, seed=zlib.crc32(name.encode()) % 1000)
    plan = plan_band(layout, 0.5, BLOCK)
    assert not plan.covers_all, (name, plan)
    # the profiler's rows: the same generator seed and call order on every rank (as per sampling run)
    rows = sample_rows(layout.video_tokens, 8, torch.Generator().manual_seed(7), "cpu")
    ref_out, ref_temporal = svg_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan, rows,
                                          key_bias=key_bias)
    ref_out = ref_out.transpose(1, 2)

    segments = case["segments"] or (layout.total_tokens,)
    shards = SequenceShards(tuple(segments), world)
    q_l, k_l, v_l = (shard(x, shards, rank, seed=100 + i) for i, x in enumerate((q, k, v)))
    out, labels = svg_ulysses_attention(q_l, k_l, v_l, layout, plan, rows, key_bias=key_bias, shards=shards,
                                        chunks=case["chunks"], merge_labels=True)
    positions = local_positions(shards, rank)
    valid = positions >= 0
    err = (out[:, valid] - ref_out[:, positions[valid]]).abs().max().item()
    return {
        "max_abs_err": err,
        "ref_max_abs": ref_out.abs().max().item(),
        "labels_equal": bool(torch.equal(labels, ref_temporal.to(torch.int8))),
        "labels": labels.tolist(),
        "padding_rows": int((~valid).sum()),
        "padding_rows_zero": bool((out[:, ~valid] == 0).all()),
        "finite": bool(torch.isfinite(out).all()),
        "temporal_heads": int(ref_temporal.sum()),
    }


def dense_case(rank, world):
    """The layer is generic: a dense SDPA local attention gives SDPA of the whole sequence."""
    heads, tokens = 3, 37
    g = torch.Generator().manual_seed(3)
    q, k, v = torch.randn(3, 2, tokens, heads, D, generator=g).unbind(0)
    ref = torch.nn.functional.scaled_dot_product_attention(*(x.transpose(1, 2) for x in (q, k, v))).transpose(1, 2)
    shards = SequenceShards((tokens,), world)
    seen = []

    def sdpa(q_h, k_h, v_h, out_h, head_offset):
        seen.append((head_offset, q_h.shape[1], q_h.shape[2]))
        out_h.copy_(torch.nn.functional.scaled_dot_product_attention(q_h, k_h, v_h))

    q_l, k_l, v_l = (shard(x, shards, rank, seed=200 + i) for i, x in enumerate((q, k, v)))
    out, results = ulysses_attention(q_l, k_l, v_l, sdpa, shards=shards, chunks=4)  # groups 2+1 -> empty ones
    positions = local_positions(shards, rank)
    valid = positions >= 0
    return {"max_abs_err": (out[:, valid] - ref[:, positions[valid]]).abs().max().item(),
            "calls": seen, "results": [(r.head_offset, r.heads) for r in results],
            "expected_offset": head_offsets(heads, world)[rank], "expected_heads": head_counts(heads, world)[rank]}


def same_rows_check(world):
    """Rows drawn by a per-run generator in call order are the same on every rank."""
    generator = torch.Generator().manual_seed(11)
    draws = torch.stack([sample_rows(500, 16, generator, "cpu") for _ in range(3)])
    gathered = [torch.empty_like(draws) for _ in range(world)]
    dist.all_gather(gathered, draws)
    return all(torch.equal(gathered[0], other) for other in gathered[1:])


# ---- test doubles of the engines that run Ulysses themselves (see docs/multi-gpu.md) ----
def seq_to_heads(x):
    """[B, L, H, D] -> [B, P*L, H/P, D]: yunchang's all_to_all_4D(scatter 2, gather 1), as xFuser's
    long-context attention (Raylight's USP) calls it; rank r gets heads [r*H/P, (r+1)*H/P)."""
    if yunchang_all_to_all_4d is not None:
        return yunchang_all_to_all_4d(x, 2, 1)
    world = dist.get_world_size()
    batch, local, heads, dim = x.shape
    send = x.reshape(batch, local, world, heads // world, dim).permute(2, 1, 0, 3, 4).contiguous()
    recv = torch.empty_like(send)
    dist.all_to_all_single(recv, send)
    return recv.reshape(world * local, batch, heads // world, dim).transpose(0, 1).contiguous()


def heads_to_seq(x):
    """[B, P*L, H/P, D] -> [B, L, H, D]: yunchang's all_to_all_4D(scatter 1, gather 2)."""
    if yunchang_all_to_all_4d is not None:
        return yunchang_all_to_all_4d(x, 1, 2)
    world = dist.get_world_size()
    batch, tokens, heads, dim = x.shape
    send = x.reshape(batch, world, tokens // world, heads, dim).permute(1, 3, 2, 0, 4).contiguous()
    recv = torch.empty_like(send)
    dist.all_to_all_single(recv, send)
    return recv.reshape(world * heads, tokens // world, batch, dim).permute(2, 1, 0, 3).contiguous()


def raylight_attention(q, k, v, processor, transformer_options):
    """Raylight's xFuser attention with its inner-attention dispatcher (Raylight commit 55ea37bb):
    all-to-all, then the processor in place of xFuser's ring_attn_fn, then the all-to-all back."""
    q_g, k_g, v_g = (seq_to_heads(t) for t in (q, k, v))

    def dense(query, key, value, **kwargs):
        return torch.nn.functional.scaled_dot_product_attention(
            *(t.transpose(1, 2) for t in (query, key, value))).transpose(1, 2)

    out = processor(dense, q_g, k_g, v_g, transformer_options=transformer_options, dropout_p=0.0,
                    softmax_scale=None, causal=False, window_size=(-1, -1), alibi_slopes=None, group=None,
                    joint_tensor_key=None, joint_tensor_value=None, joint_strategy="none")
    return heads_to_seq(out[0] if isinstance(out, tuple) else out)


XDIT_REGISTRY = {}


def register_attention_function(key):
    """xfuser's registry decorator (xfuser 0.7.0 attention_backend.py): any key, a plain dict."""
    def decorator(func):
        XDIT_REGISTRY[key] = func
        return func
    return decorator


def xdit_usp(query, key, value, backend, attention_kwargs):
    """xfuser 0.7.0 USP, Ulysses only: q, k, v [B, H, L, D]; heads scattered (H % P == 0), K/V cut
    to attention_kwargs["valid_kv_len"], the registered function, the all-to-all back."""
    world = dist.get_world_size()

    def scatter_heads(x):
        batch, heads, local, dim = x.shape
        assert heads % world == 0
        send = x.permute(1, 0, 2, 3).contiguous()
        recv = torch.empty_like(send)
        dist.all_to_all_single(recv, send)
        return recv.reshape(world, heads // world, batch, local, dim).permute(2, 1, 0, 3, 4).reshape(
            batch, heads // world, world * local, dim)

    def gather_heads(x):
        batch, heads, tokens, dim = x.shape
        send = x.permute(2, 0, 1, 3).contiguous()
        recv = torch.empty_like(send)
        dist.all_to_all_single(recv, send)
        return recv.reshape(world, tokens // world, batch, heads, dim).permute(2, 0, 3, 1, 4).reshape(
            batch, world * heads, tokens // world, dim)

    query, key, value = (scatter_heads(t) for t in (query, key, value))
    valid = attention_kwargs.get("valid_kv_len")
    if valid is not None:
        key, value = key[:, :, :valid], value[:, :, :valid]
    out, _ = XDIT_REGISTRY[backend](query, key, value, dropout_p=0.0, is_causal=False,
                                    attention_kwargs=attention_kwargs)
    return gather_heads(out)


ENGINE_CASES = {
    # engine, case of CASES with 4 heads (the engines need H % P == 0)
    "xdit_wan_padded": ("xdit", dict(heads=4, batch=1, layout=VideoLayout(5, 19), segments=None, masked=())),
    "raylight_wan_padded": ("raylight", dict(heads=4, batch=1, layout=VideoLayout(5, 19), segments=None, masked=())),
    "raylight_hunyuan_segments": ("raylight", dict(heads=4, batch=2, layout=VideoLayout(4, 20, 0, 13),
                                                   segments=(80, 13), masked=(5, 3))),
}


def engine_case(name, engine, case, rank, world):
    layout = case["layout"]
    q, k, v, key_bias = full_inputs(case, seed=zlib.crc32(name.encode()) % 1000)
    plan = plan_band(layout, 0.5, BLOCK)
    rows = sample_rows(layout.video_tokens, 8, torch.Generator().manual_seed(7), "cpu")
    ref_out, ref_temporal = svg_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan, rows,
                                          key_bias=key_bias)
    ref_out = ref_out.transpose(1, 2)
    shards = SequenceShards(tuple(case["segments"] or (layout.total_tokens,)), world)
    q_l, k_l, v_l = (shard(x, shards, rank, seed=300 + i) for i, x in enumerate((q, k, v)))
    source = SVGEngineSource(layout, plan, shards, rank, torch.Generator().manual_seed(7), sampled_rows=8,
                             key_bias=key_bias)
    if engine == "xdit":
        register_attention_function("SPARSEVIDEOGEN_SVG")(xdit_attention)
        kwargs = {ENGINE_KEY: source, "valid_kv_len": layout.total_tokens}
        out = xdit_usp(*(t.transpose(1, 2) for t in (q_l, k_l, v_l)), "SPARSEVIDEOGEN_SVG", kwargs).transpose(1, 2)
    else:
        out = raylight_attention(q_l, k_l, v_l, RaylightSVGProcessor(), {ENGINE_KEY: source})
    labels = merge_head_values(source.labels[0])
    positions = local_positions(shards, rank)
    valid = positions >= 0
    return {"max_abs_err": (out[:, valid] - ref_out[:, positions[valid]]).abs().max().item(),
            "ref_max_abs": ref_out.abs().max().item(),
            "labels_equal": bool(torch.equal(labels, ref_temporal.to(torch.int8))), "labels": labels.tolist(),
            "calls": len(source.labels), "padding_rows": int((~valid).sum())}


def raylight_without_source(rank, world):
    """A call whose transformer_options carry no SVG source runs Raylight's dense attention."""
    g = torch.Generator().manual_seed(5)
    q, k, v = torch.randn(3, 1, 40, 4, D, generator=g).unbind(0)
    ref = torch.nn.functional.scaled_dot_product_attention(*(x.transpose(1, 2) for x in (q, k, v))).transpose(1, 2)
    local = 40 // world
    out = raylight_attention(*(x[:, rank * local:(rank + 1) * local].contiguous() for x in (q, k, v)),
                             RaylightSVGProcessor(), {})
    return (out - ref[:, rank * local:(rank + 1) * local]).abs().max().item()


def main():
    rank, world, store, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=60))
    results = {}
    try:
        for name, case in CASES.items():
            results[name] = run_case(name, case, rank, world)
        results["dense_sdpa"] = dense_case(rank, world)
        results["same_rows"] = same_rows_check(world)
        for name, (engine, case) in ENGINE_CASES.items():
            results[name] = engine_case(name, engine, case, rank, world)
        results["raylight_without_source"] = raylight_without_source(rank, world)
        results["yunchang_all_to_all"] = yunchang_all_to_all_4d is not None
    except Exception:  # reported to the test, which fails with it
        results["error"] = traceback.format_exc()
    (out_dir / f"rank{rank}.json").write_text(json.dumps(results))
    if "error" not in results:
        dist.barrier()
    dist.destroy_process_group()
    return 1 if "error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
