"""``parvox app`` measured: click-to-3D in a real browser, concurrent users, and the README's
screenshot.

* the page is served with the shipped model; Chromium (headless, Playwright) clicks an example
  (a shared photo) and the time until the 3D viewer shows the shape is taken, ``--repeats``
  times in fresh browsers (the first includes the server's warm-up);
* 8 concurrent ``gradio_client`` users reconstruct a shared photo: all must be answered; the
  resident memory of the server (``parvox app`` in its own process) is read idle (after one
  warm-up request), right after, and 5 s later, against the issue's "back within 10 % of
  idle";
* ``--screenshot FILE`` keeps the page with its result (docs/app.png in the README).

    .venv/bin/python bench/app_bench.py [--repeats 3] [--screenshot docs/app.png] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import visit  # noqa: E402

from parvox.progress import markdown_table  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

PORT = 7880


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (the server), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(checkpoint: str | None) -> subprocess.Popen:
    """``parvox app`` in its own process, once it answers."""
    cmd = [sys.executable, "-m", "parvox", "app", "--port", str(PORT)]
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2).close()
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("parvox app did not start")


def concurrent(photo: Path, users: int = 8) -> tuple[int, float]:
    """(answered, seconds) for ``users`` simultaneous reconstructions."""
    from gradio_client import Client, handle_file

    answered = []

    def user() -> None:
        client = Client(f"http://127.0.0.1:{PORT}/", verbose=False)
        result = client.predict([handle_file(str(photo))], 0.4, api_name="/reconstruct")
        if len(result[0]) == 1 and Path(result[1]).is_file():
            answered.append(1)

    start = time.perf_counter()
    threads = [threading.Thread(target=user) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(answered), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--screenshot")
    ap.add_argument("--json")
    args = ap.parse_args()
    photo = shared_dir() / "photos" / "chair.png"
    server = start_server(args.checkpoint)
    report: dict = {}
    try:
        url = f"http://127.0.0.1:{PORT}/"
        times = []
        for i in range(args.repeats):
            shot = Path(args.screenshot) if args.screenshot and i == args.repeats - 1 else None
            run = visit(url, example=1, screenshot=shot)  # example 1: the chair photo
            times.append(run.seconds_to_3d)
            report.setdefault("outside_requests", []).extend(
                u for u in run.requests if not u.startswith((url, "data:", "blob:")))
        report["click_to_3d_s"] = times
        concurrent(photo, 1)  # warm-up
        idle = rss_mb(server.pid)
        answered, seconds = concurrent(photo, 8)
        after = rss_mb(server.pid)
        time.sleep(5)
        settled = rss_mb(server.pid)
        report.update(idle_mb=idle, after_mb=after, settled_mb=settled, answered=answered,
                      concurrent_s=seconds)
    finally:
        server.terminate()
        server.wait(30)
    rows = [["click an example -> shape in the 3D viewer (s)",
             f"median {statistics.median(times):.2f}, runs {', '.join(f'{t:.2f}' for t in times)}"],
            ["8 concurrent users answered", f"{answered} of 8 in {seconds:.1f} s"],
            ["server memory idle / right after / 5 s later (MB)",
             f"{idle:.0f} / {after:.0f} / {settled:.0f} ({100 * (settled / idle - 1):+.1f} %)"],
            ["requests to other hosts", str(len(report["outside_requests"]))]]
    print(markdown_table(["measure", "value"], rows))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
