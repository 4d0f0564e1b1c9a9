"""The runtime of one SVG patch: per-run state, the two wrappers and the attention override.

Where state lives (nothing on the shared model object):
- ``SVGPatch``: the settings of one node application, in the patched clone's
  ``model_options["transformer_options"]``; never mutated after creation.
- ``SVGRun``: one sampling run; the OUTER_SAMPLE wrapper puts it into the run's own copy of the
  model options and logs its summary at the end. It holds the run's sparsity pattern (by
  ``config.pattern``), the pattern's run state (``pattern.new_run_state()``, dropped when the run
  ends), the plan per layout (``pattern.plan``, made once), the backends per device and dtype, the
  seeded profiler generator and the record of every video self-attention call.
- ``SVGCall``: one diffusion-model call (one step of one cond batch); made by the DIFFUSION_MODEL
  wrapper, which decides once per call what is the same for all its layers (warm-up, video grid).
The attention override then only does per-layer work: it asks the run for the layout's plan and
the pattern to attend (svg_attention.sparse_attention).

Threads: ComfyUI's "MultiGPU CFG Split" runs each condition batch in its own thread, on its own
device, with one shared SVGRun (the run's model options reach every thread). Each thread's model
call gets its own transformer_options dict, so its SVGCall is its own; the SVGRun's counters,
records and caches are updated under its lock, and what is per device or per condition is kept
per (device, condition): profiling generators (each condition's row sampling is the same whichever
thread runs first), the pattern's run state (a cache of one condition never serves another) and
the label tallies (no cross-device tensor sums).
"""
from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter, deque

import torch
from comfy.model_management import InterruptProcessingException

from ..svg_attention import SVGConfig, get_pattern, sparse_attention
from ..svg_attention.backends import resolve_backend
from ..svg_attention.report import batch_conditions, latent_fingerprint
from ..svg_attention.speed_floor import sparse_pays
from . import override_chain

PATCH_KEY = "svg_sparse_attention"
RUN_KEY = "svg_sparse_attention_run"
CALL_KEY = "svg_sparse_attention_call"
LOG_PREFIX = "[SVG]"
MAX_USEFUL_DENSITY = 0.9
RECENT_RUNS = 8        # run reports kept per patch (the report node picks the one that made its samples)

log = logging.getLogger("svg_sparse_attention")


class RunReports:
    """The reports of the recent runs of one patch, for the report node, and the later patches that
    replaced this one on a clone of its model. Shared by every clone of the patched model
    (ModelPatcher.clone deep-copies model_options)."""

    def __init__(self):
        self.runs = deque(maxlen=RECENT_RUNS)
        self.replaced_by = deque(maxlen=RECENT_RUNS)   # RunReports of later SVG patches on clones

    @property
    def last(self):
        """The latest run's RunReport, or None before the first run."""
        return self.runs[-1] if self.runs else None

    def __deepcopy__(self, memo):
        return self


class SVGPatch:
    """Settings of one node application (read-only once made, but for its RunReports)."""

    def __init__(self, config: SVGConfig, adapter, unsupported_reason, previous_override):
        self.config = config
        self.adapter = adapter
        self.unsupported_reason = unsupported_reason
        self.previous_override = previous_override
        self.reports = RunReports()


class RunReport:
    """What one run did, on the CPU: the summary dict and, per video self-attention call,
    (step, block, labels, head_density, conditions): labels int8 [B, H] indexing ``label_names`` or
    None, head_density float32 [B, H] or None (every head kept the call's density); both None: dense;
    conditions: per batch entry, 0 positive / 1 negative / None unknown (report.batch_conditions).
    ``ended``: None (finished), "interrupted" or the error that stopped it, after ``steps_done`` of
    ``steps``; ``output``: report.latent_fingerprint of the latent it returned (None if it did not)."""

    def __init__(self, summary: dict, steps: int, records: list, label_names: tuple = (),
                 ended=None, steps_done=None, output=None):
        self.summary = summary
        self.steps = steps
        self.records = records
        self.label_names = label_names
        self.ended = ended
        self.steps_done = steps if steps_done is None else steps_done
        self.output = output


