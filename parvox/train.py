"""``parvox train``: single-process training that stops and resumes exactly.

The data of step ``s`` is a pure function of ``(seed, s)`` (:mod:`parvox.data.sampling`), the
model starts from ``torch.manual_seed(seed)``, and a checkpoint holds the parameters, the Adam
state and the generator state, so ``--resume`` continues to the same parameters an
uninterrupted run reaches.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from parvox.checkpoint import (
    CHECKPOINTS_DIR,
    list_checkpoints,
    load_checkpoint,
    optimizer_state_by_name,
    save_checkpoint,
)
from parvox.data.augment import Augment
from parvox.data.check import BadModel, check_models
from parvox.data.dataset import CROP_SIZE, R2N2Dataset
from parvox.data.sampling import StepBatches
from parvox.errors import DataError, ParvoxError
from parvox.files import check_writable_dir, write_json
from parvox.models import voxel_loss
from parvox.parallel.comm import Comm, training_bytes
from parvox.parallel.cost import Link, overlap_cost, probe_link, rank_styles, shortlist
from parvox.parallel.mesh import ParallelDims, init_distributed, shutdown_distributed
from parvox.parallel.plan import ParallelModel, parallelize
from parvox.parallel.plans import Workload, get_plan
from parvox.parallel.trial import TrialRow, agreed_seconds, median_step_s, run_trial
from parvox.progress import markdown_table, progress_bar

#: 3D-R2N2's optimiser: Adam at 1e-4, later lowered to 1e-5 (Choy et al. 2016, section 5).
DEFAULT_LR = 1e-4
LR_DROP_FACTOR = 0.1
#: Fraction of the steps after which the learning rate drops (our default, configurable).
DEFAULT_LR_DROP_AT = 0.75
DEFAULT_WEIGHT_DECAY = 1e-5
#: Bad models named one by one before the count (``--skip-bad``).
MAX_LISTED = 10
#: Learning-rate scaling rules for larger global batches.
LR_SCALINGS = ("none", "linear", "sqrt")


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
    lr_warmup: int = 0  # steps of linear warm-up (Adam's first steps saturate the GRU gates)
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    seed: int = 0
    checkpoint_every: int = 500
    workers: int = 1
    flip: bool = True
    backgrounds: float = 0.0  # share of views on varied backgrounds (parvox.data.augment)
    light_jitter: float = 0.0  # light and colour jitter strength in [0, 1]
    frame_jitter: float = 0.0  # object scale and position jitter in [0, 1]
    reframe: float = 0.0  # share of views re-framed as the photo path re-frames photos
    repaint: float = 0.0  # share of views whose object is repainted light (ShapeNet's untextured)
    threads: int | None = None
    parallel: str = "ddp"
    fc_update: str = "global"  # "per-chunk": Krizhevsky's (128K, 128) variant, with owt-overlap
    link_gbps: float | None = None  # the link --parallel auto assumes (None: probe it at start)
    link_latency_us: float = 0.0
    auto_trial: int = 3  # --parallel auto: timed steps per shortlisted plan (0: cost model alone)
    lr_scaling: str = "none"
    lr_base_batch: int = 16
    dtype: str = "float32"  # float64 for numerical checks (parity tests)
    autocast_bf16: bool = False  # bf16 autocast of forward and loss; weights and Adam stay fp32
    time_limit_s: float | None = None  # stop (with a checkpoint) after this much training time
    skip_bad: bool = False  # train without the split's bad models instead of refusing the data
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
        if self.lr_warmup < 0:
            raise ParvoxError(f"--lr-warmup must be at least 0, got {self.lr_warmup}")
        for name in ("backgrounds", "light_jitter", "frame_jitter", "reframe", "repaint"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ParvoxError(f"--{name.replace('_', '-')} must be in [0, 1], "
                                  f"got {getattr(self, name)}")
        if self.autocast_bf16 and self.dtype != "float32":
            raise ParvoxError("--bf16 needs float32 parameters")
        if self.link_gbps is not None and not self.link_gbps > 0:
            raise ParvoxError(f"--link-gbps must be positive, got {self.link_gbps}")
        if self.link_latency_us < 0:
            raise ParvoxError(f"--link-latency-us must be at least 0, got {self.link_latency_us}")
        if self.auto_trial < 0:
            raise ParvoxError(f"--auto-trial must be at least 0, got {self.auto_trial}")
        get_plan(self.parallel)  # one line naming the registered plans
        if self.fc_update == "per-chunk" and self.parallel != "owt-overlap":
            raise ParvoxError("--fc-update per-chunk needs --parallel owt-overlap")
        if self.lr_scaling not in LR_SCALINGS:
            raise ParvoxError(f"--lr-scaling must be one of {', '.join(LR_SCALINGS)}, "
                              f"got {self.lr_scaling!r}")

    @property
    def base_lr(self) -> float:
        """``lr`` scaled for the global batch: Krizhevsky (2014, section 4) scales the learning
        rate with the batch, linearly or by the square root; ``lr`` is meant for a global batch
        of ``lr_base_batch``."""
        ratio = self.batch / self.lr_base_batch
        return self.lr * {"none": 1.0, "linear": ratio, "sqrt": math.sqrt(ratio)}[self.lr_scaling]

    @property
    def drop_step(self) -> int:
        if self.lr_drop_step is not None:
            return self.lr_drop_step
        return max(1, math.ceil(DEFAULT_LR_DROP_AT * self.steps))


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Step-wise schedule: the scaled ``lr`` until ``drop_step``, then x 0.1; during the first
    ``lr_warmup`` steps it rises linearly to the scaled ``lr`` (step 0 at 1 / lr_warmup)."""
    lr = cfg.base_lr if step < cfg.drop_step else cfg.base_lr * LR_DROP_FACTOR
    if step < cfg.lr_warmup:
        lr *= (step + 1) / cfg.lr_warmup
    return lr


