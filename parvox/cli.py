"""The ``parvox`` command line: thin wrappers over the library.

User errors (``ParvoxError``) are printed as one line and exit with status 1; bad flags exit
with status 2, also as one line; Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from parvox.errors import ParvoxError

if TYPE_CHECKING:
    from parvox.train import TrainConfig


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="build and verify R2N2-layout datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True, parser_class=_Parser)

    build = data_sub.add_parser("build", help="build an R2N2-layout dataset")
    build.add_argument("out", help="output folder (receives ShapeNetRendering/, "
                                   "ShapeNetVox32/ and ShapeNet.json)")
    build.add_argument("--source", choices=("procedural", "meshes"), default="procedural")
    build.add_argument("--meshes", help="with --source meshes: folder of <class>/<model>.<ext>")
    build.add_argument("--per-class", type=int, default=20,
                       help="procedural models per class (default 20)")
    build.add_argument("--classes", help="comma-separated class names (default: all 13)")
    build.add_argument("--up", choices=("y", "z"), default="y", help="up axis of mesh files")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    build.add_argument("--skip-bad", action="store_true",
                       help="log and skip models that fail instead of stopping")
    build.set_defaults(func=_cmd_data_build)

    verify = data_sub.add_parser("verify", help="check files and camera/voxel agreement")
    verify.add_argument("root", help="R2N2-layout folder")
    verify.add_argument("--json", help="write the per-model report to this file")
    verify.add_argument("--skip-bad", action="store_true",
                        help="report bad models but exit 0")
    verify.set_defaults(func=_cmd_data_verify)


def _views_range(text: str) -> tuple[int, int]:
    """``"3"`` -> (3, 3); ``"1-5"`` -> (1, 5)."""
    try:
        lo, _, hi = text.partition("-")
        return (int(lo), int(hi or lo))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or MIN-MAX, got {text!r}") from None


def _views_list(text: str) -> list[int]:
    """``"1,2,3"`` -> [1, 2, 3]."""
    try:
        views = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated counts, got {text!r}") from None
    if any(not 1 <= v <= 24 for v in views):
        raise argparse.ArgumentTypeError(f"view counts must be in 1..24, got {text!r}")
    return views


def _add_train_command(sub: argparse._SubParsersAction) -> None:
    from parvox.models import available_models

    # Settings default to None here: TrainConfig holds the defaults, and --config-file values
    # apply where a flag is not given.
    train = sub.add_parser("train", help="train a network on an R2N2-layout dataset")
    train.add_argument("--config", help=f"model config: {', '.join(available_models())}")
    train.add_argument("--data", help="R2N2-layout dataset root")
    train.add_argument("--out", help="run folder")
    train.add_argument("--config-file", metavar="FILE",
                       help="JSON or TOML file of training settings (TrainConfig fields, as in "
                       "RUN/config.json); flags given on the command line win")
    _add_train_schedule_flags(train)
    _add_train_augment_flags(train)
    _add_train_parallel_flags(train)
    _add_train_precision_flags(train)
    train.set_defaults(func=_cmd_train)


def _add_train_schedule_flags(train: argparse.ArgumentParser) -> None:
    """Steps, batch, optimizer, checkpoints and loader of ``parvox train``."""
    from parvox.train import DEFAULT_LR, DEFAULT_WEIGHT_DECAY

    train.add_argument("--steps", type=int, help="default 1000")
    train.add_argument("--batch", type=int, help="global batch size (default 16)")
    train.add_argument("--views", type=_views_range,
                       help="views per batch, N or MIN-MAX (default 1-5)")
    train.add_argument("--lr", type=float, help=f"default {DEFAULT_LR}")
    train.add_argument("--lr-drop-step", type=int, help="step where lr drops x0.1 "
                       "(default: 75%% of --steps)")
    train.add_argument("--lr-warmup", type=int, metavar="STEPS",
                       help="linear learning-rate warm-up over the first STEPS steps (default 0)")
    train.add_argument("--weight-decay", type=float, help=f"default {DEFAULT_WEIGHT_DECAY}")
    train.add_argument("--seed", type=int, help="default 0")
    train.add_argument("--checkpoint-every", type=int, help="default 500")
    train.add_argument("--workers", type=int, help="data loader processes (default 1)")
    train.add_argument("--threads", type=int, help="torch threads")


def _add_train_augment_flags(train: argparse.ArgumentParser) -> None:
    """The augmentation flags of ``parvox train``."""
    train.add_argument("--no-flip", action="store_true", default=None,
                       help="no horizontal flip augmentation")
    train.add_argument("--backgrounds", type=float, metavar="P",
                       help="share of training views composited on varied backgrounds "
                            "(gradients, noise, patterns, blurred renders, rooms; default 0)")
    train.add_argument("--light-jitter", type=float, metavar="A",
                       help="light and colour jitter strength in [0, 1] (default 0)")
    train.add_argument("--frame-jitter", type=float, metavar="A",
                       help="object scale (±A) and position (±A/2) jitter (default 0)")
    train.add_argument("--reframe", type=float, metavar="P",
                       help="share of training views re-framed as the photo path re-frames "
                            "photos: the object at R2N2's median size and position (default 0)")
    train.add_argument("--repaint", type=float, metavar="P",
                       help="share of training views whose object is repainted in a light, "
                            "mostly grey material, as ShapeNet's untextured models render "
                            "(default 0)")


def _add_train_parallel_flags(train: argparse.ArgumentParser) -> None:
    """Resuming, the per-layer plan, local ranks and learning-rate scaling of ``parvox train``."""
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--parallel", choices=_plan_names(),
                       help="per-layer plan (default ddp): " + _plan_help())
    _add_link_flags(train)
    train.add_argument("--auto-trial", type=int, metavar="N",
                       help="--parallel auto: time the plans the cost model cannot tell apart "
                       "(predicted within 20%% of its best) for N steps each and keep the "
                       "fastest (default 3; 0: the cost model's choice alone)")
    train.add_argument("--fc-update", choices=("global", "per-chunk"),
                       help="with owt-overlap: FC shards step once per global batch (exact, "
                       "default) or after every rank's chunk (Krizhevsky's variant, not exact)")
    train.add_argument("--nproc", type=int, default=1,
                       help="local ranks to start (torchrun's machinery); default 1")
    train.add_argument("--max-restarts", type=int, default=0,
                       help="with --nproc: restarts of the worker group after a failure")
    train.add_argument("--lr-scaling", choices=("none", "linear", "sqrt"),
                       help="scale --lr with the global batch relative to --lr-base-batch")
    train.add_argument("--lr-base-batch", type=int, help="default 16")


def _add_train_precision_flags(train: argparse.ArgumentParser) -> None:
    """Time limit, precision and bad-file handling of ``parvox train``."""
    train.add_argument("--time-limit", type=float, metavar="MINUTES",
                       help="stop after this many minutes of training, with a checkpoint")
    train.add_argument("--bf16", action="store_true", default=None,
                       help="bf16 autocast for the forward pass (fp32 weights and optimizer)")
    train.add_argument("--dtype", choices=("float32", "float64"),
                       help="parameter precision (float64 for numerical checks)")
    train.add_argument("--skip-bad", action="store_true", default=None,
                       help="train without the models whose files are bad (default: refuse "
                       "a training split with bad files)")


def _add_eval_command(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="evaluate a checkpoint (IoU, F-score, floors)")
    ev.add_argument("--checkpoint", required=True,
                    help="run folder, checkpoint folder, .safetensors weights, or 'pretrained' "
                         "(the model shipped in the package)")
    ev.add_argument("--data", required=True, help="R2N2-layout dataset root")
    ev.add_argument("--split", default="test", choices=("train", "val", "test"))
    ev.add_argument("--views", type=_views_list, default=[1, 2, 3, 4, 5])
    ev.add_argument("--floors-from", help="dataset whose training split gives the floors")
    ev.add_argument("--batch", type=int, default=16)
    ev.add_argument("--workers", type=int, default=0, help="data loader processes")
    ev.add_argument("--json", help="write the report to this file")
    ev.add_argument("--flip-average", action="store_true",
                    help="average each prediction with that of the views mirrored left-right, "
                         "as parvox reconstruct does (default: Pix2Vox's single pass)")
    ev.set_defaults(func=_cmd_eval)


def _add_reconstruct_command(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("reconstruct", help="voxels and a mesh from your own photos")
    rec.add_argument("images", nargs="+", help="one or more photos of the same object")
    rec.add_argument("--checkpoint",
                     help="run folder, checkpoint folder or .safetensors weights (default: "
                          "'pretrained', the model shipped in the package)")
    rec.add_argument("--out", required=True, help="output folder")
    rec.add_argument("--mask", action="append", metavar="FILE",
                     help="the object's mask (white = object, same aspect as its photo); "
                          "once per image, in order")
    rec.add_argument("--no-segment", action="store_true",
                     help="no segmentation: a photo without alpha is taken whole")
    rec.add_argument("--no-flip-average", action="store_true",
                     help="one forward pass instead of the mean of the views as given and "
                          "mirrored left-right")
    rec.set_defaults(func=_cmd_reconstruct)


def _add_grow_command(sub: argparse._SubParsersAction) -> None:
    grow = sub.add_parser("grow", help="widen a trained network without changing its outputs, "
                                       "to continue training with more capacity")
    grow.add_argument("checkpoint", help="run folder or checkpoint folder")
    grow.add_argument("--out", required=True,
                      help="new run folder; continue with: parvox train --config-file "
                           "OUT/config.json --resume ...")
    grow.add_argument("--hidden-channels", type=int, help="channels of the recurrent grid")
    grow.add_argument("--fc-dim", type=int, help="width of the encoder FC")
    grow.add_argument("--decoder-widths", type=_int_list, help="e.g. 64,32,16 (same length)")
    grow.add_argument("--seed", type=int, default=0, help="init of the new units (default 0)")
    grow.set_defaults(func=_cmd_grow)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}"
                                         ) from None


def build_parser() -> argparse.ArgumentParser:
    """The full ``parvox`` argument parser."""
    parser = _Parser(prog="parvox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_data_commands(sub)
    _add_train_command(sub)
    _add_eval_command(sub)
    _add_reconstruct_command(sub)
    app = sub.add_parser("app", help="reconstruct in the browser: a local web page")
    app.add_argument("--checkpoint", help="run folder, checkpoint folder or .safetensors "
                                          "weights (default: the model shipped in the package)")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=int, default=7860)
    app.set_defaults(func=_cmd_app)

    plan = sub.add_parser("plan", help="per-layer parallel plan: params, FLOPs, bytes sent")
    plan.add_argument("--config", required=True)
    plan.add_argument("--parallel", default="owt", choices=_plan_names(),
                      help="per-layer plan: " + _plan_help())
    plan.add_argument("--bf16", action="store_true", help="bf16 activations (autocast)")
    _add_link_flags(plan)
    plan.add_argument("--nproc", type=int, default=2)
    plan.add_argument("--batch", type=int, default=16)
    plan.add_argument("--views", type=int, default=5)
    plan.add_argument("--json", help="write the plan to this file")
    plan.set_defaults(func=_cmd_plan)
    _add_grow_command(sub)
    demo = sub.add_parser("demo", help="the main job on the embedded procedural dataset")
    demo.add_argument("--out", default="demo-out", help="output folder (default demo-out)")
    demo.add_argument("--per-class", type=int, default=30)
    demo.add_argument("--workers", type=int, default=2, help="dataset build processes")
    demo.add_argument("--nproc", type=int, default=2, help="training ranks")
    demo.add_argument("--steps", type=int, default=None, help="training steps")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _cmd_data_build(args: argparse.Namespace) -> int:
    from parvox.data.builder import build_dataset, mesh_jobs, procedural_jobs
    from parvox.data.classes import CLASSES

    if args.source == "meshes":
        if not args.meshes:
            raise ParvoxError("--source meshes needs --meshes DIR")
        jobs = mesh_jobs(args.meshes, args.up)
    else:
        classes = args.classes.split(",") if args.classes else list(CLASSES)
        jobs = procedural_jobs(args.per_class, classes)
    if args.workers < 1:
        raise ParvoxError(f"--workers must be at least 1, got {args.workers}")
    summary = build_dataset(args.out, jobs, seed=args.seed, workers=args.workers,
                            skip_bad=args.skip_bad)
    print(summary.table())
    print(f"\n{summary.count('built')} built, {summary.count('skipped')} already complete, "
          f"{summary.count('failed')} failed in {summary.seconds:.1f} s "
          f"({summary.seconds_per_model_core:.3f} s per model per core); "
          f"splits in {args.out}/ShapeNet.json")
    for result in summary.results:
        if result.status == "failed":
            print(f"skipped bad model: {result.error}", file=sys.stderr)
    return 0


def _check_json_target(path: str | None) -> None:
    """Fail before the work when ``--json PATH`` cannot be written."""
    if path:
        from pathlib import Path

        from parvox.errors import DataError
        from parvox.files import check_writable_dir

        try:
            check_writable_dir(Path(path).resolve().parent)
        except DataError as exc:
            raise DataError(path, f"cannot write the --json file: {exc.problem}") from None


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from parvox.data.verify import verify_root, verify_table
    from parvox.files import write_json

    _check_json_target(args.json)
    result = verify_root(args.root)
    if args.json:
        write_json(args.json, result.to_json())
    print(verify_table(result))
    bad = result.bad_models
    for model in bad:
        for problem in model.problems:
            print(f"problem: {problem}", file=sys.stderr)
    if result.split_problem:
        print(f"problem: {result.split_problem}", file=sys.stderr)
    print(f"\n{len(result.models)} models, {len(bad)} with problems; mean silhouette IoU "
          f"{result.mean_silhouette_iou:.3f}, mean coverage {result.mean_coverage:.3f}"
          + ("; the split file is bad" if result.split_problem else ""))
    return 1 if result.split_problem or (bad and not args.skip_bad) else 0


#: ``parvox train`` flags that set a TrainConfig field of another name.
_TRAIN_FLAG_FIELDS = {"no_flip": "flip", "bf16": "autocast_bf16", "time_limit": "time_limit_s"}


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from ``--config-file`` (if any) overridden by the flags given."""
    import dataclasses

    from parvox.configfile import checked_fields, read_config_file
    from parvox.models import available_models
    from parvox.models.config import ModelConfig
    from parvox.train import TrainConfig

    values: dict[str, object] = {}
    if args.config_file:
        path = args.config_file
        values = checked_fields(read_config_file(path), TrainConfig, path)
        values["model_overrides"] = checked_fields(values.get("model_overrides", {}),
                                                   ModelConfig, path, "model_overrides.")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for dest, value in vars(args).items():
        field = _TRAIN_FLAG_FIELDS.get(dest, dest)
        if field not in fields or value is None:
            continue
        if field == "flip":
            value = not value  # --no-flip
        elif field == "time_limit_s":
            value = value * 60  # --time-limit is in minutes
        values[field] = value
    for name in ("config", "data", "out"):
        if values.get(name) is None:
            raise ParvoxError(f"--{name} is required (on the command line or as {name!r} in "
                              "--config-file)")
    if values["config"] not in available_models():
        raise ParvoxError(f"unknown --config {values['config']!r}; choose among "
                          f"{', '.join(available_models())}")
    return TrainConfig(**values)  # type: ignore[arg-type]


