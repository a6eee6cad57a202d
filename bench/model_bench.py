"""Training-step cost of the registered R2N2 networks on this machine's CPU (or a GPU).

For each config: parameters (total, in the FC layers, the rest), FLOPs of one
forward + backward (``torch.utils.flop_counter.FlopCounterMode``; convs and matmuls only), and
the wall time of a full step (forward, voxel cross-entropy, backward, Adam) on random images
and targets, as the median of ``--steps`` timed steps after one warm-up step.

    .venv/bin/python bench/model_bench.py --configs small,r2n2-res-gru --batch 16 --views 5 \
        --threads 2 --steps 5 [--contiguous] [--bf16] [--no-mkldnn] [--upsample unpool]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import AbstractContextManager, nullcontext

import torch
from torch.utils.flop_counter import FlopCounterMode

from parvox.models import R2N2, create_model, voxel_loss


def parameter_counts(model: R2N2) -> tuple[int, int]:
    """(total parameters, parameters of the FC layers)."""
    total = sum(p.numel() for p in model.parameters())
    fc = sum(
        p.numel() for name in model.fc_layer_names()
        for p in model.get_submodule(name).parameters()
    )
    return total, fc


def make_batch(model: R2N2, batch: int, views: int, device: str) -> tuple[torch.Tensor, ...]:
    """Random images (B, V, 3, S, S) and targets (B, N, N, N) long."""
    size, voxels = model.config.image_size, model.config.voxel_size
    images = torch.rand(batch, views, 3, size, size, device=device)
    target = torch.randint(0, 2, (batch, voxels, voxels, voxels), device=device)
    return images, target


def autocast(enabled: bool, device: str) -> AbstractContextManager[object]:
    """bf16 autocast on ``device`` when ``enabled``."""
    if not enabled:
        return nullcontext()
    return torch.autocast(device_type=device, dtype=torch.bfloat16)


def train_step(
    model: R2N2, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...], bf16: bool
) -> None:
    """One forward, loss, backward and Adam update."""
    images, target = batch
    optimizer.zero_grad(set_to_none=True)
    with autocast(bf16, images.device.type):
        loss = voxel_loss(model(images).float(), target)
    loss.backward()
    optimizer.step()


def step_flops(model: R2N2, batch: tuple[torch.Tensor, ...]) -> int:
    """FLOPs of one forward + backward (no optimizer), counted by FlopCounterMode."""
    counter = FlopCounterMode(display=False)
    with counter:
        voxel_loss(model(batch[0]), batch[1]).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def sync(device: str) -> None:
    """Wait for queued GPU work (no-op on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def time_steps(model: R2N2, batch: tuple[torch.Tensor, ...], steps: int, bf16: bool) -> float:
    """Median seconds per training step over ``steps`` steps after one warm-up step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    device = batch[0].device.type
    train_step(model, optimizer, batch, bf16)
    times = []
    for _ in range(steps):
        sync(device)
        start = time.perf_counter()
        train_step(model, optimizer, batch, bf16)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(dtype: torch.dtype, device: str, size: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of a ``size`` x ``size`` matrix product in ``dtype`` on this machine (the
    peak the training step is compared with)."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        torch.matmul(a, b)
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def bench_config(name: str, args: argparse.Namespace, peak: float) -> str:
    """One markdown table row for config ``name``."""
    overrides: dict[str, object] = {"upsample": args.upsample} if args.upsample else {}
    if args.contiguous:
        overrides["channels_last"] = False
    torch.manual_seed(0)
    model = create_model(name, **overrides).to(args.device)
    total, fc = parameter_counts(model)
    batch = make_batch(model, args.batch, args.views, args.device)
    flops = step_flops(model, batch)
    seconds = time_steps(model, batch, args.steps, args.bf16)
    size = model.config.image_size
    return (
        f"| {name} | {size}² | {total:,} | {fc:,} | {total - fc:,} | {args.batch}×{args.views} "
        f"| {flops / 1e9:,.1f} | {seconds:.3f} | {args.batch / seconds:.1f} "
        f"| {flops / seconds / 1e9:,.0f} | {flops / seconds / 1e9 / peak:.0%} |"
    )


def main() -> None:
    """Print the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="small,r2n2-res-gru")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--contiguous", action="store_true",
                    help="NCHW/NCDHW activations instead of the default channels-last")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast")
    ap.add_argument("--no-mkldnn", action="store_true", help="torch.backends.mkldnn off")
    ap.add_argument("--upsample", choices=("transpose", "unpool"), help="override the config")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = not args.no_mkldnn
    options = [f"threads {args.threads}", f"mkldnn {'off' if args.no_mkldnn else 'on'}"]
    options += ["contiguous" if args.contiguous else "channels-last"]
    options += ["bf16 autocast"] * args.bf16
    options += [f"upsample {args.upsample}"] * bool(args.upsample)
    peaks = {str(d).split(".")[-1]: matmul_peak(d, args.device)
             for d in (torch.float32, torch.bfloat16)}
    peak = peaks["bfloat16" if args.bf16 else "float32"]
    print(f"{args.device}, {', '.join(options)}; step = forward + CE loss + backward + Adam")
    print("matmul peak (2048², best of 5): "
          + ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items()) + "\n")
    print("| config | input | params | FC params | other params | B×V | GFLOP/step (fwd+bwd) "
          "| s/step | samples/s | achieved GFLOP/s | of matmul peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.configs.split(","):
        print(bench_config(name.strip(), args, peak), flush=True)


if __name__ == "__main__":
    main()
