"""``parvox train --nproc K``: start K local ranks with torchrun's own machinery.

This is ``torchrun --standalone --nproc-per-node K -m parvox train ...`` called as a library
(``torch.distributed.launcher.api.elastic_launch``): c10d rendezvous on a free local port,
restarts of the whole worker group on failure (``--max-restarts``), per-rank environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``PORT``). For several nodes call
``torchrun --nnodes N --nproc-per-node K --rdzv-backend c10d --rdzv-endpoint HOST:PORT -m parvox
train ...`` directly; the ranks behave the same.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import Sequence

from parvox.errors import ParvoxError

#: Seconds the ranks get, after the launcher is told to stop (SIGTERM, Ctrl-C), to finish their
#: step and write a checkpoint before they are killed.
STOP_GRACE_S = 120


class LaunchStopped(Exception):
    """The launcher was told to stop (``signal`` is the signal's name) and passed it on to the
    ranks, which finish their step and checkpoint (or were killed after :data:`STOP_GRACE_S`)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal = signal_name


def launch_local(nproc: int, argv: Sequence[str], max_restarts: int = 0) -> None:
    """Run ``python -m parvox <argv>`` on ``nproc`` local ranks; raises ParvoxError on a
    failure and :class:`LaunchStopped` when stopped by a signal."""
    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc,
                          run_id=f"parvox-{uuid.uuid4().hex[:8]}", rdzv_backend="c10d",
                          rdzv_endpoint="localhost:0", max_restarts=max_restarts,
                          monitor_interval=0.5, start_method="spawn",
                          shutdown_timeout=STOP_GRACE_S)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "parvox", *argv)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        raise ParvoxError(f"rank {rank} failed with exit code {failure.exitcode} "
                          f"(its own message is above)") from None
    except SignalException as exc:
        raise LaunchStopped(signal.Signals(exc.sigval).name) from None


def strip_launch_flags(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--nproc K`` and ``--max-restarts R`` (the ranks must not relaunch)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--nproc", "--max-restarts"):
            skip = True
            continue
        if arg.startswith(("--nproc=", "--max-restarts=")):
            continue
        out.append(arg)
    return out