class SVGRun:
    """State of one sampling run."""

    def __init__(self, patch: SVGPatch, sigmas):
        self.patch = patch
        self.pattern = get_pattern(patch.config.pattern)
        self.run_states = {}           # (device, condition) -> the pattern's run state
        self.plans = {}
        self.sparse_from_sigma = self._first_sparse_sigma(patch.config.dense_warmup, sigmas)
        self.schedule = [] if sigmas is None else [float(s) for s in sigmas[:-1]]
        self.records = []
        self.sparse_calls = 0
        self.dense_calls = 0
        self.dense_reasons = Counter()
        self.logged = set()
        self.head_decisions = 0
        self.label_counts = {}         # device -> tensor [labels]: summed there, no host sync per call
        self.density_sum = 0.0
        self.density_sum_device = {}   # device -> data-dependent densities (tensors), read at the end
        self.run_state_bytes = None
        self.run_state_summary = {}
        self.generators = {}
        self.backends = {}
        self.backend_names = set()
        self.ended = None        # set by the OUTER_SAMPLE wrapper: "interrupted" or the error
        self.steps_done = 0      # steps the sampler finished (its callback)
        self.floors = {}
        self.lock = threading.Lock()   # MultiGPU CFG Split: one run, a thread per condition batch
        self.overrides = {}            # id(override found on the hook) -> (it, what SVG puts there)
        config = patch.config
        if config.fp8_dense_steps and config.precision == "bf16":
            self.log_once("fp8_dense_steps", f"fp8_dense_steps is on, but attention_precision "
                                             f"{config.attention_precision!r} runs bf16: dense steps stay ComfyUI's")

    @staticmethod
    def _first_sparse_sigma(dense_warmup, sigmas):
        """Calls at or below this sigma are sparse; the first round(dense_warmup * steps) steps of
        this run's schedule stay dense. Thresholds, not step indices: samplers that evaluate
        between steps and denoise < 1 (a truncated schedule) work alike."""
        steps = 0 if sigmas is None else max(len(sigmas) - 1, 0)
        dense_steps = int(math.floor(dense_warmup * steps + 0.5))
        if steps == 0 or dense_steps >= steps:
            return -math.inf
        return float(sigmas[dense_steps]) * (1.0 + 1e-5)

    def note_dense(self, reason: str):
        with self.lock:
            self.dense_calls += 1
            self.dense_reasons[reason] += 1
            first = reason not in self.logged
            self.logged.add(reason)
        if first:
            log.info(f"{LOG_PREFIX} dense: {reason}")

    def log_once(self, key, message, level=logging.INFO):
        with self.lock:
            first = key not in self.logged
            self.logged.add(key)
        if first:
            log.log(level, f"{LOG_PREFIX} {message}")

    def generator(self, device, condition=()):
        """The profiling generator of one (device, condition batch): each condition samples the same
        rows whichever thread or device runs it, and threads never share one."""
        key = (str(device), tuple(condition))
        with self.lock:
            if key not in self.generators:
                self.generators[key] = torch.Generator(device=device).manual_seed(self.patch.config.profile_seed)
            return self.generators[key]

    def run_state(self, device, condition=()):
        """The pattern's run state of one (device, condition batch): what a pattern caches from step
        to step for one condition never serves another, whichever thread runs it."""
        key = (str(device), tuple(condition))
        with self.lock:
            if key not in self.run_states:
                self.run_states[key] = self.pattern.new_run_state()
            return self.run_states[key]

    def backend(self, device, dtype, head_dim):
        key = (str(device), dtype, head_dim)
        with self.lock:
            known = self.backends.get(key)
        if known is not None:
            return known
        config = self.patch.config
        backend, why = resolve_backend(config.backend, device, dtype, head_dim, self.pattern.ops, config.precision,
                                       emulate=config.attention_precision != "auto")
        with self.lock:
            backend = self.backends.setdefault(key, backend)
            self.backend_names.add(backend.name)
        self.log_once(("backend",) + key, f"backend: {why}")
        return backend

    def plan(self, layout):
        """The pattern's plan for ``layout`` under this run's settings, made once per layout."""
        plan = self.plans.get(layout)
        if plan is None:
            plan = self.pattern.plan(layout, self.patch.config)
            with self.lock:
                plan = self.plans.setdefault(layout, plan)
        return plan

    def sparse_pays(self, layout, plan, backend, device, head_dim, batch):
        """(bool, reason): whether a sparse call of this size beats dense (speed_floor.py), asked once per
        layout, device, head_dim, batch and precision; only for the Triton backends."""
        if not self.patch.config.speed_floor or not backend.name.startswith("triton"):
            return True, None
        key = (layout, str(device), head_dim, batch, backend.precision)
        if key not in self.floors:
            pays = sparse_pays(device, head_dim, batch, layout.total_tokens, plan.density, backend.precision)
            with self.lock:
                self.floors.setdefault(key, pays)
        return self.floors[key]

    def note_sparse(self, decision):
        density = decision.density
        if isinstance(density, torch.Tensor):
            density = density.detach().float()
        labels, counted = decision.labels, None
        if labels is not None:
            values = torch.arange(len(self.pattern.label_names), device=labels.device, dtype=labels.dtype)
            counted = (labels.reshape(-1, 1) == values).sum(0)
        with self.lock:
            self.sparse_calls += 1
            if isinstance(density, torch.Tensor):
                key = str(density.device)
                summed = self.density_sum_device.get(key)
                self.density_sum_device[key] = density if summed is None else summed + density
            else:
                self.density_sum += density
            if counted is not None:
                self.head_decisions += labels.numel()
                key = str(counted.device)
                summed = self.label_counts.get(key)
                self.label_counts[key] = counted if summed is None else summed + counted

    def record(self, *entry):
        """One video self-attention call: (step, block, labels, head_density, conditions)."""
        with self.lock:
            self.records.append(entry)

    def place_on_hook(self, options):
        """Keep SVG on ComfyUI's attention hook for this model call (nodes/override_chain.py): SVG's
        own override or one that chains to it stays; one that does not reach SVG (a later node
        replaced it) is chained under a new SVG override for this call. One log line per case."""
        current = options.get("optimized_attention_override")
        if override_chain.is_svg_override(current):
            return
        with self.lock:
            known = self.overrides.get(id(current))
        if known is None or known[0] is not current:
            if current is not None and override_chain.reaches_svg(current):
                known = (current, current)
                self.log_once(("hook", id(current)),
                              f"attention override {override_chain.describe(current)} is on top of SVG's: it "
                              f"sees each attention call first and SVG gets the calls it passes on")
            else:
                known = (current, make_attention_override(current))
                what = "nothing" if current is None else override_chain.describe(current)
                self.log_once(("hook", id(current)),
                              f"a later node replaced SVG's attention override with {what}: SVG goes back on "
                              f"top for this run and leaves its dense calls to it", logging.WARNING)
            with self.lock:
                self.overrides[id(current)] = known
        options["optimized_attention_override"] = known[1]

    def close(self):
        """End of the run: note what the run states held (one per device and condition), then drop them."""
        states = list(self.run_states.values())
        sizes = [int(state.memory_bytes()) for state in states if hasattr(state, "memory_bytes")]
        if sizes:
            self.run_state_bytes = sum(sizes)
        # the pattern's own numbers (base.py: run state ``summary``): counts add up over the states,
        # sizes (cluster counts) take the largest
        merged = {}
        for state in states:
            extra = getattr(state, "summary", None)
            for key, value in (extra() if extra is not None else {}).items():
                if key not in merged:
                    merged[key] = value
                else:
                    merged[key] = merged[key] + value if key.endswith("clusterings") else max(merged[key], value)
        self.run_state_summary = merged
        self.run_states = {}

    def step_of(self, sigma: float) -> int:
        """Index of the schedule step a model call at ``sigma`` belongs to."""
        return sum(1 for s in self.schedule if s > sigma * (1.0 + 1e-5))

    def report(self, output=None) -> RunReport:
        records = [(step, block, _on_cpu(labels), _on_cpu(head_density), batch_conditions(*conditions))
                   for step, block, labels, head_density, conditions in self.records]
        return RunReport(self.summary(), len(self.schedule), records, self.pattern.label_names,
                         ended=self.ended, steps_done=self.steps_done, output=latent_fingerprint(output))

    def summary(self) -> dict:
        """The run in numbers: calls, dense reasons, head decisions per label (``label_counts`` and,
        per label name, ``<name>_heads``: svg's spatial_heads / temporal_heads), mean density."""
        names = self.pattern.label_names
        counts = [0] * len(names)
        for device_counts in self.label_counts.values():
            counts = [a + b for a, b in zip(counts, device_counts.tolist())]
        density = None
        if self.sparse_calls:
            kept = self.density_sum + sum(float(d.item()) for d in self.density_sum_device.values())
            density = kept / self.sparse_calls
        summary = {
            "sparse_calls": self.sparse_calls,
            "dense_calls": self.dense_calls,
            "dense_reasons": dict(self.dense_reasons),
            **{f"{name}_heads": count for name, count in zip(names, counts)},
            "label_counts": dict(zip(names, counts)),
            "density": density,
            "requested_density": self.patch.config.requested_density,
            "sparsity": self.patch.config.sparsity,
            "backend": ",".join(sorted(self.backend_names)) or "none",
            "pattern": self.pattern.name,
            "unsupported_model": self.patch.unsupported_reason if self.patch.adapter is None else None,
            "steps": len(self.schedule),
            "steps_done": self.steps_done,
            "ended": self.ended,
        }
        if self.run_state_bytes is not None:
            summary["run_state_bytes"] = self.run_state_bytes
        summary.update({k: v for k, v in self.run_state_summary.items() if k not in summary})
        return summary

    def summary_line(self) -> str:
        s = self.summary()
        heads = sum(s["label_counts"].values())
        if heads:
            share = "heads " + " / ".join(f"{100.0 * count / heads:.0f}% {name}"
                                          for name, count in s["label_counts"].items())
        elif not self.pattern.label_names:
            share = f"pattern {s['pattern']} (no head labels)"
        else:
            share = "no head profiled"
        density = "n/a" if s["density"] is None else f"{s['density']:.3f}"
        text = (f"{s['sparse_calls']} sparse / {s['dense_calls']} dense attention calls, {share}, "
                f"density {density} (requested {s['requested_density']:.3f}), backend {s['backend']}")
        if s["unsupported_model"]:
            text = f"{s['unsupported_model']}; {text}"
        if s["ended"] is not None:
            why = "interrupted" if s["ended"] == "interrupted" else f"stopped by an error ({s['ended']})"
            text = f"{why} after {s['steps_done']} of {s['steps']} steps; {text}"
        return f"{LOG_PREFIX} run summary: {text} | {json.dumps(s, sort_keys=True)}"