def _build_model(cfg: TrainConfig) -> torch.nn.Module:
    from parvox.models import create_model

    torch.manual_seed(cfg.seed)
    return create_model(cfg.config, **cfg.model_overrides)


def _restore(cfg: TrainConfig, model: ParallelModel, optimizer: torch.optim.Optimizer) -> int:
    """Load the latest checkpoint of ``cfg.out`` (written at any number of ranks) into the
    parallel model and the optimizer; returns its step."""
    ckpt = load_checkpoint(cfg.out)
    if ckpt.meta.get("config") != cfg.config:
        raise ParvoxError(f"{ckpt.path}: checkpoint of config {ckpt.meta.get('config')!r}, "
                          f"not {cfg.config!r}")
    model.load_full_state_dict(ckpt.model_state)
    if ckpt.optimizer_state is not None:
        model.load_optimizer_state(optimizer,
                                   optimizer_state_by_name(ckpt.optimizer_state, model.module))
    if ckpt.rng_state is not None:
        torch.set_rng_state(ckpt.rng_state)
    return ckpt.step


def _parallel_model(cfg: TrainConfig, comm: Comm, device: torch.device, dtype: torch.dtype,
                    show_progress: bool) -> ParallelModel:
    """The model with ``cfg.parallel`` applied. ``auto`` probes the link unless given one,
    prices the plans for this K, batch and mean view count, times the ones the cost model
    cannot tell apart (``cfg.auto_trial`` steps each, :mod:`parvox.parallel.trial`), and says
    what it chose."""
    model = _build_model(cfg).to(device, dtype)
    if not get_plan(cfg.parallel).auto:
        return parallelize(model, cfg.parallel, comm, cfg.fc_update)
    if cfg.link_gbps is None:
        link = probe_link(comm)
    else:  # the given link; what its traffic takes from the compute is still measured
        link = Link.from_gbits(cfg.link_gbps, cfg.link_latency_us * 1e-6)
        link = replace(link, cpu_per_byte=overlap_cost(comm, link.bandwidth))
    views = max(1, round(sum(cfg.views) / 2))
    work = Workload(comm.world, cfg.batch, views,
                    activation_bytes=2 if cfg.autocast_bf16 else dtype.itemsize)
    styles, rows = _auto_styles(cfg, model, comm, device, dtype, work, link)
    comm.ledger.reset()  # a trial's traffic is not the first step's
    if show_progress:
        for row in rows:
            print(f"auto candidate: {row.describe()}", file=sys.stderr)
        chosen = ", ".join(f"{n}: {s}" for n, s in styles.items() if s != "data")
        print(f"auto plan for {link.describe()}: {chosen or 'every layer data-parallel'}",
              file=sys.stderr)
    return ParallelModel(model, styles, comm, cfg.fc_update, cfg.parallel)