def _cmd_train(args: argparse.Namespace) -> int:
    from parvox.train import train

    cfg = _train_config(args)
    if args.nproc < 1:
        raise ParvoxError(f"--nproc must be at least 1, got {args.nproc}")
    if args.max_restarts < 0:
        raise ParvoxError(f"--max-restarts must be at least 0, got {args.max_restarts}")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return _launch_ranks(args, cfg)
    result = train(cfg, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(result.table())
    return 0


def _launch_ranks(args: argparse.Namespace, cfg: TrainConfig) -> int:
    from parvox.parallel.launch import LaunchStopped, launch_local, strip_launch_flags

    if cfg.batch % args.nproc:
        raise ParvoxError(f"--batch {cfg.batch} is not divisible by --nproc {args.nproc}")
    argv = strip_launch_flags(sys.argv[1:] if args.argv is None else args.argv)
    if args.max_restarts > 0 and "--resume" not in argv:
        argv.append("--resume")  # a restarted group continues from the latest checkpoint
    before = _latest_step(cfg.out)
    try:
        launch_local(args.nproc, argv, args.max_restarts)
    except LaunchStopped as stop:
        after = _latest_step(cfg.out)
        if after is None or after == before:
            raise ParvoxError(f"stopped by {stop.signal} before the ranks wrote a checkpoint "
                              f"in {cfg.out}") from None
        print(f"parvox: stopped by {stop.signal}; {cfg.out} has a checkpoint at step {after} "
              "(add --resume to continue)", file=sys.stderr)
    return 0


def _latest_step(run: str | os.PathLike[str]) -> int | None:
    from parvox.checkpoint import list_checkpoints

    found = list_checkpoints(run)  # sorted by step
    return found[-1][0] if found else None


def _cmd_eval(args: argparse.Namespace) -> int:
    """SIGTERM stops the evaluation before its next batch: its loader's and F-score pool's
    workers are shut down (the pool's would otherwise wait for work for ever), nothing is
    written, and the exit status is 143. The handler only sets a flag: an exception raised from
    it would land wherever the main thread is (inside fork's callbacks, where Python drops it;
    in a DataLoader iterator half built, whose ``__del__`` then prints a traceback)."""
    from parvox.evaluate import EvalStopped, evaluate, report_table
    from parvox.files import write_json

    _check_json_target(args.json)
    stopped: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopped.append(signum))
    try:
        report = evaluate(args.checkpoint, args.data, split=args.split, views=args.views,
                          batch=args.batch, workers=args.workers, floors_from=args.floors_from,
                          flip_average=args.flip_average, should_stop=lambda: bool(stopped))
    except EvalStopped:
        print("parvox: eval stopped by SIGTERM; no report written", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report_table(report))
    if args.json:
        write_json(args.json, report)
    return 0


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    from parvox.reconstruct import reconstruct

    written = reconstruct(args.images, args.checkpoint, args.out, masks=args.mask,
                          segment=not args.no_segment,
                          flip_average=not args.no_flip_average)
    for kind, path in written.items():
        print(f"{kind:8s} {path}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ParvoxError(f"--port must be in 1..65535, got {args.port}")
    from parvox.app import serve

    print(f"parvox app on http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    serve(args.checkpoint, args.host, args.port)
    return 0


def _plan_names() -> list[str]:
    from parvox.parallel.plans import plan_names

    return plan_names()


def _plan_help() -> str:
    from parvox.parallel.plans import PLANS

    return "; ".join(f"{name}: {plan.help}" for name, plan in PLANS.items())


def _add_link_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--link-gbps", type=float, metavar="G",
                        help="link between ranks for --parallel auto, in Gbit/s (train: "
                        "probed at start when not given; plan: default 10)")
    parser.add_argument("--link-latency-us", type=float, metavar="US",
                        help="one-way latency of that link in µs (default 0)")


def _cmd_plan(args: argparse.Namespace) -> int:
    from parvox.files import write_json
    from parvox.models import available_models, create_model
    from parvox.parallel.analysis import format_plan, plan_report
    from parvox.parallel.cost import Link

    if args.config not in available_models():
        raise ParvoxError(f"unknown --config {args.config!r}; choose among "
                          f"{', '.join(available_models())}")
    if args.nproc < 1 or args.batch % args.nproc:
        raise ParvoxError(f"--batch {args.batch} must be divisible by --nproc {args.nproc}")
    gbps, latency = args.link_gbps or 10.0, args.link_latency_us or 0.0
    if gbps <= 0 or latency < 0:
        raise ParvoxError("--link-gbps must be positive and --link-latency-us at least 0")
    report = plan_report(create_model(args.config), args.parallel, args.nproc, args.batch,
                         args.views, Link.from_gbits(gbps, latency * 1e-6), args.bf16,
                         name=args.config)
    print(format_plan(report))
    if args.json:
        write_json(args.json, report)
    return 0


def _cmd_grow(args: argparse.Namespace) -> int:
    from parvox.grow import grow_checkpoint

    changes = {k: v for k, v in (("hidden_channels", args.hidden_channels),
                                 ("fc_dim", args.fc_dim),
                                 ("decoder_widths", args.decoder_widths)) if v is not None}
    if not changes:
        raise ParvoxError("grow: nothing to grow; pass --hidden-channels, --fc-dim or "
                          "--decoder-widths")
    written = grow_checkpoint(args.checkpoint, args.out, changes, seed=args.seed)
    print(f"grown   {written}")
    print(f"continue with: parvox train --config-file {Path(args.out) / 'config.json'} --resume")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from parvox.demo import DEMO_STEPS, run_demo

    return run_demo(args.out, per_class=args.per_class, workers=args.workers, nproc=args.nproc,
                    steps=args.steps or DEMO_STEPS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parvox`` console script."""
    args = build_parser().parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    try:
        return int(args.func(args) or 0)
    except ParvoxError as exc:
        print(f"parvox: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("parvox: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