class SVGCall:
    """One diffusion-model call: the per-step decisions shared by all its attention calls."""

    def __init__(self, run: SVGRun, dense_reason, grid, step, condition=()):
        self.run = run
        self.dense_reason = dense_reason
        self.grid = grid
        self.step = step
        self.condition = tuple(condition)   # cond_or_uncond of this batch: 0 cond, 1 uncond
        self.video_calls = 0
        self.checked_masks = {}
        self.published = {}                 # layout metadata the model hands its attn1 patches

    def publish(self, key, value):
        """Metadata an attn1 patch saw for the attention call that follows (e.g. ``img_slice``)."""
        self.published[key] = value

    def next_video_block(self) -> int:
        index = self.video_calls
        self.video_calls += 1
        return index

    def key_bias(self, mask, layout, tokens):
        """The additive key bias of a mask that only masks global keys, or (None, why not)."""
        if mask is None:
            return None, None
        if not torch.is_floating_point(mask) or mask.shape[-1] != tokens or \
                mask.dim() not in (3, 4) or any(size != 1 for size in mask.shape[1:-1]):
            return None, f"attention mask of shape {tuple(mask.shape)} and dtype {mask.dtype} is not a key mask"
        key = (id(mask), mask.data_ptr(), layout)
        if key not in self.checked_masks:
            video = mask[..., layout.video_start:layout.video_start + layout.video_tokens]
            self.checked_masks[key] = bool((video == 0).all())
        if not self.checked_masks[key]:
            return None, "attention mask masks video tokens"
        return mask.reshape(mask.shape[0], tokens), None


