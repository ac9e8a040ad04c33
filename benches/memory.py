#!/usr/bin/env python3
"""Resident memory and time to first byte of `episodic serve` (stdlib only).

On a generated content tree (gen_content.py, 10,000 episodes by default, all
published at NOW):

1. cold start: `serve` on an empty feeds folder; time from spawning the
   process to the first 200 of /bench/rss.xml;
2. fetches every URL the build made once (each file the manifest lists, bar
   compressed variants), then every one again with
   `Accept-Encoding: gzip, br`, over one keep-alive connection, checking
   each answer is 200; reports VmRSS and VmHWM from /proc;
3. restart: SIGTERM, then `serve` again on the feeds folder it left; time
   to the first 200, and resident memory after the same fetches.

Environment: EPISODIC_BIN (default target/release/episodic), EPISODES
(10000), NOW (2200-01-01T00:00:00Z), PORT (18571), BENCH_DIR (a temp dir
otherwise). Goal: at most 150 MB resident after every URL was fetched, and
a restart's first byte within 1 s.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time

from benchlib import generate, status_kb, stop, work_dir

NOW = os.environ.get("NOW", "2200-01-01T00:00:00Z")
FEED = "/bench/rss.xml"
VARIANT_SUFFIXES = (".gz", ".br", ".zst")


def urls(out: str) -> list[str]:
    """Every URL the build made: the manifest's files, bar variants."""
    with open(os.path.join(out, ".episodic-manifest"), encoding="utf-8") as f:
        paths = [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]
    result = []
    for path in paths:
        if path.endswith(VARIANT_SUFFIXES):
            continue
        if path == "index.html" or path.endswith("/index.html"):
            path = path[: -len("index.html")]
        result.append("/" + path)
    return result


def start(binary: str, content: str, out: str, port: int, log_file) -> tuple[subprocess.Popen, float]:
    """Starts the server; returns it and the seconds to its first 200."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [binary, "serve", "--content", content, "--out", out, "--listen", f"127.0.0.1:{port}", "--now", NOW],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        env={**os.environ, "RUST_LOG": "info,episodic::access=off", "NO_COLOR": "1"},
    )
    deadline = started + 600
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited; see server.log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", FEED)
            if conn.getresponse().status == 200:
                return server, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.005)
    raise SystemExit("no 200 within 600 s")


def fetch_all(port: int, paths: list[str], encoding: str | None) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": encoding} if encoding else {}
    for path in paths:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")


def measure(server: subprocess.Popen, port: int, paths: list[str], label: str) -> float:
    time.sleep(5)  # the first build's feeds/ write and best compression
    t0 = time.perf_counter()
    fetch_all(port, paths, None)
    fetch_all(port, paths, "gzip, br")
    seconds = time.perf_counter() - t0
    rss = status_kb(server.pid, "VmRSS") / 1024
    hwm = status_kb(server.pid, "VmHWM") / 1024
    print(f"{label}: {2 * len(paths)} requests in {seconds:.1f} s; resident {rss:.1f} MB (peak {hwm:.1f} MB)")
    return rss


def main() -> None:
    binary = os.environ.get("EPISODIC_BIN", "target/release/episodic")
    episodes = int(os.environ.get("EPISODES", "10000"))
    port = int(os.environ.get("PORT", "18571"))
    with work_dir("episodic-memory-") as work:
        content, out = generate(work, episodes)
        with open(os.path.join(work, "server.log"), "w") as log_file:
            server, cold = start(binary, content, out, port, log_file)
            print(f"cold start (empty feeds/): first 200 after {cold * 1000:.0f} ms")
            paths = urls(out)
            try:
                cold_rss = measure(server, port, paths, "after a cold start, every URL twice")
            finally:
                stop(server)
            server, warm = start(binary, content, out, port, log_file)
            print(f"restart (feeds/ from the last run): first 200 after {warm * 1000:.0f} ms")
            try:
                warm_rss = measure(server, port, paths, "after a restart, every URL twice")
            finally:
                stop(server)
        goal = max(cold_rss, warm_rss) <= 150 and warm <= 1.0
        print(f"goal (<= 150 MB resident, restart first byte <= 1 s): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
