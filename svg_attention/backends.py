"""Choose the attention backend for a call: the Triton kernels where they run, else the reference."""
from __future__ import annotations

from functools import lru_cache

from .attention import Backend, reference_backend


@lru_cache(maxsize=16)
def triton_backend_or_reason(device_type: str, device_index, dtype, head_dim: int):
    """(Backend, "") when the Triton kernels run on this device/dtype/head_dim, else (None, why).

    The device comes first: on a CPU the reason is that there is no CUDA device, whatever else
    (the kernels package, the dtype, the head size) would not fit either.
    """
    if device_type != "cuda":
        return None, (f"no CUDA device: the model runs on {device_type}, and the Triton kernels "
                      f"need a CUDA GPU")
    try:
        from .. import kernels
    except ImportError as error:  # svg_attention imported on its own, outside the pack
        return None, f"the kernels package is not importable ({error})"
    import torch
    device = torch.device(device_type, device_index) if device_index is not None else torch.device(device_type)
    ok, reason = kernels.triton_support(device, dtype, head_dim)
    if not ok:
        return None, reason
    return triton_backend(), ""


def triton_backend() -> Backend:
    """The Triton kernels behind svg_attention's backend interface (imports no Triton yet)."""
    from .. import kernels

    return Backend("triton", kernels.svg_profile, kernels.svg_band_attention, kernels.svg_global_rows)


def resolve_backend(requested: str, device, dtype, head_dim: int):
    """(backend, why) for a requested name ("auto", "triton", "reference")."""
    if requested == "reference":
        return reference_backend, "reference backend requested"
    backend, reason = triton_backend_or_reason(device.type, device.index, dtype, head_dim)
    if backend is not None:
        return backend, f"Triton kernels on {device}"
    if requested == "triton":
        return reference_backend, f"triton requested but unavailable ({reason}); using the reference"
    return reference_backend, f"reference backend ({reason})"