def _batch_key(cond_or_uncond):
    """ComfyUI's cond_or_uncond as a hashable key (AttendContext.batch_key), None when absent."""
    return tuple(cond_or_uncond) if cond_or_uncond else None


def _on_cpu(tensor):
    return None if tensor is None else tensor.to("cpu")


def _transformer_options(args, kwargs):
    """The call's transformer_options holding this run, wherever the model passes it: some forward
    it positionally but not last (LTXV: ..., transformer_options, keyframe_idxs), some in kwargs."""
    options = kwargs.get("transformer_options")
    if isinstance(options, dict) and RUN_KEY in options:
        return options
    for arg in reversed(args):
        if isinstance(arg, dict) and RUN_KEY in arg:
            return arg
    return None


def _tensor(value):
    """The tensor behind a q/k/v argument: newer ComfyUI may pass single-owner containers
    (``AttentionTensorContainer``: ``take()``) where it has not unwrapped them itself."""
    if isinstance(value, torch.Tensor) or not hasattr(value, "take"):
        return value
    return value.take()


def outer_sample_wrapper(executor, *args, **kwargs):
    """One sampling run: a fresh SVGRun in this run's model options; the summary at the end."""
    guider = executor.class_obj
    options = guider.model_options["transformer_options"]
    patch = options.get(PATCH_KEY)
    sigmas = args[3] if len(args) > 3 else kwargs.get("sigmas")
    run = SVGRun(patch, sigmas)
    options[RUN_KEY] = run
    if patch.adapter is None:   # said every run: the node's own line is not repeated while it is cached
        run.log_once(patch.unsupported_reason, f"dense: {patch.unsupported_reason}")
    args, kwargs = _counting_steps(run, args, kwargs)
    output = None
    try:
        output = executor(*args, **kwargs)
        run.steps_done = len(run.schedule)     # finished (also where a sampler never calls back)
        return output
    except InterruptProcessingException:
        run.ended = "interrupted"
        raise
    except Exception as error:
        run.ended = f"{type(error).__name__}: {error}"[:200]
        raise
    finally:
        options.pop(RUN_KEY, None)
        if output is None and run.ended is None:
            run.ended = "stopped"        # a BaseException (KeyboardInterrupt, SystemExit)
        run.close()
        log.info(run.summary_line())
        patch.reports.runs.append(run.report(output))


