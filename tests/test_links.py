"""bench/links.py and bench/netns.py: training over a rate-limited loopback in a private
network namespace (skipped where the namespace cannot be made: needs root, unshare, ip, tc)."""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import links  # noqa: E402
import throughput  # noqa: E402
from netns import (  # noqa: E402
    Node,
    in_rate_limited_namespace,
    namespace_available,
    veth_available,
    veth_pair,
    veth_script,
)

from parvox.data.builder import build_dataset, procedural_jobs  # noqa: E402


@pytest.fixture
def namespace() -> None:
    """Skip where a rate-limited network namespace cannot be made (root, unshare, ip, tc)."""
    if not namespace_available():
        pytest.skip("cannot make a network namespace here (needs root, unshare, ip and tc)")


def test_command_has_the_rate_limit_and_keeps_the_arguments() -> None:
    inner = ["python", "-c", "print('a b; c')", "--out", "/tmp/x y"]
    cmd = in_rate_limited_namespace(inner, 2.5)
    assert cmd[:4] == ["unshare", "-n", "sh", "-c"] and len(cmd) == 5
    script = cmd[4]
    assert "ip link set lo up" in script
    assert "tc qdisc add dev lo root tbf rate 2.5gbit burst 1mb latency 100ms" in script
    assert script.endswith("exec " + shlex.join(inner))
    assert shlex.split(script.split("exec ", 1)[1]) == inner  # quoting survives
    unlimited = in_rate_limited_namespace(inner, None)[4]
    assert "ip link set lo up" in unlimited and "tc " not in unlimited
    with pytest.raises(ValueError):
        in_rate_limited_namespace(inner, 0)
    with pytest.raises(ValueError):
        in_rate_limited_namespace([], 1)


def test_parse_links() -> None:
    assert links.parse_links("1,10,25,unlimited") == [1.0, 10.0, 25.0, None]
    assert links.auto_flags(None, 1e-4) == []
    assert links.auto_flags(25, 1.5e-4) == ["--link-gbps", "25", "--link-latency-us", "150.0"]
    with pytest.raises(ValueError):
        links.parse_links("-1")


def test_predictions_call_the_cost_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The call into ``parvox.parallel.cost`` (a stand-in here: the API as agreed), and the
    table's columns for a row with and without a prediction."""
    calls = []

    @dataclasses.dataclass(frozen=True)
    class Link:
        bandwidth: float
        latency: float = 0.0
        cpu_per_byte: float = 0.0

        @classmethod
        def from_gbits(cls, gbits: float, latency_s: float = 0.0) -> Link:
            return cls(gbits * 1e9 / 8, latency_s)

    def predict_step(config, plan, nproc, batch, views, link, compute_s, bf16=False):
        calls.append((config, plan, nproc, batch, views, link.bandwidth, link.latency,
                      link.cpu_per_byte, bf16))
        return compute_s + 1e6 / link.bandwidth

    import parvox.parallel

    fake = types.SimpleNamespace(Link=Link, predict_step=predict_step)
    monkeypatch.setitem(sys.modules, "parvox.parallel.cost", fake)
    monkeypatch.setattr(parvox.parallel, "cost", fake, raising=False)
    cost = links.cost_model()
    assert cost is fake
    probe = links.Probe(1.0, 64_000_000, 1.0, 2e-4, cpu_per_byte=1e-9)  # 64 MB/s/rank, 100 µs
    args = {"config": "tiny", "nproc": 2, "batch": 8, "views": 2, "bf16": False}
    nominal = links.predict(cost, args, "owt", 1.0, probe, 0.5, probed=False)
    probed = links.predict(cost, args, "owt", 1.0, probe, 0.5, probed=True)
    assert nominal == pytest.approx(0.5 + 1e6 / 125e6) and probed == pytest.approx(0.5 + 1 / 64)
    assert calls[0] == ("tiny", "owt", 2, 8, 2, 125e6, pytest.approx(1e-4), 1e-9, False)
    assert calls[1] == ("tiny", "owt", 2, 8, 2, 64e6, pytest.approx(1e-4), 1e-9, False)
    assert links.predict(cost, args, "owt", None, probe, 0.5, probed=False) is None
    assert links.predict(None, args, "owt", 1.0, probe, 0.5, probed=True) is None

    def run(seconds: float) -> throughput.Run:
        return throughput.Run("tiny", "owt", 2, 8, 2, False, "cpu", [seconds], {})

    result = links.Result("tiny", 2, 8, 2, False, 2, 0, run(0.4), [probe], [
        links.Row(1.0, "ddp", run(0.5)),
        links.Row(1.0, "owt", run(0.4), nominal, probed, "owt")], True)
    table = links.links_table(result)
    assert "| 1 Gbit/s | ddp | 16.00 | 0.500 | n/a / n/a | n/a / n/a | 0.00 | 1.00 |" in table
    assert "| 1 Gbit/s | owt | 20.00 | 0.400 | 0.508 / 0.516 | +27 / +29 | 0.00 | 1.25 |" in table