def _auto_styles(cfg: TrainConfig, model: torch.nn.Module, comm: Comm, device: torch.device,
                 dtype: torch.dtype, work: Workload, link: Link
                 ) -> tuple[dict[str, str], list[TrialRow]]:
    """``auto``'s styles: the cost model's best alone (``cfg.auto_trial`` 0), or the fastest
    in a timed trial of its shortlist, priced with this rank's measured compute (training
    steps without communication, on a batch of the per-rank shape). Every timed step runs on
    a throwaway copy of the architecture: ``model`` itself is only read, never stepped."""
    if cfg.auto_trial == 0 or comm.world == 1:
        styles, predicted = rank_styles(model, work, link)[0]
        return styles, [TrialRow(styles, predicted, float("nan"))]
    batch = _trial_batch(cfg, model, work, comm.world)
    solo = _build_model(cfg).to(device, dtype)
    compute_s = agreed_seconds(_median_step(cfg, solo, Comm(), device, dtype, batch), comm)
    del solo
    candidates = shortlist(model, work, link, compute_s)

    def make_step(styles: dict[str, str]) -> Callable[[], None]:
        trial = ParallelModel(_build_model(cfg).to(device, dtype), styles, comm,
                              cfg.fc_update, cfg.parallel)
        return _stepper(cfg, trial, comm, device, dtype, batch)

    return run_trial(candidates, make_step, comm, cfg.auto_trial)


def _trial_batch(cfg: TrainConfig, model: torch.nn.Module, work: Workload,
                 world: int) -> dict[str, torch.Tensor]:
    """Random images and voxels of one rank's share of a step, at the mean view count."""
    size, grid = model.config.image_size, model.config.voxel_size
    share = cfg.batch // world
    generator = torch.Generator().manual_seed(cfg.seed)
    return {"images": torch.rand(share, work.views, 3, size, size, generator=generator),
            "voxels": (torch.rand(share, grid, grid, grid, generator=generator) < 0.2).float()}


def _median_step(cfg: TrainConfig, model: torch.nn.Module, comm: Comm, device: torch.device,
                 dtype: torch.dtype, batch: dict[str, torch.Tensor]) -> float:
    """Median seconds of ``cfg.auto_trial`` training steps of ``model`` on ``batch`` (after a
    warm-up step); on ``Comm()`` without communication."""
    return median_step_s(_stepper(cfg, model, comm, device, dtype, batch), cfg.auto_trial)


