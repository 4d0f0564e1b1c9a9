"""Train a tiny text-to-video model with ComfyUI's own Wan 2.1 architecture on procedural videos.

The model is ``comfy.ldm.wan.model.WanModel`` (dim 256, 2 heads of 128 as ComfyUI's detection
assumes, in/out 16 channels, patch 1 x 2 x 2), trained as ComfyUI samples Wan: flow matching with
the CONST parameterisation of ``comfy/model_sampling.py``::

    x_t = (1 - sigma) x0 + sigma noise        (CONST.noise_scaling)
    timestep passed to the model = sigma * 1000 (ModelSamplingDiscreteFlow.timestep, multiplier 1000)
    model output v, target = noise - x0       (CONST.calculate_denoised: x0 = x_t - sigma v)

on latents of ``video_data`` videos through the exact linear map of ``latent_space``; conditioning is
one of ``video_data.PROMPTS`` as a fixed pseudo-random context [8, 4096], dropped to the null
(zero) context with probability ``--uncond-prob`` so that CFG works. Training sigmas: ``u ~ U(0, 1)``
through ComfyUI's ``time_snr_shift(--train-shift, u)``. AdamW, bf16 autocast on CUDA (fp32 master
weights), EMA of the weights, warm-up then cosine learning rate over ``--steps`` or ``--minutes``
(whichever ends first: the schedule follows the larger fraction used).

Writes into ``--out``: ``tiny_wan21_t2v.safetensors`` (the EMA weights in bf16, keys as
``comfy.sd.load_diffusion_model`` reads them, detected as WAN21_T2V), ``train_log.json`` (settings,
loss curve, validation losses per sigma, timings) and, unless ``--preview-steps 0``, ``preview.gif``
(one sample per prompt, Euler flow sampler with CFG, decoded by ``decode.py``). ``--verify`` then
re-loads the file through ComfyUI and checks the detected class and that ComfyUI's ``apply_model``
gives the x0 this script trains for (needs ComfyUI's full import, i.e. its requirements).

CPU smoke test (here; about a minute):

    python bench/quality/train_tiny_wan.py --comfyui .host/comfyui \
        --out out/tiny_wan_toy --steps 20 --frames 5 --size 32 --batch 4 --preview-steps 4 --verify

Several GPUs of one host (data parallel, ``--batch`` videos per GPU, every GPU its own data
stream; rank 0 logs, validates and writes the files)::

    python -m torch.distributed.run --standalone --nproc_per_node 4 bench/quality/train_tiny_wan.py ...

GPU runs: see docs/quality.md.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE))
    import decode as decode_mod
    import latent_space
    import video_data
else:
    from . import decode as decode_mod
    from . import latent_space, video_data

MODEL_FILE = "tiny_wan21_t2v.safetensors"
EXPECT_CLASS = "WAN21_T2V"
VAL_SIGMAS = (0.1, 0.3, 0.5, 0.7, 0.9)


def import_comfy(comfyui: Path, cpu: bool):
    """Put a ComfyUI tree on sys.path and import what the model needs, CPU-only if asked."""
    sys.path.insert(0, str(comfyui.resolve()))
    argv = sys.argv
    sys.argv = [argv[0], "--use-pytorch-cross-attention"] + (["--cpu"] if cpu else [])
    try:
        import comfy.options
        comfy.options.enable_args_parsing()
        import comfy.model_management  # noqa: F401  (reads the arguments above once)
        import comfy.ops
        from comfy.ldm.wan.model import WanModel
    finally:
        sys.argv = argv
    return comfy, WanModel


def model_config(args) -> dict:
    return dict(model_type="t2v", patch_size=(1, 2, 2), text_len=512, in_dim=16, dim=args.dim,
                ffn_dim=args.ffn_dim, freq_dim=256, text_dim=video_data.TEXT_DIM, out_dim=16,
                num_heads=args.dim // 128, num_layers=args.layers, window_size=(-1, -1), qk_norm=True,
                cross_attn_norm=True, eps=1e-6)


def build_model(WanModel, ops, config: dict, device) -> torch.nn.Module:
    model = WanModel(image_model="wan2.1", operations=ops, device=device, dtype=torch.float32, **config)
    init_weights(model, config["dim"])
    return model


@torch.no_grad()
def init_weights(model: torch.nn.Module, dim: int) -> None:
    """ComfyUI's disable_weight_init ops leave parameters uninitialised; set all of them here.
    Linear / Conv: Xavier-uniform weights, zero biases; the text and time embeddings: N(0, 0.02);
    norms: ones / zeros; modulation tables: N(0, 1/dim); the output projection: zeros (the model
    starts by predicting v = 0)."""
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        bias = getattr(module, "bias", None)
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Conv3d)):
            if name.startswith(("text_embedding", "time_embedding")):
                torch.nn.init.normal_(weight, std=0.02)
            elif name == "head.head":
                torch.nn.init.zeros_(weight)
            else:
                torch.nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
            if bias is not None:
                torch.nn.init.zeros_(bias)
        elif isinstance(weight, torch.nn.Parameter) or isinstance(bias, torch.nn.Parameter):
            if weight is not None:
                torch.nn.init.ones_(weight)           # LayerNorm / RMSNorm scales
            if bias is not None:
                torch.nn.init.zeros_(bias)
    for name, p in model.named_parameters():
        if name.endswith("modulation"):
            p.normal_(0.0, dim ** -0.5)
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            raise RuntimeError(f"parameter {name} left uninitialised")


def time_snr_shift(shift: float, t: torch.Tensor) -> torch.Tensor:
    """ComfyUI's sigma schedule shift (model_sampling.time_snr_shift)."""
    if shift == 1.0:
        return t
    return shift * t / (1 + (shift - 1) * t)


