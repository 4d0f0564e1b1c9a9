"""In-process tests against a real ComfyUI tree: tiny random-weight models built with ComfyUI's own
model classes, sampled through ``comfy.sample.sample`` with and without the SVG node.

The tree comes from the environment variable ``SVG_COMFYUI_DIR`` (scripts/test.sh sets it for each
host: ``.host/comfyui``, ComfyUI 0.3.75, and ``.host/0.19.3/comfyui``, ComfyUI 0.19.3, each run with
its own venv's python); without it every test here is skipped with that reason.
ComfyUI is imported once per session, forced onto the CPU. The pack is imported as the package
``svg_pack`` (tests/conftest.py), as ComfyUI imports a custom node.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

from host_selection import skip_unless_host_available
from model_configs import complete_config  # scripts/ (on the path through host_selection)

ENV = "SVG_COMFYUI_DIR"
SKIP_REASON = (f"{ENV} is not set: point it at a ComfyUI tree (scripts/test.sh: each host's, e.g. "
               ".host/comfyui) to run the in-process ComfyUI tests")


def comfy_dir():
    value = os.environ.get(ENV)
    if not value:
        return None
    return Path(value).resolve()


def _import_comfy(path: Path):
    if not (path / "comfy" / "model_base.py").is_file():
        pytest.skip(f"{ENV}={path} is not a ComfyUI tree (no comfy/model_base.py)")
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    argv = sys.argv
    sys.argv = [argv[0], "--cpu"]
    try:
        import comfy.options
        comfy.options.enable_args_parsing()
        import comfy.cli_args  # noqa: F401  (parses the --cpu above, once)
        import comfy.model_management
        import comfy.model_patcher
        import comfy.sample
        import comfy.samplers  # noqa: F401
        import comfy.supported_models
    finally:
        sys.argv = argv
    return comfy


class Host:
    """ComfyUI, the pack's node glue, and helpers to build and sample tiny models."""

    def __init__(self, path: Path):
        self.path = path
        self.comfy = _import_comfy(path)
        import comfyui_version

        self.version = comfyui_version.__version__          # "0.3.75", "0.19.3", ...
        self.version_tuple = tuple(int(p) for p in self.version.split(".")[:3])
        import svg_pack.nodes.patch as patch
        import svg_pack.nodes.model_layout as model_layout
        from svg_pack.nodes.apply import apply_svg
        from svg_pack.svg_attention import SVGConfig

        self.patch = patch
        self.model_layout = model_layout
        self.apply_svg = apply_svg
        self.SVGConfig = SVGConfig
        self.cpu = torch.device("cpu")

    def build(self, config_name: str, unet_config: dict, seed: int = 0, dtype=torch.float32):
        """A ModelPatcher around ComfyUI's model class for ``config_name`` (a class in
        comfy.supported_models) with ``unet_config``, random weights, on the CPU, computing in
        ``dtype`` (fp32 weights, cast at use for fp16/bf16, as ComfyUI does on the CPU). Built
        directly, not through detection: several families hard-code full-size shapes there."""
        config_class = getattr(self.comfy.supported_models, config_name)

        def make(config):
            model_config = config_class(dict(config))
            model_config.set_inference_dtype(torch.float32, None if dtype == torch.float32 else dtype)
            return model_config.get_model({}, "")

        # fields this host's model class requires beyond the hand-written config (0.19.3:
        # HunyuanVideoParams.meanflow_sum, FluxParams.txt_ids_dims), as its detection gives them
        model = make(complete_config(make, unet_config))
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in model.diffusion_model.named_parameters():
                if param.dtype.is_floating_point:
                    param.copy_(torch.randn(param.shape, generator=gen) * 0.02)
        model.eval()
        return self.comfy.model_patcher.ModelPatcher(model, load_device=self.cpu, offload_device=self.cpu)

    def sample(self, model, latent, positive, negative=None, steps=3, cfg=1.0, seed=1, **kwargs):
        noise = self.comfy.sample.prepare_noise(latent, seed)
        negative = positive if negative is None else negative
        return self.comfy.sample.sample(model, noise, steps, cfg, "euler", "simple", positive, negative,
                                        latent, denoise=1.0, seed=seed, **kwargs)

    def svg(self, model, **settings):
        """The node's output for ``model``: small warm-up, no dense blocks, the reference backend."""
        settings = {"sparsity": 0.75, "dense_warmup": 0.3, "dense_blocks": 0, "backend": "reference",
                    **settings}
        return self.apply_svg(model, self.SVGConfig(**settings))

    @staticmethod
    def report(model):
        """The RunReport of ``model``'s latest run."""
        return model.model_options["transformer_options"]["svg_sparse_attention"].reports.last


@pytest.fixture(scope="session")
def host():
    skip_unless_host_available()
    path = comfy_dir()
    if path is None:
        pytest.skip(SKIP_REASON)
    torch.set_grad_enabled(False)
    return Host(path)


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny models run fastest on one thread; several threads on a busy (CI) machine were
    ten times slower here. Restored after each test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def layouts(host, monkeypatch):
    """Every VideoLayout the run's sparse attention calls used, in call order."""
    seen = []
    real = host.patch.sparse_attention

    def spy(q, k, v, layout, *args, **kwargs):
        seen.append(layout)
        return real(q, k, v, layout, *args, **kwargs)

    monkeypatch.setattr(host.patch, "sparse_attention", spy)
    return seen