def _stepper(cfg: TrainConfig, model: torch.nn.Module, comm: Comm, device: torch.device,
             dtype: torch.dtype, batch: dict[str, torch.Tensor]) -> Callable[[], None]:
    """One training step of ``model`` on ``batch`` per call, with a throwaway optimizer."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.base_lr,
                                 fused=device.type in ("cpu", "cuda"))
    if isinstance(model, ParallelModel):
        model.attach_optimizer(optimizer)

    def step() -> None:
        with _autocast(cfg, device):
            _train_step(model, optimizer, dict(batch), cfg.base_lr, comm, device, dtype)
        if device.type == "cuda":  # the optimizer's kernels belong to this step's time
            torch.cuda.synchronize(device)

    return step


def _check_training_data(dataset: R2N2Dataset, cfg: TrainConfig, comm: Comm,
                         show_progress: bool) -> None:
    """Refuse a training split with bad files, or (``skip_bad``) leave those models out.

    Rank 0 checks (:mod:`parvox.data.check`) and tells the others, so that every rank trains
    on the same list of models.
    """
    bad: list[BadModel] = []
    if comm.rank == 0:
        bad = check_models(dataset.layout, dataset.models, min_views=cfg.views[1],
                           min_size=CROP_SIZE, show_progress=show_progress)
    if comm.world > 1:
        box: list[Any] = [bad]
        torch.distributed.broadcast_object_list(box, src=0, group=comm.group)
        bad = box[0]
    if not bad:
        return
    if not cfg.skip_bad:
        more = f" (and {len(bad) - 1} more bad models)" if len(bad) > 1 else ""
        raise DataError(bad[0].path, f"{bad[0].problem}{more}; the training split must be "
                        "complete: repair it or pass --skip-bad to train without bad models")
    if comm.rank == 0:
        for item in bad[:MAX_LISTED]:
            print(f"warning: skipping a bad model: {item}", file=sys.stderr)
        print(f"warning: {len(bad)} of {len(dataset)} training models skipped (--skip-bad)",
              file=sys.stderr)
    dataset.drop(item.ref for item in bad)


def _prepare_run(cfg: TrainConfig, resume: bool, is_main: bool) -> None:
    run = Path(cfg.out)
    if list_checkpoints(run) and not resume:
        raise ParvoxError(f"{run}: run folder already has checkpoints; pass --resume to continue "
                          "it or choose another --out")
    if not is_main:
        return
    try:
        run.mkdir(parents=True, exist_ok=True)
        write_json(run / "config.json", asdict(cfg))
    except OSError as exc:
        raise ParvoxError(f"{run}: cannot write the run folder ({exc.strerror})") from None
    # everything training writes is checked before the first step (no traceback, no lost steps)
    check_writable_dir(run / CHECKPOINTS_DIR)
    if (run / "tensorboard").exists():
        check_writable_dir(run / "tensorboard")
    log = run / "train_log.jsonl"
    try:
        with open(log, "a"):
            pass
    except OSError as exc:
        raise DataError(log, f"cannot write ({exc.strerror or exc})") from None


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
    world: int = 1
    strategy: str = "ddp"
    bytes_per_step: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        sent = training_bytes(self.bytes_per_step)
        summary = markdown_table(
            ["steps run", "final step", "final loss", "samples/s", "ranks", "parallel",
             "MB sent per rank per step", "checkpoint"],
            [(self.steps - self.start_step, self.steps, self.final_loss, self.samples_per_s,
              self.world, self.strategy, sent / 1e6, self.checkpoint)])
        if not self.bytes_per_step:
            return summary
        rows = [(label, value / 1e6) for label, value in sorted(self.bytes_per_step.items())]
        return summary + "\n\n" + markdown_table(["collectives of", "MB per rank per step"], rows)


def train(cfg: TrainConfig, *, resume: bool = False, show_progress: bool = True) -> TrainResult:
    """Train ``cfg.config`` on ``cfg.data``'s training split into the run folder ``cfg.out``.

    Under torchrun (``WORLD_SIZE`` > 1) every rank runs this function: the global batch is split
    across ranks and ``cfg.parallel`` says how each layer is parallelised.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dims = ParallelDims.from_env(cfg.parallel)
    comm = init_distributed(dims)
    try:
        return _train(cfg, dims, comm, resume, show_progress and dims.is_main)
    finally:
        shutdown_distributed()


@dataclass
class _Session:
    """What one rank's training loop works with."""

    cfg: TrainConfig
    dims: ParallelDims
    comm: Comm
    model: ParallelModel
    optimizer: torch.optim.Optimizer
    dtype: torch.dtype
    start: int  # the step training starts at (> 0 when resumed)
    meta: dict[str, Any]
    log: Any = None  # RUN/train_log.jsonl, open on rank 0
    writer: Any = None  # TensorBoard, on rank 0 where installed
    loss: float = float("nan")
    last_ckpt: str = ""
    sent: dict[str, float] = field(default_factory=dict)  # bytes of the last step, by kind

    def close(self) -> None:
        for handle in (self.writer, self.log):
            if handle is not None:
                handle.close()


