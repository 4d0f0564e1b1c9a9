"""The "SVG Attention Report" node: the head map and the summary of the sampling run of an
SVG-patched model that made the given samples. Node id and input names are stable.

It never fails a prompt: where it has nothing true to show (no SVG patch on the model, no run of
the patch made these samples, the patch was replaced by a later SVG node, a model the pack does not
support) it returns a picture and a summary that say so in words, and the prompt's other outputs land.
"""
from __future__ import annotations

import logging

import torch
from comfy_api.latest import io, ui

from ..svg_attention.report import (column_caption, ending, head_density_map, head_map_columns, head_map_counts,
                                    latent_fingerprint, render_density_map, render_head_map, render_message,
                                    same_latent, why_nothing_sparse)
from .patch import PATCH_KEY

NODE_ID = "SVGAttentionReport"
# inputs through which a node samples a model (KSampler: model; SamplerCustomAdvanced: guider)
SAMPLER_MODEL_INPUTS = ("model", "guider")
log = logging.getLogger("svg_sparse_attention")


class SVGAttentionReport(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="SVG Attention Report",
            category="model/patches",
            description="Shows what SVG Sparse Attention did in the sampling run that made 'samples': a head map "
                        "(transformer blocks x heads, the positive prompt's heads then the negative's; blue spatial, "
                        "orange temporal, grey dense, mixed colours where a head changed kind between steps; for pattern svg2, "
                        "which has no head kinds, each head's kept density in green) and a text summary. Where there is no such run it says why instead.",
            is_output_node=True,
            inputs=[
                io.Model.Input("model", tooltip="The model coming out of SVG Sparse Attention (the one the sampler used)."),
                io.Latent.Input("samples", tooltip="The sampler's output: connecting it makes the report run after sampling."),
            ],
            outputs=[
                io.Image.Output(display_name="head_map", tooltip="Blocks x heads of the run, summed over its steps."),
                io.String.Output(display_name="summary", tooltip="Sparse and dense calls, head kinds, density, backend."),
            ],
            hidden=[io.Hidden.prompt, io.Hidden.unique_id],
        )

    @classmethod
    def execute(cls, model, samples) -> io.NodeOutput:
        try:
            hidden = cls.hidden     # set by ComfyUI's executor (None when called outside it)
            title, picture, lines = report_for(model, samples, getattr(hidden, "prompt", None),
                                               getattr(hidden, "unique_id", None))
        except Exception as error:   # the report must not cost the prompt its other outputs
            log.warning(f"[SVG] the attention report could not be made: {error!r}", exc_info=True)
            title = "SVG: the report could not be made"
            lines = [f"The SVG Attention Report failed: {error!r}. The sampling itself is not affected; "
                     "the server log has the details."]
            picture = render_message(title, lines)
        image = picture.float().div(255.0)[None]
        return io.NodeOutput(image, "\n".join(lines), ui=ui.PreviewImage(image, cls=cls))


def report_for(model, samples, prompt=None, unique_id=None):
    """(title, picture uint8 [H, W, 3], summary lines) for the report node's inputs."""
    options = getattr(model, "model_options", {}).get("transformer_options", {})
    patch = options.get(PATCH_KEY)
    if patch is None:
        title = "SVG: no SVG patch on this model"
        lines = ["No SVG patch on this model: the model connected to 'model' did not come out of an SVG Sparse "
                 "Attention node, so there is no run to report. Connect the MODEL output of the SVG Sparse "
                 "Attention node (the model the sampler uses)."]
        return title, render_message(title, lines), lines

    latent = samples.get("samples") if isinstance(samples, dict) else None
    fingerprint = latent_fingerprint(latent)
    reports = patch.reports
    later = list(reversed(reports.replaced_by))          # newest first
    if fingerprint is None:                              # cannot check: show the latest run, saying so
        run = reports.last or next((r.last for r in later if r.last is not None), None)
        if run is not None:
            note = ("These samples are not a plain latent tensor, so the report cannot check which run made "
                    "them: it shows the latest run of this patch.")
            return _run_report(run, [note])
    else:
        run = _matching(reports.runs, fingerprint)
        if run is not None:
            return _run_report(run, [])
        for holder in later:
            run = _matching(holder.runs, fingerprint)
            if run is not None:
                note = ("This SVG node's patch was replaced by a later SVG Sparse Attention node applied to the same "
                        "model: the later node's settings applied, this node's did not. Shown: the later node's run, "
                        "which made these samples.")
                return _run_report(run, [note])
    return _no_run(reports, later, _samples_source(prompt, unique_id))


def _matching(runs, fingerprint):
    """The newest of ``runs`` whose output is these samples, or None."""
    return next((run for run in reversed(runs) if same_latent(run.output, fingerprint)), None)


def _run_report(run, notes):
    summary = run.summary
    headline = [line for line in (ending(run), why_nothing_sparse(summary)) if line]
    if headline and ending(run):
        headline[0] = f"This run was {headline[0]}; the counts cover those steps only."
    caption = column_caption(*head_map_columns(run.records)) if run.records else None
    densities = [r[3] for r in run.records if r[3] is not None] if not run.label_names else []
    head_densities = torch.cat([d.reshape(-1) for d in densities]) if densities else None
    lines = notes + headline + format_summary(summary, caption, head_densities).splitlines()
    if summary.get("unsupported_model"):
        title = "SVG: not a supported video model"
        message = [summary["unsupported_model"],
                   "Every attention call of this run ran dense: the samples are what the model gives without the "
                   "SVG node."] + notes
        return title, render_message(title, message), lines
    if not run.records:
        title = "SVG: nothing sparse in this run"
        return title, render_message(title, notes + headline), lines
    pattern = summary.get("pattern", "svg")
    if summary["sparse_calls"]:
        name = "SVG" if pattern == "svg" else f"SVG ({pattern})"
        title = (f"{name}: {summary['sparse_calls']} sparse / {summary['dense_calls']} dense calls, "
                 f"density {summary['density']:.3f}")
    else:
        title = "SVG: nothing sparse in this run"
    if head_densities is not None:      # a pattern without labels (svg2): kept density per block and head
        mean, dense_share = head_density_map(run.records)
        how = ("cells: mean kept density of each head's sparse calls in percent (green, deeper = more kept), "
               "grey where calls ran dense")
        picture = render_density_map(mean, dense_share, title=title, notes=[caption, how] + notes + headline)
        return title, picture, lines
    counts = head_map_counts(run.records, len(run.label_names))
    picture = render_head_map(counts, run.label_names, title=title, notes=[caption] + notes + headline)
    return title, picture, lines