def _counting_steps(run, args, kwargs):
    """outer_sample's (args, kwargs) with its step callback wrapped to count the steps the sampler
    finishes into ``run.steps_done`` (ComfyUI's callback: step index, x0, x, total steps). A step
    counts once its callback returned: ComfyUI's interrupt is raised from the callback (the progress
    hook) before the sampler applies that step, or from inside a model call."""
    position = 5     # outer_sample(noise, latent_image, sampler, sigmas, denoise_mask, callback, ...)
    callback = args[position] if len(args) > position else kwargs.get("callback")

    def counted(step, *rest, **kw):
        result = None if callback is None else callback(step, *rest, **kw)
        run.steps_done = max(run.steps_done, int(step) + 1)
        return result

    if len(args) > position:
        return args[:position] + (counted,) + args[position + 1:], kwargs
    return args, {**kwargs, "callback": counted}


def model_call_wrapper(executor, *args, **kwargs):
    """Decide once per model call: warm-up or not, and the video grid of this call. Registered as
    the DIFFUSION_MODEL wrapper, or as the APPLY_MODEL wrapper for adapters with
    ``hook == "apply_model"`` (models whose forward has no DIFFUSION_MODEL wrapper, Mochi)."""
    options = _transformer_options(args, kwargs)
    run = options.get(RUN_KEY) if options is not None else None
    if run is None:
        return executor(*args, **kwargs)
    return _model_call(executor, options, run, args, kwargs)