def _open_session(cfg: TrainConfig, dims: ParallelDims, comm: Comm, resume: bool,
                  show_progress: bool) -> tuple[_Session, DataLoader]:
    """Model, data check, run folder, optimizer (restored when resuming), loader and logs."""
    dtype = getattr(torch, cfg.dtype)
    model = _parallel_model(cfg, comm, dims.device, dtype, show_progress)
    dataset = R2N2Dataset(cfg.data, "train", views=cfg.views, train=True,
                          image_size=model.module.config.image_size, flip=cfg.flip,
                          seed=cfg.seed, skip_bad=cfg.skip_bad,
                          augment=Augment(backgrounds=cfg.backgrounds, light=cfg.light_jitter,
                                          frame=cfg.frame_jitter, reframe=cfg.reframe,
                                          repaint=cfg.repaint))
    _check_training_data(dataset, cfg, comm, show_progress)  # before RUN is touched
    _prepare_run(cfg, resume, dims.is_main)
    # the fused kernel: same update, one pass over the parameters (r2n2-res-gru on 2 CPU
    # threads: 15 ms per step instead of 122 ms for the default multi-tensor Adam)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.base_lr,
                                 weight_decay=cfg.weight_decay,
                                 fused=dims.device.type in ("cpu", "cuda"))
    model.attach_optimizer(optimizer)
    start = _restore(cfg, model, optimizer) if resume and list_checkpoints(cfg.out) else 0
    loader = DataLoader(StepBatches(dataset, cfg.batch, cfg.seed, dims.rank, dims.world),
                        batch_size=None, sampler=range(start, cfg.steps), num_workers=cfg.workers,
                        worker_init_fn=_ignore_stop_signals)
    meta = _meta(cfg, model.module) | {"world_size": dims.world, "styles": model.styles}
    session = _Session(cfg, dims, comm, model, optimizer, dtype, start, meta)
    if dims.is_main:
        session.writer = _summary_writer(Path(cfg.out) / "tensorboard")
        session.log = open(Path(cfg.out) / "train_log.jsonl", "a")  # noqa: SIM115
    return session, loader


def _train(cfg: TrainConfig, dims: ParallelDims, comm: Comm, resume: bool,
           show_progress: bool) -> TrainResult:
    session, loader = _open_session(cfg, dims, comm, resume, show_progress)
    begin = time.perf_counter()
    try:
        stop_step = _loop(session, loader, begin, show_progress)
    finally:
        session.close()
    if dims.is_main and session.sent:
        write_json(Path(cfg.out) / "comm.json",
                   {"world_size": dims.world, "parallel": cfg.parallel,
                    "styles": session.model.styles, "last_step_bytes": session.sent,
                    "bytes_per_rank_per_step": training_bytes(session.sent)})
    elapsed = time.perf_counter() - begin
    rate = (stop_step - session.start) * cfg.batch / elapsed if elapsed > 0 else 0.0
    return TrainResult(session.start, stop_step, session.loss, rate, session.last_ckpt,
                       dims.world, cfg.parallel, session.sent)