def test_rounds_alternate_the_plans_and_pool_their_steps(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """With rounds, each link runs every plan once per round in a rotated order (so a slow
    spell of the shared cores hits every plan alike), and a row pools its rounds' steps."""
    order: list[str] = []
    times = {"ddp": [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], "owt": [[0.5] * 3, [0.7] * 3]}

    def measure(data, work, config, plan, *args, tag="", **kwargs):
        order.append(plan)
        steps = times[plan][sum(p == plan for p in order) - 1]
        run = throughput.Run(config, plan, 2, 8, 2, False, "cpu", steps, {})
        return run, f"said {len(order)}" if plan == "owt" else ""

    def compute(*args):
        return throughput.Run("tiny", "ddp", 1, 4, 2, False, "cpu", [0.4], {})

    monkeypatch.setattr(links, "measure", measure)
    monkeypatch.setattr(links, "measure_compute", compute)
    monkeypatch.setattr(links, "probe", lambda *a, **k: links.Probe(1.0, 64e6, 1.0, 2e-4))
    monkeypatch.setattr(links, "cost_model", lambda: None)
    result = links.links_bench(tmp_path, tmp_path, "tiny", [1.0], ["ddp", "owt"], 2, 8, 2,
                               rounds=2)
    assert order == ["ddp", "owt", "owt", "ddp"]
    ddp, owt = result.by_key()[(1.0, "ddp")], result.by_key()[(1.0, "owt")]
    assert ddp.run.step_times == [1.0] * 3 + [2.0] * 3 and ddp.rounds == [1.0, 2.0]
    assert ddp.run.seconds == 1.5 and ddp.spread == "4.00–8.00"
    assert owt.chosen == "said 2 | said 3" and owt.rounds == [0.5, 0.7]
    assert "| 1 Gbit/s | owt | 13.33 (11.43–16.00) |" in links.links_table(result)
    assert "2 rounds" in result.title()


def test_exit_code_of_the_inner_command_is_kept(namespace: None) -> None:
    assert subprocess.run(in_rate_limited_namespace(["false"], 1)).returncode == 1
    assert subprocess.run(in_rate_limited_namespace(["sh", "-c", "exit 7"], None)).returncode == 7
    shown = subprocess.run(in_rate_limited_namespace(["tc", "qdisc", "show", "dev", "lo"], 1),
                           capture_output=True, text=True)
    assert shown.returncode == 0 and "tbf" in shown.stdout and "1Gbit" in shown.stdout


@pytest.mark.slow
@pytest.mark.multiproc
def test_one_owt_step_over_a_1_gbit_link(namespace: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_dataset(data, procedural_jobs(2, ["chair", "airplane"]), seed=3, show_progress=False)
    run, said = links.measure(data, tmp_path / "runs", "tiny", "owt", 2, 4, 1, steps=1, warmup=0,
                        bf16=False, gbits=1.0)
    assert len(run.step_times) == 1 and run.step_times[0] > 0
    assert run.comm["world_size"] == 2 and run.comm["parallel"] == "owt"
    assert run.bytes_sent > 0
    assert "tbf rate 1gbit" in run.command and said == ""


def test_veth_script_limits_each_end_of_the_pair() -> None:
    nodes = (Node("na", "va", "10.77.0.1"), Node("nb", "vb", "10.77.0.2"))
    steps = [" ".join(step) for step in veth_script(nodes, 2.5)]
    assert "ip link add va netns na type veth peer name vb netns nb" in steps
    for node in nodes:  # each end's egress: one direction each, so the pair is full duplex
        assert (f"tc -n {node.netns} qdisc add dev {node.ifname} root tbf rate 2.5gbit "
                f"burst 1mb latency 100ms") in steps
        assert f"ip -n {node.netns} addr add {node.address}/24 dev {node.ifname}" in steps
    assert not any(step.startswith("tc ") for step in
                   (" ".join(s) for s in veth_script(nodes, None)))
    # gloo must use the veth end: the host name's interface is not in the namespace
    assert nodes[1].wrap(["true"]) == ["ip", "netns", "exec", "nb", "env",
                                       "GLOO_SOCKET_IFNAME=vb", "true"]


@pytest.mark.slow
@pytest.mark.multiproc
def test_one_owt_step_over_a_full_duplex_1_gbit_pair(tmp_path: Path) -> None:
    """One torchrun node in each namespace of a veth pair: the ranks really talk over it."""
    if not veth_available():
        pytest.skip("cannot make two namespaces joined by a veth pair (root, ip, tc)")
    data = tmp_path / "data"
    build_dataset(data, procedural_jobs(2, ["chair", "airplane"]), seed=3, show_progress=False)
    with veth_pair(1.0) as nodes:
        for node in nodes:
            shown = subprocess.run(["tc", "-n", node.netns, "qdisc", "show", "dev", node.ifname],
                                   capture_output=True, text=True)
            assert "tbf" in shown.stdout and "1Gbit" in shown.stdout
        run, _ = links.measure(data, tmp_path / "runs", "tiny", "owt", 2, 4, 1, steps=1,
                               warmup=0, bf16=False, gbits=1.0, nodes=nodes)
    assert subprocess.run(["ip", "netns", "exec", nodes[0].netns, "true"],
                          capture_output=True).returncode != 0  # removed on exit
    assert len(run.step_times) == 1 and run.comm["world_size"] == 2 and run.bytes_sent > 0
    assert run.command.count("ip netns exec") == 2 and "--master-addr 10.77.0.1" in run.command


def test_run_all_lets_waiting_processes_write_much_to_stderr(tmp_path: Path) -> None:
    """Two commands that wait on each other (as two torchrun nodes do), the second writing
    more than a pipe holds before it signals: reading the first's stderr to its end before the
    second's would deadlock them."""
    flag = tmp_path / "flag"
    waiter = [sys.executable, "-c", "import pathlib, sys, time\n"
              f"p = pathlib.Path({str(flag)!r})\n"
              "for _ in range(300):\n    if p.exists(): break\n    time.sleep(0.05)\n"
              "else:\n    sys.exit('timed out')\nsys.stderr.write('first done')"]
    writer = [sys.executable, "-c", "import pathlib, sys\nsys.stderr.write('x' * 300_000)\n"
              f"pathlib.Path({str(flag)!r}).touch()"]
    err = throughput.run_all([waiter, writer], {"PATH": "/usr/bin:/bin"})
    assert "first done" in err and err.count("x") == 300_000
    with pytest.raises(RuntimeError, match="failed \\(3\\)"):
        throughput.run_all([[sys.executable, "-c", "import sys; sys.exit(3)"]], {})
