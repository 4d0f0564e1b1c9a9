"""One rank of the Ulysses exactness check (started by test_ulysses_svg.py, gloo on the CPU).

    python ulysses_worker.py RANK WORLD STORE_FILE OUT_DIR

Every rank builds the same full q, k, v (fixed seeds), computes the single-process call on the
whole tensor itself (``sparse_attention``, the reference), then runs the Ulysses call on its
sequence shard and writes, per case, how its shard compares: ``OUT_DIR/rank{RANK}.json``. Padding
tokens get large random q/k/v, so any use of them as keys or queries shows in the error. Besides
"svg", a test pattern with per-(block, global head) run state ("test-head-keys", registered here)
shows that head offsets line up across the ranks.
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

from svg_pack.svg_attention import (PatternDecision, PatternPlan, SVGConfig, VideoLayout, get_pattern,  # noqa: E402
                                    pattern_names, register, sample_rows, sparse_attention)
from svg_pack.svg_attention.ulysses import SequenceShards, head_counts, head_offsets, ulysses_attention  # noqa: E402
from svg_pack.svg_attention.ulysses_engines import (ENGINE_KEY, EngineSource, RaylightProcessor,  # noqa: E402
                                                    xdit_attention)
from svg_pack.svg_attention.ulysses_pattern import merge_decisions, ulysses_sparse_attention  # noqa: E402

try:  # the real all-to-all of yunchang (used by xFuser and so by Raylight), when installed
    from yunchang.comm.all_to_all import all_to_all_4D as yunchang_all_to_all_4d
except ImportError:
    yunchang_all_to_all_4d = None

BLOCK = 16
D = 16
ROWS = 8


def settings(**changes):
    """The settings of every case: half the pairs kept in blocks of 16, 8 profiled rows."""
    return SVGConfig(**{"sparsity": 0.5, "block_size": BLOCK, "sampled_rows": ROWS, "dense_blocks": 0, **changes})


def sdpa(q, k, v):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v)


class HeadKeysPattern:
    """A test pattern with per-(block, global head) run state, like SVG2's centroid cache: the
    first call of a (``ctx.block_index``, ``ctx.head_offset`` + local head) key caches that head's
    mean key [B, D]; every call adds the cached value to the head's dense output. Labels: global
    head parity; head density: a value per global head and block. A head offset that does not line
    up gives another head's cache, label and density."""

    name = "test-head-keys"
    label_names = ("even", "odd")
    ops = ()

    def plan(self, layout, config):
        return PatternPlan(density=1.0, covers_all=False)

    def new_run_state(self):
        return {}

    def attend(self, q, k, v, layout, plan, ctx):
        global_heads = torch.arange(q.shape[1]) + ctx.head_offset
        for local, head in enumerate(global_heads.tolist()):
            cached = ctx.run_state.setdefault((ctx.block_index, head), k[:, local].float().mean(1))
            ctx.out[:, local] = sdpa(q[:, local], k[:, local], v[:, local]) + cached[:, None].to(q.dtype)
        labels = (global_heads % 2).to(torch.int8).expand(q.shape[0], -1)
        head_density = ((global_heads + 1) / 100 + ctx.block_index / 1000).float().expand(q.shape[0], -1)
        return PatternDecision(labels=labels, head_density=head_density, density=head_density.mean())


if HeadKeysPattern.name not in pattern_names():
    register(HeadKeysPattern())

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
    plan = get_pattern("svg").plan(layout, settings())
    assert not plan.covers_all and plan.dense_reason is None, (name, plan)
    # the profiler's rows: the same generator seed and call order on every rank (as per sampling run)
    rows = sample_rows(layout.video_tokens, ROWS, torch.Generator().manual_seed(7), "cpu")
    ref_out, ref = sparse_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan,
                                    pattern="svg", rows=rows, key_bias=key_bias)
    ref_out = ref_out.transpose(1, 2)

    segments = case["segments"] or (layout.total_tokens,)
    shards = SequenceShards(tuple(segments), world)
    q_l, k_l, v_l = (shard(x, shards, rank, seed=100 + i) for i, x in enumerate((q, k, v)))
    out, decision = ulysses_sparse_attention(q_l, k_l, v_l, layout, plan, pattern="svg", rows=rows,
                                             key_bias=key_bias, shards=shards, chunks=case["chunks"])
    positions = local_positions(shards, rank)
    valid = positions >= 0
    err = (out[:, valid] - ref_out[:, positions[valid]]).abs().max().item()
    return {
        "max_abs_err": err,
        "ref_max_abs": ref_out.abs().max().item(),
        "labels_equal": bool(torch.equal(decision.labels, ref.labels)),
        "labels": decision.labels.tolist(),
        "head_density_none": decision.head_density is None and ref.head_density is None,
        "density_err": abs(float(decision.density) - float(ref.density)),
        "padding_rows": int((~valid).sum()),
        "padding_rows_zero": bool((out[:, ~valid] == 0).all()),
        "finite": bool(torch.isfinite(out).all()),
        "temporal_heads": int(ref.labels.sum()),
    }