def _loop(s: _Session, loader: DataLoader, begin: float, show_progress: bool) -> int:
    """The steps from ``s.start``, with progress, logs and checkpoints; the step it ended at
    (``cfg.steps``, or earlier on a signal or the time limit)."""
    cfg = s.cfg
    s.model.train()
    with StopRequest() as stopper, progress_bar(cfg.steps, desc="train", unit="step",
                                                 enabled=show_progress, initial=s.start) as bar:
        tick = time.perf_counter()
        for batch in loader:
            step = int(batch["step"])
            loaded = time.perf_counter()
            stop = _step(s, batch, step, _stop_wanted(cfg, begin, s.comm, stopper))
            if s.log is not None:
                _log_step(s.log, step + 1, s.loss, loaded - tick, time.perf_counter() - loaded,
                          s.sent)
            tick = time.perf_counter()
            done = step + 1
            rate = (done - s.start) * cfg.batch / (time.perf_counter() - begin)
            bar.set_postfix(loss=f"{s.loss:.4f}", samples_s=f"{rate:.1f}",
                            MB_step=f"{training_bytes(s.sent) / 1e6:.1f}")
            bar.update(1)
            if s.writer is not None:
                _log_scalars(s.writer, done, s.loss, learning_rate(cfg, step), rate, s.sent)
            if done % cfg.checkpoint_every == 0 or done == cfg.steps or stop:
                s.last_ckpt = _checkpoint(cfg, s.model, s.optimizer, s.meta, done, s.dims,
                                          s.comm)
            if stop:
                return done
    return cfg.steps


def _step(s: _Session, batch: dict[str, Any], step: int, stop_wanted: bool) -> bool:
    """One step on ``batch`` (``s.loss`` and ``s.sent`` updated); whether to stop after it. A
    batch that failed to load stops training with a DataError naming the file."""
    bad_file = batch.pop("data_error", None)
    if bad_file is not None and s.comm.world == 1:
        raise _data_error(bad_file, step, s.last_ckpt)
    try:
        with _autocast(s.cfg, s.dims.device):
            s.loss, stop = _train_step(
                s.model, s.optimizer, batch, learning_rate(s.cfg, step), s.comm, s.dims.device,
                s.dtype, step, s.last_ckpt, stop_wanted, bad_data=bad_file is not None)
    except _BadDataOnARank:
        files: list[Any] = [None] * s.comm.world  # every rank names the same file
        torch.distributed.all_gather_object(files, bad_file, group=s.comm.group)
        first = next(f for f in files if f is not None)
        raise _data_error(first, step, s.last_ckpt) from None
    s.sent = s.comm.ledger.reset()
    return stop


def _checkpoint(cfg: TrainConfig, model: ParallelModel, optimizer: torch.optim.Optimizer,
                meta: dict[str, Any], step: int, dims: ParallelDims, comm: Comm) -> str:
    """Gather the full state on every rank (a collective), write it from rank 0."""
    state = model.full_state_dict()
    opt_state = model.full_optimizer_state(optimizer)
    comm.ledger.reset()  # checkpoint gathers are not training traffic
    path = ""
    if dims.is_main:
        path = str(save_checkpoint(cfg.out, step, state, opt_state, meta))
    if comm.world > 1:
        torch.distributed.barrier(group=comm.group)
    return path or str(Path(cfg.out) / "checkpoints" / f"step-{step}")


class StopRequest:
    """SIGTERM or Ctrl-C during training: finish the step, write a checkpoint, exit cleanly."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.requested = True

    def __enter__(self) -> StopRequest:
        """Catch SIGTERM and SIGINT (main thread only; elsewhere nothing is caught)."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _ignore_stop_signals(worker_id: int) -> None:
    """In a loader worker: leave SIGTERM and SIGINT to the training process. torchrun stops a
    rank with ``killpg`` and a terminal's Ctrl-C reaches its whole process group, so the
    workers get them too; dying there would kill the step the training process is finishing
    before its last checkpoint (the loader then raises "worker killed by signal")."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)


def _stop_wanted(cfg: TrainConfig, begin: float, comm: Comm, stopper: StopRequest) -> bool:
    """This rank's wish to stop after the coming step: a signal, or (rank 0 only, so that one
    clock decides) the time limit. The ranks agree in the step's one metrics all-reduce."""
    out_of_time = cfg.time_limit_s is not None and time.perf_counter() - begin >= cfg.time_limit_s
    return stopper.requested or (comm.rank == 0 and out_of_time)