def _no_run(reports, later, source):
    """No run of this patch (nor of a later patch replacing it) made these samples: say why."""
    lines = []
    if later:
        lines.append("This SVG node's patch was replaced by a later SVG Sparse Attention node applied to the same "
                     "model (the later node's settings apply, this node's do not), and no run of either made these "
                     "samples.")
    if source is None:
        lines.append("No run of this SVG patch made these samples: either the sampler that gave them ran no steps "
                     "(KSampler with denoise 0.0 returns its input latent without calling the model), or they do not "
                     "come from a sampler of this model (connect the sampler's LATENT output to 'samples').")
        title = "SVG: no run of this patch made these samples"
    else:
        node, class_type, samples_this_model = source
        if samples_this_model:
            title = "SVG: the sampler ran no steps"
            lines.append(f"{class_type} (node {node}), which gave these samples, ran no sampling steps with this model "
                         "(for example denoise 0.0: the sampler returns its input latent without calling the model). "
                         "There is no run to report.")
        else:
            what = "does not sample this model" if class_type is not None else "is not a node of this prompt"
            title = "SVG: not sampled yet"
            lines.append(f"Not sampled yet: 'samples' comes from {class_type or 'a node'} (node {node}), which {what}, "
                         "so no run of this SVG patch made them. Connect the LATENT output of the sampler that uses "
                         "this model to 'samples'.")
    latest = reports.last or next((holder.last for holder in later if holder.last is not None), None)
    if latest is not None:
        what = ending(latest)
        run = f"was {what}" if what else "finished"
        lines.append(f"The latest run of this patch {run} ({latest.summary['sparse_calls']} sparse / "
                     f"{latest.summary['dense_calls']} dense attention calls); it did not make these samples, so it is "
                     "not shown.")
    return title, render_message(title, lines), lines


def _samples_source(prompt, unique_id):
    """(node id, class_type, whether that node samples the report's model) of the node that gives the
    report its 'samples', from the prompt (API format); None where the prompt does not tell. A node
    samples the model when one of its SAMPLER_MODEL_INPUTS leads back to the node giving 'model'."""
    if not isinstance(prompt, dict) or unique_id is None:
        return None
    inputs = prompt.get(str(unique_id), {}).get("inputs", {})
    samples_link, model_link = inputs.get("samples"), inputs.get("model")
    if not (_is_link(samples_link) and _is_link(model_link)):
        return None
    source, model_node = str(samples_link[0]), str(model_link[0])
    node = prompt.get(source)
    if not isinstance(node, dict):
        return source, None, False
    upstream = [str(value[0]) for name, value in node.get("inputs", {}).items()
                if name in SAMPLER_MODEL_INPUTS and _is_link(value)]
    seen = set()
    while upstream:
        current = upstream.pop()
        if current == model_node:
            return source, node.get("class_type"), True
        if current in seen or not isinstance(prompt.get(current), dict):
            continue
        seen.add(current)
        upstream += [str(value[0]) for value in prompt[current].get("inputs", {}).values() if _is_link(value)]
    return source, node.get("class_type"), False


def _is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))


def format_summary(summary: dict, columns: str | None = None, head_densities=None) -> str:
    """The report's text; ``head_densities``: every (call, batch entry, head) kept density of a run
    whose pattern has no labels (svg2), summarised as min / mean / max."""
    label_counts = summary["label_counts"]
    heads = sum(label_counts.values())
    lines = [
        f"sparse attention calls: {summary['sparse_calls']}",
        f"dense attention calls: {summary['dense_calls']}",
    ]
    lines += [f"  dense because {reason}: {count}" for reason, count in sorted(summary["dense_reasons"].items())]
    if heads:
        shares = ", ".join(f"{100 * count / heads:.1f}% {name}" for name, count in label_counts.items())
        lines.append(f"heads: {shares} ({heads} head decisions)")
    if head_densities is not None and head_densities.numel():
        lines.append(f"kept density per head (sparse calls): min {float(head_densities.min()):.3f}, "
                     f"mean {float(head_densities.mean()):.3f}, max {float(head_densities.max()):.3f} "
                     f"({head_densities.numel()} head decisions)")
    if "full_clusterings" in summary:
        lines.append(f"clusterings: {summary['full_clusterings']} full, {summary['warm_clusterings']} warm "
                     f"(k-means of queries and keys; up to {summary.get('svg2_query_clusters')} query / "
                     f"{summary.get('svg2_key_clusters')} key clusters)")
    if columns:
        lines.append(f"head map {columns}")
    density = "n/a (no sparse call)" if summary["density"] is None else f"{summary['density']:.3f}"
    lines.append(f"density kept: {density} (requested {summary['requested_density']:.3f})")
    lines.append(f"backend: {summary['backend']}")
    return "\n".join(lines)