def _model_call(executor, options, run, args, kwargs):
    patch = run.patch
    dense_reason, grid, step = None, None, -1
    sigmas = options.get("sigmas")
    sigma = float(sigmas.max()) if sigmas is not None else None
    if sigma is not None:
        step = run.step_of(sigma)
    if patch.adapter is None:
        dense_reason = patch.unsupported_reason
    else:
        if sigma is not None and sigma > run.sparse_from_sigma:
            dense_reason = f"dense warm-up ({patch.config.dense_warmup:.0%} of the steps)"
            if patch.config.fp8_dense_steps and patch.config.precision != "bf16":
                grid = _video_grid(patch, args, kwargs)[0]   # FP8 dense steps: the same verified layout
        else:
            grid, dense_reason = _video_grid(patch, args, kwargs)
    run.place_on_hook(options)
    options[CALL_KEY] = SVGCall(run, dense_reason, grid, step, options.get("cond_or_uncond") or ())
    try:
        return executor(*args, **kwargs)
    finally:
        options.pop(CALL_KEY, None)


def _video_grid(patch, args, kwargs):
    """(grid, None) of this model call's video, or (None, why not)."""
    grid, why = patch.adapter.grid(args, kwargs)
    if grid is not None and grid.num_frames < 2:
        name = getattr(patch.adapter, "name", type(patch.adapter).__name__)
        return None, f"{name}: a single frame (image) has no temporal structure to exploit"
    return grid, why


def _split_heads(q, k, v, heads, skip_reshape):
    """(qh, kh, vh [B, H, N, D] views, batch, head_dim) of ComfyUI's q, k, v."""
    if skip_reshape:
        return q, k, v, q.shape[0], q.shape[-1]
    batch, tokens, inner = q.shape
    head_dim = inner // heads
    qh, kh, vh = (t.view(batch, tokens, heads, head_dim).transpose(1, 2) for t in (q, k, v))
    return qh, kh, vh, batch, head_dim


def _new_out(qh, skip_output_reshape):
    """(out as ComfyUI returns it, its [B, H, N, D] view to write)."""
    if skip_output_reshape:
        out = torch.empty_like(qh, memory_format=torch.contiguous_format)
        return out, out
    batch, heads, tokens, head_dim = qh.shape
    out = torch.empty(batch, tokens, heads, head_dim, dtype=qh.dtype, device=qh.device)
    return out.view(batch, tokens, heads * head_dim), out.transpose(1, 2)


