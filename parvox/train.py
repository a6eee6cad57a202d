"""``parvox train``: single-process training that stops and resumes exactly.

The data of step ``s`` is a pure function of ``(seed, s)`` (:mod:`parvox.data.sampling`), the
model starts from ``torch.manual_seed(seed)``, and a checkpoint holds the parameters, the Adam
state and the generator state, so ``--resume`` continues to the same parameters an
uninterrupted run reaches.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from parvox.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from parvox.data.dataset import R2N2Dataset
from parvox.data.sampling import StepBatches
from parvox.errors import ParvoxError
from parvox.progress import markdown_table, progress_bar

#: 3D-R2N2's optimiser: Adam at 1e-4, later lowered to 1e-5 (Choy et al. 2016, section 5).
DEFAULT_LR = 1e-4
LR_DROP_FACTOR = 0.1
#: Fraction of the steps after which the learning rate drops (our default, configurable).
DEFAULT_LR_DROP_AT = 0.75
DEFAULT_WEIGHT_DECAY = 1e-5


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as ``RUN/config.json``)."""

    config: str
    data: str
    out: str
    steps: int = 1000
    batch: int = 16
    views: tuple[int, int] = (1, 5)
    lr: float = DEFAULT_LR
    lr_drop_step: int | None = None  # default: DEFAULT_LR_DROP_AT x steps
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    seed: int = 0
    checkpoint_every: int = 500
    workers: int = 1
    flip: bool = True
    threads: int | None = None
    model_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.views = tuple(self.views)  # type: ignore[assignment]
        for name in ("steps", "batch", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ParvoxError(f"--{name.replace('_', '-')} must be at least 1, "
                                  f"got {getattr(self, name)}")
        lo, hi = self.views
        if not 1 <= lo <= hi <= 24:
            raise ParvoxError(f"--views must be MIN-MAX with 1 <= MIN <= MAX <= 24, got {lo}-{hi}")
        if not self.lr > 0:
            raise ParvoxError(f"--lr must be positive, got {self.lr}")

    @property
    def drop_step(self) -> int:
        if self.lr_drop_step is not None:
            return self.lr_drop_step
        return max(1, math.ceil(DEFAULT_LR_DROP_AT * self.steps))


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Step-wise schedule: ``lr`` until ``drop_step``, then ``lr x 0.1``."""
    return cfg.lr if step < cfg.drop_step else cfg.lr * LR_DROP_FACTOR


def voxel_loss(logits: torch.Tensor, voxels: torch.Tensor) -> torch.Tensor:
    """Voxel-wise cross-entropy of (B, 2, D, D, D) logits against (B, D, D, D) occupancy."""
    return F.cross_entropy(logits, voxels.long())


def _build_model(cfg: TrainConfig) -> torch.nn.Module:
    from parvox.models import create_model

    torch.manual_seed(cfg.seed)
    return create_model(cfg.config, **cfg.model_overrides)


def _restore(cfg: TrainConfig, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Load the latest checkpoint of ``cfg.out`` into model and optimizer; returns its step."""
    ckpt = load_checkpoint(cfg.out)
    if ckpt.meta.get("config") != cfg.config:
        raise ParvoxError(f"{ckpt.path}: checkpoint of config {ckpt.meta.get('config')!r}, "
                          f"not {cfg.config!r}")
    model.load_state_dict(ckpt.model_state)
    if ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    if ckpt.rng_state is not None:
        torch.set_rng_state(ckpt.rng_state)
    return ckpt.step


def _prepare_run(cfg: TrainConfig, resume: bool) -> None:
    run = Path(cfg.out)
    if list_checkpoints(run) and not resume:
        raise ParvoxError(f"{run}: run folder already has checkpoints; pass --resume to continue "
                          "it or choose another --out")
    try:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    except OSError as exc:
        raise ParvoxError(f"{run}: cannot write the run folder ({exc.strerror})") from None


def _meta(cfg: TrainConfig, model: torch.nn.Module) -> dict[str, Any]:
    model_cfg = getattr(model, "config", None)
    return {"config": cfg.config, "train": asdict(cfg),
            "model": asdict(model_cfg) if model_cfg is not None else {}}


@dataclass
class TrainResult:
    """What a run did: steps run, final loss, throughput, where the checkpoint is."""

    start_step: int
    steps: int
    final_loss: float
    samples_per_s: float
    checkpoint: str

    def table(self) -> str:
        return markdown_table(["steps run", "final step", "final loss", "samples/s", "checkpoint"],
                              [(self.steps - self.start_step, self.steps, self.final_loss,
                                self.samples_per_s, self.checkpoint)])


def train(cfg: TrainConfig, *, resume: bool = False, show_progress: bool = True) -> TrainResult:
    """Train ``cfg.config`` on ``cfg.data``'s training split into the run folder ``cfg.out``."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    _prepare_run(cfg, resume)
    model = _build_model(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    start = _restore(cfg, model, optimizer) if resume and list_checkpoints(cfg.out) else 0
    image_size = getattr(getattr(model, "config", None), "image_size", 127)
    dataset = R2N2Dataset(cfg.data, "train", views=cfg.views, train=True, image_size=image_size,
                          flip=cfg.flip, seed=cfg.seed)
    loader = DataLoader(StepBatches(dataset, cfg.batch, cfg.seed), batch_size=None,
                        sampler=range(start, cfg.steps), num_workers=cfg.workers)
    writer = _summary_writer(Path(cfg.out) / "tensorboard")
    meta = _meta(cfg, model)
    loss_value, last_ckpt, begin = float("nan"), "", time.perf_counter()
    model.train()
    with progress_bar(cfg.steps, desc="train", unit="step", enabled=show_progress) as bar:
        bar.update(start)
        for batch in loader:
            step = int(batch["step"])
            loss_value = _train_step(model, optimizer, batch, learning_rate(cfg, step))
            done = step + 1
            rate = (done - start) * cfg.batch / (time.perf_counter() - begin)
            bar.set_postfix(loss=f"{loss_value:.4f}", samples_s=f"{rate:.1f}")
            bar.update(1)
            if writer is not None:
                writer.add_scalar("train/loss", loss_value, done)
                writer.add_scalar("train/lr", learning_rate(cfg, step), done)
                writer.add_scalar("train/samples_per_s", rate, done)
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                last_ckpt = str(save_checkpoint(cfg.out, done, model.state_dict(),
                                                optimizer.state_dict(), meta))
    if writer is not None:
        writer.close()
    elapsed = time.perf_counter() - begin
    rate = (cfg.steps - start) * cfg.batch / elapsed if elapsed > 0 else 0.0
    return TrainResult(start, cfg.steps, loss_value, rate, last_ckpt)


def _train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                batch: dict[str, Any], lr: float) -> float:
    for group in optimizer.param_groups:
        group["lr"] = lr
    logits = model(batch["images"])
    loss = voxel_loss(logits, batch["voxels"])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _summary_writer(path: Path):
    """A TensorBoard writer, or None when the tensorboard package is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(path))