class Batches:
    """Procedural training batches on the device: (model latents x0, context, prompt ids)."""

    def __init__(self, args, device, seed: int):
        self.args = args
        self.device = device
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.contexts = video_data.all_contexts(device)          # [P + 1, L, 4096], last = null

    def __call__(self, batch: int, uncond_prob: float):
        a = self.args
        videos, prompts = video_data.sample_batch(batch, a.frames, a.size, a.size, self.gen, self.device)
        x0 = latent_space.encode(videos)                         # [B, 16, T, h, w]
        drop = torch.rand(batch, generator=self.gen, device=self.device) < uncond_prob
        ctx_id = torch.where(drop, torch.full_like(prompts, len(video_data.PROMPTS)), prompts)
        return x0, self.contexts[ctx_id], prompts


def flow_inputs(x0, sigma, noise):
    """x_t and the velocity target, exactly as ComfyUI's CONST samples it."""
    s = sigma.view(-1, *([1] * (x0.ndim - 1)))
    return (1 - s) * x0 + s * noise, noise - x0


def autocast(device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@torch.no_grad()
def validation_loss(model, val, device) -> dict:
    """Mean squared velocity error on a fixed batch at fixed sigmas (same noise every time)."""
    x0, ctx, noise = val
    out = {}
    for s in VAL_SIGMAS:
        sigma = torch.full((x0.shape[0],), s, device=device)
        xt, target = flow_inputs(x0, sigma, noise)
        with autocast(device):
            pred = model(xt, sigma * 1000, ctx)
        out[f"{s:.1f}"] = torch.mean((pred.float() - target) ** 2).item()
    out["mean"] = sum(out.values()) / len(VAL_SIGMAS)
    return out


@torch.no_grad()
def sample(model, context, null, shape, steps: int, shift: float, cfg: float, seed: int, device):
    """Euler flow sampler (what ComfyUI's "euler" does with ModelSamplingDiscreteFlow(shift)):
    sigmas = time_snr_shift(shift, linspace(1, 0)), x <- x + (sigma_next - sigma) v."""
    gen = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(shape, generator=gen, device=device)
    sigmas = time_snr_shift(shift, torch.linspace(1, 0, steps + 1, device=device))
    batch = shape[0]
    for i in range(steps):
        s = sigmas[i].expand(batch)
        with autocast(device):
            if cfg == 1.0:
                v = model(x, s * 1000, context).float()
            else:
                both = model(torch.cat([x, x]), torch.cat([s, s]) * 1000, torch.cat([context, null])).float()
                v = both[batch:] + cfg * (both[:batch] - both[batch:])
        x = x + (sigmas[i + 1] - sigmas[i]) * v
    return x


def save_checkpoint(model_state: dict, path: Path, metadata: dict) -> None:
    from safetensors.torch import save_file
    sd = {k: v.detach().to("cpu", torch.bfloat16).contiguous() for k, v in model_state.items()}
    save_file(sd, str(path), metadata={k: json.dumps(v) if not isinstance(v, str) else v
                                       for k, v in metadata.items()})


def verify_checkpoint(path: Path, config: dict, WanModel, ops) -> str:
    """Load through ComfyUI: detected class and config, weights unchanged, and apply_model's x0
    equal to x_t - sigma * model(x_t, sigma * 1000, context) of the same weights."""
    import comfy.sd
    from safetensors.torch import load_file
    patcher = comfy.sd.load_diffusion_model(str(path), model_options={"dtype": torch.float32})
    base = patcher.model
    cls = type(base.model_config).__name__
    if cls != EXPECT_CLASS:
        raise RuntimeError(f"detected {cls}, expected {EXPECT_CLASS}")
    uc = base.model_config.unet_config
    want = {k: config[k] for k in ("dim", "ffn_dim", "num_heads", "num_layers", "in_dim", "out_dim",
                                   "model_type")}
    wrong = {k: (uc.get(k), v) for k, v in want.items() if uc.get(k) != v}
    if wrong:
        raise RuntimeError(f"detected config differs (got, want): {wrong}")
    sd = load_file(str(path))
    ours = WanModel(image_model="wan2.1", operations=ops, dtype=torch.float32, **config)
    ours.load_state_dict({k: v.float() for k, v in sd.items()})
    ours.eval()
    base.diffusion_model.to(torch.float32)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 3, 8, 8, generator=gen)
    sigma = torch.tensor([0.8, 0.3])
    ctx = torch.stack([video_data.prompt_context(0), video_data.prompt_context(1)])
    with torch.no_grad():
        denoised = base.apply_model(x, sigma, c_crossattn=ctx).float()
        expected = x - sigma.view(-1, 1, 1, 1, 1) * ours(x, sigma * 1000, ctx)
    err = (denoised - expected).abs().max().item()
    if err > 1e-3:
        raise RuntimeError(f"ComfyUI's apply_model differs from the training convention by {err}")
    shift = base.model_sampling.shift
    return (f"{path.name}: {cls} ({type(base).__name__}), ModelSamplingDiscreteFlow shift {shift}, "
            f"multiplier {base.model_sampling.multiplier}; apply_model matches x_t - sigma*v "
            f"(max |diff| {err:.2e})")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comfyui", type=Path, required=True, help="ComfyUI tree (holding comfy/)")
    ap.add_argument("--out", type=Path, help="output folder (required unless --verify-only)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--frames", type=int, default=8, help="video frames = latent frames")
    ap.add_argument("--size", type=int, default=64, help="video height = width in pixels (latent: size/2)")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--dim", type=int, default=256, help="multiple of 128 (ComfyUI: heads = dim / 128)")
    ap.add_argument("--ffn-dim", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    ap.add_argument("--minutes", type=float, default=0.0, help="stop after this much training time (0: none)")
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay (0: save the raw weights)")
    ap.add_argument("--train-shift", type=float, default=3.0, help="sigma = time_snr_shift(shift, U(0,1))")
    ap.add_argument("--uncond-prob", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--val-batch", type=int, default=32)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    ap.add_argument("--init", type=Path, help="start from this checkpoint's weights (a file this script "
                    "wrote; training goes on with a fresh optimiser and schedule, the EMA starts there)")
    ap.add_argument("--preview-steps", type=int, default=30, help="Euler steps of the preview (0: none)")
    ap.add_argument("--preview-shift", type=float, default=3.0)
    ap.add_argument("--preview-cfg", type=float, default=4.0)
    ap.add_argument("--verify", action="store_true", help="re-load through comfy.sd and check it")
    ap.add_argument("--verify-only", type=Path, help="only verify this checkpoint (settings from its metadata)")
    a = ap.parse_args(argv)
    if a.out is None and a.verify_only is None:
        ap.error("--out is required")
    if a.dim % 128:
        ap.error("--dim must be a multiple of 128")
    if a.size % 4:
        ap.error("--size must be a multiple of 4 (2x2 pixels per latent pixel, 2x2 latent per token)")
    return a


class Ranks:
    """Data-parallel context from torchrun's environment; one process, rank 0, without it."""

    def __init__(self, device_choice: str):
        import os
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and device_choice in ("auto", "cuda")
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu") if self.world > 1 else torch.device(
            "cuda" if cuda else ("cpu" if device_choice == "auto" else device_choice))
        self.dist = None
        if self.world > 1:
            import torch.distributed as dist
            if cuda:
                torch.cuda.set_device(self.device)
            dist.init_process_group("nccl" if cuda else "gloo")
            self.dist = dist

    @property
    def main(self) -> bool:
        return self.rank == 0

    def broadcast_(self, tensors) -> None:
        if self.dist is not None:
            for t in tensors:
                self.dist.broadcast(t, src=0)

    def shared_float(self, value: float) -> float:
        """Rank 0's value on every rank (so that all ranks take the same schedule decisions)."""
        if self.dist is None:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        self.dist.broadcast(t, src=0)
        return float(t.item())

    def close(self) -> None:
        if self.dist is not None:
            self.dist.barrier()
            self.dist.destroy_process_group()