def _log_step(log, step: int, loss: float, wait_s: float, step_s: float,
              sent: dict[str, float]) -> None:
    """One JSON line per step in ``RUN/train_log.jsonl`` (rank 0): loss, seconds waiting for
    data and in the step (forward, backward, communication, optimizer), bytes sent."""
    log.write(json.dumps({"step": step, "loss": round(loss, 6), "data_wait_s": round(wait_s, 5),
                          "step_s": round(step_s, 5),
                          "bytes_sent": training_bytes(sent)}) + "\n")
    log.flush()


def _log_scalars(writer, step: int, loss: float, lr: float, rate: float,
                 sent: dict[str, float]) -> None:
    writer.add_scalar("train/loss", loss, step)
    writer.add_scalar("train/lr", lr, step)
    writer.add_scalar("train/samples_per_s", rate, step)
    writer.add_scalar("comm/bytes_per_rank", training_bytes(sent), step)


def _autocast(cfg: TrainConfig, device: torch.device):
    """bf16 autocast when asked (conv and matmul in bf16, reductions and the loss in fp32)."""
    if not cfg.autocast_bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


class NumericalError(ParvoxError):
    """NaN or Inf in the loss or the gradients."""


class _BadDataOnARank(ParvoxError):
    """A rank's data for this step failed to load; no rank applied the step."""


def _data_error(bad_file: tuple[str, str], step: int, last_checkpoint: str) -> DataError:
    path, problem = bad_file
    kept = f"{last_checkpoint} kept" if last_checkpoint else "no checkpoint yet"
    return DataError(path, f"{problem} (at step {step + 1}; {kept}; --skip-bad trains "
                     "without bad models)")


def _train_step(model: ParallelModel, optimizer: torch.optim.Optimizer,
                batch: dict[str, Any], lr: float, comm: Comm, device: torch.device,
                dtype: torch.dtype = torch.float32, step: int = 0,
                last_checkpoint: str = "", stop_wanted: bool = False,
                bad_data: bool = False) -> tuple[float, bool]:
    """One optimizer step on this rank's share of the global batch.

    ``bad_data``: this rank's share failed to load and ``batch`` is a zero placeholder; the
    step runs its collectives so that every rank learns of it, and is not applied.

    Returns:
        ``(global loss, stop)``: ``stop`` is true when any rank wants to stop after this step.

    Raises:
        _BadDataOnARank: some rank's data failed to load (parameters unchanged).
        NumericalError: NaN/Inf in the loss or the gradients of any rank; the parameters are
            left as they were before the step.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    logits = model(batch["images"].to(device, dtype, non_blocking=True))
    loss = voxel_loss(logits, batch["voxels"].to(device, non_blocking=True))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    loss_sum, non_finite, stops, bad = _agree(loss, model, comm, stop_wanted, bad_data)
    if bad:
        raise _BadDataOnARank(f"a data file failed to load on {int(bad)} of {comm.world} ranks")
    if non_finite:
        where = last_checkpoint or "none written yet"
        raise NumericalError(f"step {step + 1}: NaN or Inf in the loss or the gradients; "
                             f"training stopped before applying it (last good checkpoint: "
                             f"{where})")
    optimizer.step()
    # the mean of the local means is the global mean (the shares are equal)
    return loss_sum / comm.world, stops > 0


def _agree(loss: torch.Tensor, model: ParallelModel, comm: Comm, stop_wanted: bool,
           bad_data: bool = False) -> tuple[float, float, float, float]:
    """Sums over ranks of (loss, non-finite loss or gradient, stop wishes, failed data
    loads): one small all-reduce per step, counted as "metrics"."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norms = torch._foreach_norm(grads) if grads else []
    checked = torch.stack([loss.detach().float().reshape(()), *[n.float() for n in norms]])
    local = torch.stack([loss.detach().double().cpu().reshape(()),
                         (~torch.isfinite(checked)).any().double().cpu(),
                         torch.tensor(float(stop_wanted), dtype=torch.float64),
                         torch.tensor(float(bad_data), dtype=torch.float64)])
    total = comm.all_reduce_(local, "metrics").tolist()
    return total[0], total[1], total[2], total[3]


def _summary_writer(path: Path):
    """A TensorBoard writer, or None when the tensorboard package is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(path))
