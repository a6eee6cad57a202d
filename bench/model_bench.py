"""Training-step cost of the registered R2N2 networks on this machine's CPU (or a GPU).

For each config and precision: parameters (total, in the FC layers, the rest), FLOPs of one
forward + backward (``torch.utils.flop_counter.FlopCounterMode``; convs and matmuls only: the
FLOPs the architecture needs), and the wall time of a full step (forward, voxel cross-entropy,
backward, Adam) on random images and targets, as the median of ``--steps`` timed steps after
one warm-up step. The achieved FLOP/s are compared with the peak of a matrix product measured
in the same run. One extra step runs under ``torch.profiler`` and splits the step's time into
convolution/matrix-product operators (where the counted FLOPs are), the other forward/backward
operators, and Adam.

    .venv/bin/python bench/model_bench.py --configs small,r2n2-res-gru --batch 16 --views 5 \
        --threads 2 --steps 5 [--precisions fp32,bf16] [--contiguous] [--bf16] [--no-mkldnn] \
        [--upsample unpool] [--no-profile]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from parvox.models import R2N2, create_model, voxel_loss

#: Operators that carry the counted FLOPs (convolutions and matrix products, fwd and bwd).
_COMPUTE_OPS = ("conv", "mm", "matmul", "linear", "bmm")
#: Precision name -> matmul dtype of its peak.
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


@dataclass
class ConfigResult:
    """One config at one precision."""

    config: str
    precision: str
    image_size: int
    params: int
    fc_params: int
    batch: int
    views: int
    flops: float  # forward + backward, counted
    padding_flops: float  # the part of ``flops`` that multiplies zero padding
    step_times: list[float]
    peak: float  # GFLOP/s of the matmul at this precision, same run
    breakdown: dict[str, float] = field(default_factory=dict)  # seconds by part, profiled step
    top_other: list[tuple[str, float]] = field(default_factory=list)  # (op, seconds)

    @property
    def seconds(self) -> float:
        return statistics.median(self.step_times)

    @property
    def samples_per_s(self) -> float:
        return self.batch / self.seconds

    @property
    def gflops(self) -> float:
        """Achieved GFLOP/s: counted FLOPs over the median step."""
        return self.flops / self.seconds / 1e9

    @property
    def of_peak(self) -> float:
        return self.gflops / self.peak

    @property
    def compute_share(self) -> float | None:
        """Fraction of the profiled step spent in conv/matmul operators."""
        total = sum(self.breakdown.values())
        return self.breakdown["conv/matmul"] / total if total else None

    @property
    def kernel_gflops(self) -> float | None:
        """Counted FLOPs over the time of the conv/matmul operators alone."""
        t = self.breakdown.get("conv/matmul")
        return self.flops / t / 1e9 if t else None


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
    forward_backward(model, optimizer, batch, bf16)
    optimizer.step()


def forward_backward(model: R2N2, optimizer: torch.optim.Optimizer,
                     batch: tuple[torch.Tensor, ...], bf16: bool) -> None:
    """The step up to the gradients: forward, loss, backward."""
    images, target = batch
    optimizer.zero_grad(set_to_none=True)
    with autocast(bf16, images.device.type):
        loss = voxel_loss(model(images).float(), target)
    loss.backward()


def _taps(size_in: int, size_out: int, kernel: int, stride: int, padding: int, dilation: int,
          transposed: bool) -> int:
    """(output position, kernel tap) pairs along one dimension that read inside the input (a
    transposed convolution: input position and tap pairs that write inside the output)."""
    if transposed:
        return sum(0 <= i * stride - padding + j * dilation < size_out
                   for i in range(size_in) for j in range(kernel))
    return sum(0 <= i * stride - padding + j * dilation < size_in
               for i in range(size_out) for j in range(kernel))


def step_flops(model: R2N2, batch: tuple[torch.Tensor, ...]) -> tuple[int, int]:
    """FLOPs of one forward + backward (no optimizer), counted by FlopCounterMode, and the part
    of them that multiplies zero padding (convolution taps outside the input), which the
    count includes and oneDNN's kernels skip."""
    padding = [0]
    convs = (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = args[0]
        transposed = isinstance(module, (nn.ConvTranspose2d, nn.ConvTranspose3d))
        full = valid = x.shape[0] * module.in_channels * module.out_channels // module.groups
        for d, (n, o) in enumerate(zip(x.shape[2:], out.shape[2:], strict=True)):
            k = module.kernel_size[d]
            full *= (n if transposed else o) * k
            valid *= _taps(n, o, k, module.stride[d], module.padding[d], module.dilation[d],
                           transposed)
        # forward, weight gradient, and the input gradient when the input needs one
        padding[0] += 2 * (full - valid) * (3 if x.requires_grad else 2)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, convs)]
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            voxel_loss(model(batch[0]), batch[1]).backward()
    finally:
        for handle in handles:
            handle.remove()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops(), padding[0]