def make_attention_override(previous):
    """The attention override; every call it does not make sparse goes to ``previous`` (an earlier
    override, chained) or to ComfyUI's own backend ``func``."""

    def override(func, q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False,
                 skip_output_reshape=False, **kwargs):
        def dense(reason=None):
            if reason is not None and call is not None:
                call.run.note_dense(reason)
            kw = dict(mask=mask, attn_precision=attn_precision, skip_reshape=skip_reshape,
                      skip_output_reshape=skip_output_reshape, **kwargs)
            if previous is None:
                return func(q, k, v, heads, **kw)
            return previous(func, q, k, v, heads, **kw)

        def fp8_dense(reason):
            """A dense call of the verified video layout (warm-up step or leading block) as the FP8
            backend's "dense" op when the run resolves to one; ComfyUI's attention otherwise."""
            key_bias, why = call.key_bias(mask, layout, tokens)
            qh, kh, vh, _, head_dim = _split_heads(q, k, v, heads, skip_reshape)
            if why is not None or kh.dtype != qh.dtype or vh.dtype != qh.dtype:
                return dense(reason)
            backend = call.run.backend(q.device, q.dtype, head_dim)
            if "dense" not in backend.ops:
                return dense(reason)
            out, out_view = _new_out(qh, skip_output_reshape)
            backend["dense"](qh, kh, vh, layout, key_bias=key_bias, scale=kwargs.get("scale"), out=out_view)
            call.run.note_dense(f"{reason}, as {backend.precision} dense attention ({backend.name})")
            return out

        q, k, v = _tensor(q), _tensor(k), _tensor(v)
        options = kwargs.get("transformer_options") or {}
        call = options.get(CALL_KEY)
        if call is None:
            return dense()
        if call.dense_reason is not None and call.grid is None:
            return dense(call.dense_reason)
        token_axis = 2 if skip_reshape else 1
        tokens = q.shape[token_axis]
        if k.shape[token_axis] != tokens or v.shape[token_axis] != tokens:
            keys = k.shape[token_axis]
            if tokens < keys and call.grid.layout_for(keys, options, call.published)[0] is not None:
                # newer LTX runs its guide-masked self-attention as query groups (noisy tokens,
                # then guide tokens) against all keys
                return dense(f"a query group ({tokens} of the {keys} queries) of the video's self-attention: "
                             f"SVG needs the whole self-attention in one call")
            return dense("cross-attention (query and key lengths differ)")
        if tokens in call.grid.cross_tokens:
            return dense(f"the video's self-attention and the cross-attention both have {tokens} tokens, "
                         f"so they cannot be told apart: this model call stays dense")
        if k.shape != q.shape or v.shape != q.shape:
            return dense(f"key/value shapes {tuple(k.shape)}/{tuple(v.shape)} differ from the query's "
                         f"{tuple(q.shape)} (grouped-query attention)")
        layout, why = call.grid.layout_for(tokens, options, call.published)
        if layout is None:
            return dense(why)
        block = call.next_video_block()
        run = call.run
        config = run.patch.config
        conditions = (q.shape[0], options.get("cond_or_uncond"))   # resolved per batch entry at the end
        if call.dense_reason is not None:      # a warm-up step with FP8 dense steps asked for
            return fp8_dense(call.dense_reason)
        if block < config.dense_blocks:
            run.record(call.step, block, None, None, conditions)
            reason = f"leading block kept dense (dense_blocks={config.dense_blocks})"
            return fp8_dense(reason) if config.fp8_dense_steps else dense(reason)
        key_bias, why = call.key_bias(mask, layout, tokens)
        if why is not None:
            return dense(why)
        plan = run.plan(layout)
        if plan.covers_all or plan.density > MAX_USEFUL_DENSITY:
            return dense(f"nothing to skip (sparsity {config.sparsity:.2f} keeps {plan.density:.0%})")
        if plan.dense_reason is not None:
            return dense(plan.dense_reason)

        qh, kh, vh, batch, head_dim = _split_heads(q, k, v, heads, skip_reshape)
        if kh.dtype != qh.dtype or vh.dtype != qh.dtype:
            return dense(f"mixed dtypes {q.dtype}/{k.dtype}/{v.dtype}")
        backend = run.backend(q.device, q.dtype, head_dim)
        pays, why = run.sparse_pays(layout, plan, backend, q.device, head_dim, batch)
        if not pays:
            return dense(f"never slower than dense: {why}")
        out, out_view = _new_out(qh, skip_output_reshape)
        _, decision = sparse_attention(qh, kh, vh, layout, plan, pattern=run.pattern, backend=backend,
                                       generator=run.generator(q.device, call.condition), key_bias=key_bias,
                                       scale=kwargs.get("scale"), out=out_view, block_index=block,
                                       head_offset=0,  # all heads here (sequence parallelism: its first)
                                       run_state=run.run_state(q.device, call.condition),
                                       batch_key=_batch_key(conditions[1]))
        run.note_sparse(decision)
        run.record(call.step, block, decision.labels, decision.head_density, conditions)
        if config.verbose:
            run.log_once(("layout", layout, plan), f"sparse: {layout}, {plan.describe()}")
        return out

    # under torch.compile the override runs eagerly (a graph break at each attention call) instead of
    # being traced: its per-call Python state and the Triton launchers stay out of the compiled graph
    compiled = torch.compiler.disable(override)
    setattr(compiled, override_chain.MARK, True)
    return compiled
