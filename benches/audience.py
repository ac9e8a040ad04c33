#!/usr/bin/env python3
"""Benchmark: what counting the audience costs the serving path.

Usage (from the repo root): python3 benches/audience.py
Env: EPISODIC_BIN (default: cargo build --release), DURATION (10, seconds
per wrk run), ROUNDS (3; 0 skips part 1), FLOOD (600, seconds of the
flood; 0 skips part 2).

1. Serve, audience on vs off (site.toml `audience = false`), in one run:
   two servers on the sample content, measured back to back per case and
   round with wrk, every request counted (a trusted-proxy address and a
   feed reader's User-Agent, so the recorder does its whole work):
     304-64, 304-1000   If-None-Match with the feed's ETag
     gzip-64, gzip-1000 200, Accept-Encoding: gzip
   Goal: medians <= 2% apart in req/s and p99.
2. Flood: wrk with a Lua script giving every request its own address and
   User-Agent (every one a new reader), on a feed and an episode page, for
   FLOOD seconds; the server's resident memory is sampled every 5 s.
   Goal: it stays under the bound the README states.
Talks to 127.0.0.1 only; stops only the servers it started, by PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import log, status_kb, stop, work_dir  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATION = int(os.environ.get("DURATION", "10"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
FLOOD = int(os.environ.get("FLOOD", "600"))
FEED = "/night-shift/rss.xml"
READER = "NetNewsWire (RSS Reader; https://netnewswire.com/)"
RSS_BOUND_MB = 64

FLOOD_LUA = r"""
local n = 0
request = function()
  n = n + 1
  local a, b = math.random(1, 254), math.random(0, 255)
  local path = (n % 2 == 0) and "/night-shift/rss.xml" or "/night-shift/10/"
  return wrk.format("GET", path, {
    ["X-Forwarded-For"] = "10." .. a .. "." .. b .. "." .. math.random(0, 255),
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux) Firefox/" .. math.random(1, 1000000000),
  })
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str, work: str, name: str, audience: bool) -> tuple[subprocess.Popen, int]:
    site = os.path.join(work, name)
    shutil.copytree(os.path.join(ROOT, "content"), os.path.join(site, "content"))
    toml = os.path.join(site, "content", "site.toml")
    with open(toml) as f:
        text = f.read()
    with open(toml, "w") as f:
        f.write('trusted_proxies = ["127.0.0.1/32"]\n' + ("" if audience else "audience = false\n") + text)
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--watch", "off", "--now", "2026-11-25T00:00:00Z",
         "--content", os.path.join(site, "content"), "--out", os.path.join(site, "feeds")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"},
    )
    server.stdout.readline()  # its address, once it serves
    return server, port


def etag(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{FEED}") as r:
        return r.headers["ETag"]


def wrk(port: int, connections: int, headers: list[str], seconds: int, script: str | None = None) -> tuple[float, float]:
    """(requests/s, p99 in ms)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    if script:
        args += ["-s", script]
    args.append(f"http://127.0.0.1:{port}{FEED}")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_episodic/status") as r:
        return json.load(r)


def overhead(binary: str, work: str) -> None:
    on, on_port = start(binary, work, "on", True)
    off, off_port = start(binary, work, "off", False)
    try:
        counted = ["X-Forwarded-For: 198.51.100.7", f"User-Agent: {READER}"]
        cases = {}
        for connections in (64, 1000):
            cases[f"304-{connections}"] = (connections, lambda p: [f"If-None-Match: {etag(p)}"])
            cases[f"gzip-{connections}"] = (connections, lambda p: ["Accept-Encoding: gzip"])
        results: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for round_ in range(ROUNDS):
            for case, (connections, headers) in cases.items():
                for name, port in (("on", on_port), ("off", off_port)) if round_ % 2 == 0 else (("off", off_port), ("on", on_port)):
                    wrk(port, connections, counted + headers(port), 2)  # warm-up
                    measured = wrk(port, connections, counted + headers(port), DURATION)
                    results.setdefault(case, {}).setdefault(name, []).append(measured)
                    log(f"round {round_ + 1} {case} audience {name}: {measured[0]:,.0f} req/s, p99 {measured[1]:.2f} ms")
        recorder = status(on_port)["audience"]["recorder"]
        print("\n| case | audience on req/s | off req/s | on ÷ off | on p99 ms | off p99 ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for case, by in results.items():
            on_rps = statistics.median(r for r, _ in by["on"])
            off_rps = statistics.median(r for r, _ in by["off"])
            on_p99 = statistics.median(p for _, p in by["on"])
            off_p99 = statistics.median(p for _, p in by["off"])
            print(f"| {case} | {on_rps:,.0f} | {off_rps:,.0f} | {on_rps / off_rps:.3f} | {on_p99:.2f} | {off_p99:.2f} |")
        print(f"\nrecorder: {recorder['dropped']:,} hit(s) dropped (queue full), last commit {recorder['last_commit']}")
    finally:
        stop(on)
        stop(off)


def flood(binary: str, work: str) -> None:
    server, port = start(binary, work, "flood", True)
    script = os.path.join(work, "flood.lua")
    with open(script, "w") as f:
        f.write(FLOOD_LUA)
    try:
        start_kb = status_kb(server.pid, "VmRSS")
        load = subprocess.Popen(["wrk", "-t2", "-c64", f"-d{FLOOD}s", "-s", script, f"http://127.0.0.1:{port}/"],
                                stdout=subprocess.PIPE, text=True)
        samples = []
        while load.poll() is None:
            samples.append(status_kb(server.pid, "VmRSS"))
            time.sleep(5)
        out = load.communicate()[0]
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        audience = status(port)["audience"]
        database = sum(os.path.getsize(os.path.join(work, "flood", ".episodic", n))
                       for n in os.listdir(os.path.join(work, "flood", ".episodic")))
        peak = max(samples) / 1024
        print(f"\nflood: {requests:,} requests in {FLOOD} s, every one a new reader")
        print(f"| resident at start | peak | end | bound | state dir on disk | dropped | direct (night-shift) | reads of 10 |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {start_kb / 1024:.1f} MB | {peak:.1f} MB | {samples[-1] / 1024:.1f} MB | {RSS_BOUND_MB} MB "
              f"| {database / 1e6:.1f} MB | {audience['recorder']['dropped']:,} "
              f"| {audience['series']['night-shift']['direct']:,} | {audience['episodes'].get('night-shift/10', {}).get('reads', 0):,} |")
        print("goal met" if peak < RSS_BOUND_MB else "GOAL MISSED: resident memory over the bound")
    finally:
        stop(server)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    binary = os.environ.get("EPISODIC_BIN")
    if not binary:
        log("cargo build --release")
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "episodic")
    with work_dir("episodic-audience-") as work:
        if ROUNDS > 0:
            overhead(binary, work)
        if FLOOD > 0:
            flood(binary, work)


if __name__ == "__main__":
    main()
