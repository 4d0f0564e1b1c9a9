"""The "SVG Attention Report" node: the head map and the summary of the last sampling run of an
SVG-patched model. Node id and input names are stable."""
from __future__ import annotations

from comfy_api.latest import io, ui

from ..svg_attention.report import head_map_counts, render_head_map
from .patch import PATCH_KEY

NODE_ID = "SVGAttentionReport"


class SVGAttentionReport(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="SVG Attention Report",
            category="model/patches",
            description="Shows what SVG Sparse Attention did in the last sampling run of this model: a head map "
                        "(transformer blocks x heads; blue spatial, orange temporal, grey dense, mixed colours where "
                        "a head changed kind between steps) and a text summary.",
            is_output_node=True,
            inputs=[
                io.Model.Input("model", tooltip="The model coming out of SVG Sparse Attention (the one the sampler used)."),
                io.Latent.Input("samples", tooltip="The sampler's output: connecting it makes the report run after sampling."),
            ],
            outputs=[
                io.Image.Output(display_name="head_map", tooltip="Blocks x heads of the last run, summed over its steps."),
                io.String.Output(display_name="summary", tooltip="Sparse and dense calls, head kinds, density, backend."),
            ],
        )

    @classmethod
    def execute(cls, model, samples) -> io.NodeOutput:
        patch = model.model_options.get("transformer_options", {}).get(PATCH_KEY)
        if patch is None:
            raise ValueError("SVG Attention Report: this model has no SVG Sparse Attention patch; "
                             "connect the MODEL output of an SVG Sparse Attention node")
        report = patch.reports.last
        if report is None:
            raise ValueError("SVG Attention Report: this model has not been sampled yet; connect the "
                             "sampler's LATENT output to 'samples'")
        counts = head_map_counts(report.records, len(report.label_names))
        summary = report.summary
        title = (f"SVG: {summary['sparse_calls']} sparse / {summary['dense_calls']} dense calls, "
                 f"density {summary['density'] if summary['density'] is None else round(summary['density'], 3)}")
        image = render_head_map(counts, report.label_names, title=title).float().div(255.0)[None]
        text = format_summary(summary)
        return io.NodeOutput(image, text, ui=ui.PreviewImage(image, cls=cls))


def format_summary(summary: dict) -> str:
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
    density = "n/a" if summary["density"] is None else f"{summary['density']:.3f}"
    lines.append(f"density kept: {density} (requested {summary['requested_density']:.3f})")
    lines.append(f"backend: {summary['backend']}")
    return "\n".join(lines)