# (block_index, chunks) of the successive calls of the head-keys case: every block visited twice,
# the second time with another head grouping, so a cached entry is read under another head offset
KEYS_CALLS = [(0, 1), (1, 2), (0, 2), (1, 3)]


def keys_case(rank, world):
    """The per-head run-state pattern over 5 heads (3 + 2 on 2 ranks), a padded tail, four calls
    merged at once: outputs, labels, head densities and the run state's keys against one process."""
    heads, layout = 5, VideoLayout(3, 12, 0, 5)
    pattern = get_pattern(HeadKeysPattern.name)
    plan = pattern.plan(layout, settings(pattern=pattern.name))
    shards = SequenceShards((layout.total_tokens,), world)
    single_state, rank_state = pattern.new_run_state(), pattern.new_run_state()
    errors, refs, records = [], [], []
    for call, (block, chunks) in enumerate(KEYS_CALLS):
        g = torch.Generator().manual_seed(40 + call)
        q, k, v = torch.randn(3, 2, layout.total_tokens, heads, D, generator=g).unbind(0)
        ref_out, ref = sparse_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan,
                                        pattern=pattern, block_index=block, run_state=single_state)
        q_l, k_l, v_l = (shard(x, shards, rank, seed=400 + 3 * call + i) for i, x in enumerate((q, k, v)))
        out, record = ulysses_sparse_attention(q_l, k_l, v_l, layout, plan, pattern=pattern.name, block_index=block,
                                               run_state=rank_state, shards=shards, chunks=chunks, merge=False)
        positions = local_positions(shards, rank)
        valid = positions >= 0
        errors.append((out[:, valid] - ref_out.transpose(1, 2)[:, positions[valid]]).abs().max().item())
        refs.append(ref)
        records.append(record)
    merged = merge_decisions(records)  # one all-reduce for the four calls
    return {
        "max_abs_err": max(errors),
        "labels_equal": all(torch.equal(m.labels, r.labels) for m, r in zip(merged, refs)),
        "head_density_equal": all(torch.equal(m.head_density, r.head_density) for m, r in zip(merged, refs)),
        "density_err": max(abs(float(m.density) - float(r.density)) for m, r in zip(merged, refs)),
        "local_labels": [rec.labels.tolist() for rec in records],
        "keys": sorted(rank_state),
        "single_process_keys": sorted(single_state),
        "expected_heads": list(range(head_offsets(heads, world)[rank],
                                     head_offsets(heads, world)[rank] + head_counts(heads, world)[rank])),
        "padding_rows": int((local_positions(shards, rank) < 0).sum()),
    }


def dense_case(rank, world):
    """The layer is generic: a dense SDPA local attention gives SDPA of the whole sequence."""
    heads, tokens = 3, 37
    g = torch.Generator().manual_seed(3)
    q, k, v = torch.randn(3, 2, tokens, heads, D, generator=g).unbind(0)
    ref = sdpa(*(x.transpose(1, 2) for x in (q, k, v))).transpose(1, 2)
    shards = SequenceShards((tokens,), world)
    seen = []

    def sdpa_local(q_h, k_h, v_h, out_h, head_offset):
        seen.append((head_offset, q_h.shape[1], q_h.shape[2]))
        out_h.copy_(sdpa(q_h, k_h, v_h))

    q_l, k_l, v_l = (shard(x, shards, rank, seed=200 + i) for i, x in enumerate((q, k, v)))
    out, results = ulysses_attention(q_l, k_l, v_l, sdpa_local, shards=shards, chunks=4)  # groups 2+1 -> empty ones
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
        return sdpa(*(t.transpose(1, 2) for t in (query, key, value))).transpose(1, 2)

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


def engine_call(engine, q_l, k_l, v_l, source, layout):
    """One attention call through the engine's double with ``source`` in its per-call options."""
    if engine == "xdit":
        register_attention_function("SPARSEVIDEOGEN")(xdit_attention)
        kwargs = {ENGINE_KEY: source, "valid_kv_len": layout.total_tokens}
        return xdit_usp(*(t.transpose(1, 2) for t in (q_l, k_l, v_l)), "SPARSEVIDEOGEN", kwargs).transpose(1, 2)
    return raylight_attention(q_l, k_l, v_l, RaylightProcessor(), {ENGINE_KEY: source})


