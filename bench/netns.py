"""Run a command in a private network namespace whose loopback is rate-limited.

Loopback between processes on one machine is faster than any network between nodes, so the
benchmarks of the parallel plans at K = 2 on it show little. :func:`in_rate_limited_namespace`
wraps a command line so that it runs in a fresh network namespace (``unshare -n``, needs root
or CAP_SYS_ADMIN) with ``lo`` up and, for a finite rate, a token-bucket filter on ``lo``:

    tc qdisc add dev lo root tbf rate <G>gbit burst 1mb latency 100ms

The numbers ``burst 1mb latency 100ms`` are the ones of the issue that asked for these
measurements ("Real links, measured"): a 1 MB bucket (well above lo's 64 KiB MTU, so one packet
always fits) and up to 100 ms of queueing before packets are dropped. All the ranks' traffic
stays on that namespace's loopback, and nothing outside it is reachable from inside.

What such a link is and is not (measured with ``bench/links.py --probe``):

* tbf limits the rate at which packets leave ``lo``; both directions of a connection leave
  through the same ``lo``, so the rate is shared by everything the ranks send, in all
  directions (like a half-duplex link, or a switch port of half the rate in each direction
  when two ranks send at once, as in a ring all-reduce).
* tbf adds no latency of its own (``latency`` only bounds the queue): the round-trip time is
  loopback's, tens of microseconds, not a network's.

The unlimited row runs in the same kind of namespace with ``lo`` up and no qdisc, so that every
row shares the same setup.

:func:`veth_pair` instead makes a **full-duplex** link: two namespaces joined by a veth pair,
tbf on each end's egress, one rank (a torchrun "node") in each. Each direction then has the
whole rate, as between two nodes on a switch (measured at 1 Gbit/s: 120 MB/s per rank for a
2-rank all-reduce, against 62 MB/s per rank through a shared ``lo``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

#: tbf parameters from the issue (see the module docstring).
BURST = "1mb"
LATENCY = "100ms"


def rate(gbits: float) -> str:
    """The tbf rate of ``gbits`` Gbit/s, in tc's units (``1gbit``, ``2.5gbit``)."""
    if not gbits > 0:
        raise ValueError(f"link rate must be positive, got {gbits} Gbit/s")
    return f"{gbits:g}gbit"


def setup_script(gbits: float | None) -> str:
    """The shell commands that prepare the namespace's loopback."""
    steps = ["ip link set lo up"]
    if gbits is not None:
        steps.append(f"tc qdisc add dev lo root tbf rate {rate(gbits)} burst {BURST} "
                     f"latency {LATENCY}")
    return " && ".join(steps)


def in_rate_limited_namespace(cmd: list[str], gbits: float | None) -> list[str]:
    """A command line that runs ``cmd`` in a fresh network namespace with ``lo`` up and, when
    ``gbits`` is not None, ``lo`` limited to ``gbits`` Gbit/s (tbf, burst 1mb, latency 100ms).

    The inner command replaces the shell (``exec``), so its exit code is the wrapper's; if the
    namespace cannot be set up the wrapper fails before running it.
    """
    if not cmd:
        raise ValueError("empty command")
    return ["unshare", "-n", "sh", "-c", f"{setup_script(gbits)} && exec {shlex.join(cmd)}"]


@cache
def namespace_available() -> bool:
    """Whether a rate-limited namespace can be made here (tried once, then cached): needs
    ``unshare``, ``ip`` and ``tc`` and the right to create a network namespace (root)."""
    if not all(shutil.which(tool) for tool in ("unshare", "ip", "tc")):
        return False
    try:
        done = subprocess.run(in_rate_limited_namespace(["true"], 1.0), capture_output=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# ------------------------------------------------------------------- full duplex: a veth pair


@dataclass(frozen=True)
class Node:
    """One end of a :func:`veth_pair`: its namespace, interface and address."""

    netns: str
    ifname: str
    address: str

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` run inside this node's namespace, gloo told to use the veth end (it would
        otherwise pick the interface of the host name, which the namespace lacks)."""
        return ["ip", "netns", "exec", self.netns, "env", f"GLOO_SOCKET_IFNAME={self.ifname}",
                *cmd]


def veth_script(nodes: tuple[Node, Node], gbits: float | None) -> list[list[str]]:
    """The ``ip``/``tc`` commands that make two namespaces joined by a veth pair, each end's
    egress limited to ``gbits`` (none for None): a full-duplex link, each direction its own."""
    a, b = nodes
    steps = [["ip", "netns", "add", a.netns], ["ip", "netns", "add", b.netns],
             ["ip", "link", "add", a.ifname, "netns", a.netns, "type", "veth", "peer", "name",
              b.ifname, "netns", b.netns]]
    for node in nodes:
        steps += [["ip", "-n", node.netns, "addr", "add", f"{node.address}/24", "dev",
                   node.ifname],
                  ["ip", "-n", node.netns, "link", "set", node.ifname, "up"],
                  ["ip", "-n", node.netns, "link", "set", "lo", "up"]]
        if gbits is not None:
            steps.append(["tc", "-n", node.netns, "qdisc", "add", "dev", node.ifname, "root",
                          "tbf", "rate", rate(gbits), "burst", BURST, "latency", LATENCY])
    return steps


@contextmanager
def veth_pair(gbits: float | None) -> Iterator[tuple[Node, Node]]:
    """Two network namespaces joined by a veth pair (10.77.0.1 and .2) whose ends each send
    at most ``gbits`` Gbit/s (tbf on each end's egress): unlike tbf on a shared ``lo``, both
    directions run at the full rate at once, as between two nodes on a switch. Removed on
    exit (a namespace's veth end goes with it)."""
    tag = f"{os.getpid() % 100000}"
    nodes = (Node(f"pvx{tag}a", f"pvx{tag}a", "10.77.0.1"),
             Node(f"pvx{tag}b", f"pvx{tag}b", "10.77.0.2"))
    try:
        for step in veth_script(nodes, gbits):
            subprocess.run(step, check=True, capture_output=True, text=True)
        yield nodes
    finally:
        for node in nodes:
            subprocess.run(["ip", "netns", "del", node.netns], capture_output=True)


@cache
def veth_available() -> bool:
    """Whether :func:`veth_pair` works here (tried once, then cached)."""
    if not all(shutil.which(tool) for tool in ("ip", "tc")):
        return False
    try:
        with veth_pair(1.0):
            return True
    except (OSError, subprocess.SubprocessError):
        return False