def main(argv=None) -> int:
    a = parse_args(argv)
    ranks = Ranks(a.device)
    device = ranks.device
    if a.threads:
        torch.set_num_threads(a.threads)
    comfy, WanModel = import_comfy(a.comfyui, cpu=device.type == "cpu")
    ops = comfy.ops.disable_weight_init

    if a.verify_only:
        from safetensors import safe_open
        with safe_open(str(a.verify_only), "pt") as f:
            config = json.loads(f.metadata()["config"])
        config["patch_size"] = tuple(config["patch_size"])
        config["window_size"] = tuple(config["window_size"])
        print(verify_checkpoint(a.verify_only, config, WanModel, ops), flush=True)
        return 0

    torch.manual_seed(a.seed)
    say = print if ranks.main else (lambda *args, **kwargs: None)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    a.out.mkdir(parents=True, exist_ok=True)
    config = model_config(a)
    model = build_model(WanModel, ops, config, device)
    if a.init:
        from safetensors.torch import load_file
        missing, unexpected = model.load_state_dict(
            {k: v.float() for k, v in load_file(str(a.init)).items()}, strict=False)
        if missing or unexpected:
            raise RuntimeError(f"--init {a.init}: missing {missing}, unexpected {unexpected}")
        say(f"initialised from {a.init}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    tokens = a.frames * (a.size // 4) ** 2
    ranks.broadcast_([p.data for p in model.parameters()])     # same start on every rank
    say(f"WanModel {config['num_layers']} blocks, dim {config['dim']}, {config['num_heads']} heads, "
          f"ffn {config['ffn_dim']}: {params / 1e6:.2f}M parameters; video {a.frames}x{a.size}x{a.size} "
          f"-> latent 16x{a.frames}x{a.size // 2}x{a.size // 2} -> {tokens} tokens "
          f"({tokens / 128:.1f} blocks of 128); device {device}; {ranks.world} process(es) x batch {a.batch}",
        flush=True)
    ema = {n: p.detach().clone() for n, p in model.named_parameters()} if a.ema > 0 else None
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or n.endswith("modulation") else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), fused=device.type == "cuda")
    trained = model
    if ranks.world > 1:
        from torch.nn.parallel import DistributedDataParallel
        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    forward = torch.compile(trained) if a.compile else trained

    batches = Batches(a, device, seed=a.seed + 1000 * ranks.rank)
    val_gen = torch.Generator(device=device).manual_seed(10_000 + a.seed)
    vx, vp = video_data.sample_batch(a.val_batch, a.frames, a.size, a.size, val_gen, device,
                                     prompts=torch.arange(a.val_batch, device=device) % len(video_data.PROMPTS))
    vx0 = latent_space.encode(vx)
    val = (vx0, batches.contexts[vp], torch.randn(vx0.shape, generator=val_gen, device=device))
    noise_gen = torch.Generator(device=device).manual_seed(20_000 + a.seed + 1000 * ranks.rank)

    log = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
           "config": config, "parameters": params, "tokens": tokens, "device": str(device),
           "machine": {"python": platform.python_version(), "torch": torch.__version__,
                       "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                       "cpu_threads": torch.get_num_threads()},
           "processes": ranks.world, "global_batch": a.batch * ranks.world, "loss": [], "val": []}
    if ranks.main:
        log["val"].append({"step": 0, **validation_loss(model, val, device)})
        say(f"val step 0: {log['val'][-1]['mean']:.4f}", flush=True)

    budget = a.minutes * 60.0
    start = time.perf_counter()
    step, running, count, interval_start = 0, 0.0, 0, start
    first_step_s = None
    elapsed = 0.0
    while True:
        if ranks.world == 1 or step % 25 == 0:      # ranks follow rank 0's clock, 25 steps at a time
            elapsed = ranks.shared_float(time.perf_counter() - start)
        progress = max(step / a.steps, elapsed / budget if budget > 0 else 0.0)
        if progress >= 1.0:
            break
        lr_scale = min(1.0, (step + 1) / a.warmup) * (
            a.min_lr_ratio + (1 - a.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
        for group in opt.param_groups:
            group["lr"] = a.lr * lr_scale
        x0, ctx, _ = batches(a.batch, a.uncond_prob)
        u = torch.rand(a.batch, generator=noise_gen, device=device)
        sigma = time_snr_shift(a.train_shift, u)
        noise = torch.randn(x0.shape, generator=noise_gen, device=device)
        xt, target = flow_inputs(x0, sigma, noise)
        opt.zero_grad(set_to_none=True)
        try:
            with autocast(device):
                pred = forward(xt, sigma * 1000, ctx)
            loss = torch.mean((pred.float() - target) ** 2)
            loss.backward()
        except Exception as error:
            if forward is trained or step > 0:
                raise
            say(f"torch.compile failed ({type(error).__name__}: {error}); training eagerly", flush=True)
            forward = trained
            opt.zero_grad(set_to_none=True)
            with autocast(device):
                pred = forward(xt, sigma * 1000, ctx)
            loss = torch.mean((pred.float() - target) ** 2)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            d = a.ema if a.init else min(a.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                names = list(ema)
                torch._foreach_lerp_([ema[n] for n in names],
                                     [p.detach() for n, p in model.named_parameters()], 1 - d)
        step += 1
        running = running + loss.detach()
        count += 1
        if step == 1:
            if device.type == "cuda":
                torch.cuda.synchronize()
            first_step_s = time.perf_counter() - start
        if step % a.log_every == 0:
            now = time.perf_counter()
            mean = float(running) / count          # one sync per logging interval
            rate = count / (now - interval_start)
            log["loss"].append({"step": step, "loss": mean, "lr": a.lr * lr_scale,
                                "s_per_step": 1 / rate, "elapsed": now - start})
            say(f"step {step:6d}  loss {mean:.4f}  lr {a.lr * lr_scale:.2e}  {1000 / rate:.0f} ms/step  "
                  f"{now - start:.0f}s", flush=True)
            running, count, interval_start = 0.0, 0, now
        if a.eval_every and step % a.eval_every == 0 and ranks.main:
            log["val"].append({"step": step, **validation_loss(model, val, device)})
            say(f"val step {step}: {log['val'][-1]['mean']:.4f}", flush=True)
    train_s = time.perf_counter() - start
    log["steps"] = step
    log["train_seconds"] = train_s
    log["first_step_seconds"] = first_step_s
    log["s_per_step_after_first"] = (train_s - first_step_s) / max(step - 1, 1) if first_step_s else None
    log["videos_seen"] = step * a.batch * ranks.world
    if not ranks.main:
        ranks.close()
        return 0

    if ema is not None:
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(ema[n])
    model.eval()
    log["val"].append({"step": step, "weights": "ema" if ema is not None else "raw",
                       **validation_loss(model, val, device)})
    print(f"trained {step} steps in {train_s:.0f}s; final val ({log['val'][-1]['weights']}): "
          f"{log['val'][-1]['mean']:.4f}", flush=True)

    path = a.out / MODEL_FILE
    save_checkpoint(model.state_dict(), path, {
        "config": config, "svg_tiny_wan": "trained by bench/quality/train_tiny_wan.py on procedural videos",
        "latent_map": "bench/quality/latent_space.py: 1x2x2 RGB patch -> 16 ch (Hadamard columns), "
                      "centred per channel, one global scale", "frames": a.frames, "size": a.size,
        "prompts": [p.text for p in video_data.PROMPTS], "steps": step, "train_shift": a.train_shift,
        "init": a.init.name if a.init else ""})
    log["checkpoint_bytes"] = path.stat().st_size
    print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)

    if a.preview_steps > 0:
        t0 = time.perf_counter()
        n = len(video_data.PROMPTS)
        ctx = batches.contexts[:n]
        null = batches.contexts[n:].expand(n, -1, -1)
        shape = (n, 16, a.frames, a.size // 2, a.size // 2)
        z = sample(model, ctx, null, shape, a.preview_steps, a.preview_shift, a.preview_cfg, a.seed, device)
        decode_mod.write_animation(a.out / "preview.gif", decode_mod.latent_to_frames(z), columns=4)
        real = latent_space.decode(vx0[:n])
        decode_mod.write_animation(a.out / "data.gif", decode_mod.to_uint8(real), columns=4)
        log["preview_seconds"] = time.perf_counter() - t0
        print(f"wrote preview.gif and data.gif ({log['preview_seconds']:.1f}s)", flush=True)

    (a.out / "train_log.json").write_text(json.dumps(log, indent=1))
    if a.verify:
        try:
            log["verify"] = verify_checkpoint(path, config, WanModel, ops)
        except Exception as error:  # the checkpoint and the log are already written
            log["verify"] = f"FAILED or not possible here: {type(error).__name__}: {error}"
        print(log["verify"], flush=True)
        (a.out / "train_log.json").write_text(json.dumps(log, indent=1))
    ranks.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