def engine_case(name, engine, case, rank, world):
    """SVG (by name, from the settings) inside an engine's Ulysses; rows from the run's generator."""
    layout = case["layout"]
    q, k, v, key_bias = full_inputs(case, seed=zlib.crc32(name.encode()) % 1000)
    config = settings()
    plan = get_pattern(config.pattern).plan(layout, config)
    ref_out, ref = sparse_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan,
                                    pattern=config.pattern, generator=torch.Generator().manual_seed(7),
                                    key_bias=key_bias)
    ref_out = ref_out.transpose(1, 2)
    shards = SequenceShards(tuple(case["segments"] or (layout.total_tokens,)), world)
    q_l, k_l, v_l = (shard(x, shards, rank, seed=300 + i) for i, x in enumerate((q, k, v)))
    source = EngineSource(config, layout, shards, rank, generator=torch.Generator().manual_seed(7),
                          key_bias=key_bias)
    out = engine_call(engine, q_l, k_l, v_l, source, layout)
    [(block, decision)] = source.decisions()
    positions = local_positions(shards, rank)
    valid = positions >= 0
    return {"max_abs_err": (out[:, valid] - ref_out[:, positions[valid]]).abs().max().item(),
            "ref_max_abs": ref_out.abs().max().item(), "block": block,
            "labels_equal": bool(torch.equal(decision.labels, ref.labels)), "labels": decision.labels.tolist(),
            "calls": len(source.calls), "padding_rows": int((~valid).sum())}


def engine_keys_case(rank, world):
    """The per-head run-state pattern named in the settings, inside Raylight's double: three
    attention calls of one model call, the first a leading dense block (dense_blocks=1, the
    engine's own attention), the next two blocks 1 and 2 of the pattern under rank * H/P offsets."""
    # 40 tokens, no padding: Raylight's own dense attention (block 0 here) takes padding tokens as keys
    heads, layout = 4, VideoLayout(3, 12, 0, 4)
    config = settings(pattern=HeadKeysPattern.name, dense_blocks=1)
    pattern = get_pattern(config.pattern)
    plan = pattern.plan(layout, config)
    shards = SequenceShards((layout.total_tokens,), world)
    source = EngineSource(config, layout, shards, rank)
    single_state = pattern.new_run_state()
    errors, refs = [], []
    for block in range(3):
        g = torch.Generator().manual_seed(60 + block)
        q, k, v = torch.randn(3, 1, layout.total_tokens, heads, D, generator=g).unbind(0)
        qh, kh, vh = (t.transpose(1, 2) for t in (q, k, v))
        if block < config.dense_blocks:
            ref_out = sdpa(qh, kh, vh)
        else:
            ref_out, ref = sparse_attention(qh, kh, vh, layout, plan, pattern=pattern, block_index=block,
                                            run_state=single_state)
            refs.append(ref)
        q_l, k_l, v_l = (shard(x, shards, rank, seed=600 + 3 * block + i) for i, x in enumerate((q, k, v)))
        out = engine_call("raylight", q_l, k_l, v_l, source, layout)
        positions = local_positions(shards, rank)
        valid = positions >= 0
        errors.append((out[:, valid] - ref_out.transpose(1, 2)[:, positions[valid]]).abs().max().item())
    decisions = source.decisions()
    return {"max_abs_err": max(errors), "blocks": [block for block, _ in decisions],
            "labels_equal": all(torch.equal(d.labels, r.labels) for (_, d), r in zip(decisions, refs)),
            "head_density_equal": all(torch.equal(d.head_density, r.head_density)
                                      for (_, d), r in zip(decisions, refs)),
            "keys": sorted(source.run_state), "single_process_keys": sorted(single_state),
            "expected_heads": list(range(rank * heads // world, (rank + 1) * heads // world))}


def raylight_without_source(rank, world):
    """A call whose transformer_options carry no SVG source runs Raylight's dense attention."""
    g = torch.Generator().manual_seed(5)
    q, k, v = torch.randn(3, 1, 40, 4, D, generator=g).unbind(0)
    ref = sdpa(*(x.transpose(1, 2) for x in (q, k, v))).transpose(1, 2)
    local = 40 // world
    out = raylight_attention(*(x[:, rank * local:(rank + 1) * local].contiguous() for x in (q, k, v)),
                             RaylightProcessor(), {})
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
        results["head_keys"] = keys_case(rank, world)
        results["same_rows"] = same_rows_check(world)
        for name, (engine, case) in ENGINE_CASES.items():
            results[name] = engine_case(name, engine, case, rank, world)
        results["raylight_head_keys"] = engine_keys_case(rank, world)
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