def sync(device: str) -> None:
    """Wait for queued GPU work (no-op on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def time_steps(model: R2N2, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
               steps: int, bf16: bool) -> list[float]:
    """Seconds of each of ``steps`` training steps after one warm-up step."""
    device = batch[0].device.type
    train_step(model, optimizer, batch, bf16)
    times = []
    for _ in range(steps):
        sync(device)
        start = time.perf_counter()
        train_step(model, optimizer, batch, bf16)
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def profile_step(model: R2N2, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
                 bf16: bool) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """One step with its forward and backward under torch.profiler: seconds in conv/matmul
    operators (self time), in the rest of the forward and backward, in Adam (timed apart);
    and the three costliest other operators."""
    from torch.profiler import ProfilerActivity, profile

    device = batch[0].device.type
    activities = [ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * (device == "cuda")
    sync(device)
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        forward_backward(model, optimizer, batch, bf16)
        sync(device)
        fwd_bwd = time.perf_counter() - start
    start = time.perf_counter()
    optimizer.step()
    sync(device)
    adam = time.perf_counter() - start
    compute, others = 0.0, {}
    for event in prof.key_averages():
        seconds = (event.self_device_time_total if device == "cuda"
                   else event.self_cpu_time_total) / 1e6
        if any(word in event.key for word in _COMPUTE_OPS):
            compute += seconds
        elif event.key.startswith("aten::"):
            others[event.key] = others.get(event.key, 0.0) + seconds
    compute = min(compute, fwd_bwd)
    top = sorted(others.items(), key=lambda kv: -kv[1])[:3]
    return {"conv/matmul": compute, "other fwd/bwd": fwd_bwd - compute, "adam": adam}, top


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


def matmul_peaks(device: str, precisions: list[str]) -> dict[str, float]:
    """GFLOP/s peak of each precision name in ``precisions`` (8192² products on a GPU, where
    2048² ones are too short to time). Only the precisions benchmarked are measured: on a CPU
    without native bf16 a 2048² bf16 product runs at about 1 GFLOP/s, minutes for the peak."""
    size = 8192 if device == "cuda" else 2048
    return {name: matmul_peak(PRECISIONS[name], device, size) for name in precisions}


def bench_config(name: str, *, batch: int, views: int, steps: int, precision: str,
                 peaks: dict[str, float] | None = None, device: str = "cpu",
                 profile: bool = True, overrides: dict[str, object] | None = None
                 ) -> ConfigResult:
    """Parameters, counted FLOPs, step times (and the profiled breakdown) of ``name``. The
    peak it is compared with is the best of ``peaks[precision]`` and of two more measurements
    just before and just after the timed steps (on shared cores, a peak measured while other
    jobs ran would flatter the fraction)."""
    torch.manual_seed(0)
    model = create_model(name, **(overrides or {})).to(device)
    total, fc = parameter_counts(model)
    data = make_batch(model, batch, views, device)
    flops, padding = step_flops(model, data)
    bf16 = precision == "bf16"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4,
                                 fused=device in ("cpu", "cuda"))  # as parvox train
    size = 8192 if device == "cuda" else 2048
    peak = matmul_peak(PRECISIONS[precision], device, size)
    times = time_steps(model, optimizer, data, steps, bf16)
    peak = max(peak, matmul_peak(PRECISIONS[precision], device, size),
               (peaks or {}).get(precision, 0.0))
    breakdown, top = profile_step(model, optimizer, data, bf16) if profile else ({}, [])
    return ConfigResult(name, precision, model.config.image_size, total, fc, batch, views,
                        float(flops), float(padding), times, peak, breakdown, top)


def header(device: str, threads: int, options: list[str], peaks: dict[str, float]) -> str:
    """The lines printed above the table."""
    where = device if device != "cpu" else f"cpu, {threads} threads"
    return (f"{where}, {', '.join(options)}; step = forward + CE loss + backward + Adam\n"
            f"matmul peak ({8192 if device == 'cuda' else 2048}², best of 5) at the start: "
            + ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items())
            + "; each row's peak is the best of that and of two more measurements just before "
            "and after its timed steps")


def table(results: list[ConfigResult]) -> str:
    """Markdown table of the configs."""
    lines = ["| config | precision | input | params | FC params | B×V | GFLOP/step (fwd+bwd, "
             "counted) | of which zero padding | s/step (median) | samples/s "
             "| achieved GFLOP/s | peak GFLOP/s | of peak |",
             "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r.config} | {r.precision} | {r.image_size}² | {r.params:,} | {r.fc_params:,} "
            f"| {r.batch}×{r.views} | {r.flops / 1e9:,.1f} | {r.padding_flops / r.flops:.1%} "
            f"| {r.seconds:.3f} | {r.samples_per_s:.2f} | {r.gflops:,.0f} | {r.peak:,.0f} "
            f"| {r.of_peak:.0%} |")
    return "\n".join(lines)


def breakdown_table(results: list[ConfigResult]) -> str:
    """Markdown table of where the profiled step's time goes."""
    lines = ["| config | precision | conv/matmul ops | other fwd/bwd ops | Adam "
             "| conv/matmul GFLOP/s (of peak) | costliest other ops |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        if not r.breakdown:
            continue
        total = sum(r.breakdown.values())
        share = {k: v / total for k, v in r.breakdown.items()}
        kernel = r.kernel_gflops or 0.0
        top = ", ".join(f"{op.removeprefix('aten::')} {s / total:.0%}" for op, s in r.top_other)
        lines.append(f"| {r.config} | {r.precision} | {share['conv/matmul']:.0%} "
                     f"| {share['other fwd/bwd']:.0%} | {share['adam']:.0%} "
                     f"| {kernel:,.0f} ({kernel / r.peak:.0%}) | {top} |")
    return "\n".join(lines)


def main() -> None:
    """Print the markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="small,r2n2-res-gru")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precisions", default="fp32", help="comma-separated: fp32, bf16")
    ap.add_argument("--contiguous", action="store_true",
                    help="NCHW/NCDHW activations instead of the default channels-last")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (= --precisions bf16)")
    ap.add_argument("--no-mkldnn", action="store_true", help="torch.backends.mkldnn off")
    ap.add_argument("--upsample", choices=("transpose", "unpool"), help="override the config")
    ap.add_argument("--no-profile", action="store_true", help="skip the profiled step")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = not args.no_mkldnn
    precisions = ["bf16"] if args.bf16 else args.precisions.split(",")
    overrides: dict[str, object] = {"upsample": args.upsample} if args.upsample else {}
    if args.contiguous:
        overrides["channels_last"] = False
    options = [f"mkldnn {'off' if args.no_mkldnn else 'on'}"]
    options += ["contiguous" if args.contiguous else "channels-last"]
    options += [f"upsample {args.upsample}"] * bool(args.upsample)
    peaks = matmul_peaks(args.device, precisions)
    print(header(args.device, args.threads, options, peaks) + "\n")
    results = []
    for name in args.configs.split(","):
        for precision in precisions:
            results.append(bench_config(name.strip(), batch=args.batch, views=args.views,
                                        steps=args.steps, precision=precision, peaks=peaks,
                                        device=args.device, profile=not args.no_profile,
                                        overrides=overrides))
    print(table(results))
    if not args.no_profile:
        print("\nWhere the time of one profiled step goes (torch.profiler, self time)\n")
        print(breakdown_table(results))


if __name__ == "__main__":
    main()
