#!/usr/bin/env python3
"""Save-to-served latency and idle CPU of `episodic serve` (stdlib only).

On a generated content tree (gen_content.py, 10,000 episodes by default),
starts the server on 127.0.0.1:0, then EDITS times: rewrites the title of one
of the episodes in the feed (write to a temp file, rename over: an editor's
save), and polls the feed as an aggregator does (Accept-Encoding: gzip,
If-None-Match, keep-alive) until a response carries the new title. The latency is from just before the write to
the arrival of that response. Edits are GAP seconds apart.

Then it measures the server's CPU time (utime + stime from /proc) and how
many times its threads woke (context switches, from /proc/PID/task/*/status)
over IDLE seconds with nothing changing, and its resident memory.

With EDIT=text, each edit changes the episode's text instead (a typo
fixed: the title, and so the series page listing every episode, stay).

Environment: EPISODIC_BIN (default target/release/episodic), EPISODES
(10000), EDITS (50), GAP (1), IDLE (60), EDIT (title), NOW (the server's clock at start;
default 2200-01-01, when every generated episode is published), BENCH_DIR
(a temp dir otherwise).
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import subprocess
import time
import zlib

from benchlib import cpu_ticks, generate, status_kb, steal_percent, stop, work_dir

# Episodes are weekly from 2000-01-03: by 2200 all of them are published.
NOW = os.environ.get("NOW", "2200-01-01T00:00:00Z")
FEED = "/bench/rss.xml"


class Poller:
    """Fetches the feed as an aggregator polls it: conditionally, so an
    unchanged feed costs a 304 and not a download (on a 2-core machine,
    downloading and unpacking 200 KB per millisecond would take a core
    from the server being measured)."""

    def __init__(self, conn: http.client.HTTPConnection):
        self.conn = conn
        self.etag: str | None = None
        self.body = b""

    def fetch(self) -> bytes:
        headers = {"Accept-Encoding": "gzip"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        self.conn.request("GET", FEED, headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status == 304:
            return self.body
        if response.status != 200:
            raise SystemExit(f"GET {FEED}: {response.status}")
        if response.getheader("Content-Encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        self.etag, self.body = response.getheader("ETag"), body
        return body


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def bytes_read(pid: int) -> int:
    """Bytes `pid` has read with read(2) and the like (`rchar` in /proc)."""
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar"))


def wakeups(pid: int) -> int:
    """Context switches of every thread of `pid` so far: each is a wake-up."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def rss_mb(pid: int) -> float:
    return status_kb(pid, "VmRSS") / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main() -> None:
    binary = os.environ.get("EPISODIC_BIN", "target/release/episodic")
    episodes = int(os.environ.get("EPISODES", "10000"))
    edits = int(os.environ.get("EDITS", "50"))
    gap = float(os.environ.get("GAP", "1"))
    idle = float(os.environ.get("IDLE", "60"))
    edit = os.environ.get("EDIT", "title")
    if edit not in ("title", "text"):
        raise SystemExit(f"EDIT must be title or text, not {edit!r}")
    with work_dir("episodic-live-") as work:
        run(binary, episodes, edits, gap, idle, work, edit)


def run(binary: str, episodes: int, edits: int, gap: float, idle: float, work: str, edit: str) -> None:
    content, out = generate(work, episodes)
    server_log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(
        [binary, "serve", "--content", content, "--out", out, "--listen", "127.0.0.1:0", "--now", NOW],
        stdout=subprocess.PIPE,
        stderr=server_log,
        text=True,
        env={**os.environ, "RUST_LOG": "info,episodic::access=off", "NO_COLOR": "1"},
    )
    try:
        url = server.stdout.readline().strip()  # printed once it listens
        match = re.match(r"http://([\d.]+):(\d+)/", url)
        if not match:
            raise SystemExit(f"the server did not start (printed {url!r}); see {work}/server.log")
        conn = http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=10)
        poller = Poller(conn)
        feed = poller.fetch().decode()
        # Episodes in the feed: their numbers appear in their permalinks.
        numbers = [int(n) for n in re.findall(r"<link>https://example.com/bench/(\d+)/</link>", feed)]
        if len(numbers) < 10:
            raise SystemExit(f"expected a full feed, found {len(numbers)} items")
        files = {int(name[:5]): os.path.join(content, "bench", name) for name in os.listdir(os.path.join(content, "bench")) if name[:5].isdigit()}
        time.sleep(2)  # let the start-up comparison and best compression finish

        latencies = []
        cpu_at_start, read_at_start = cpu_seconds(server.pid), bytes_read(server.pid)
        machine_at_start = cpu_ticks()
        for i in range(edits):
            path = files[numbers[i % len(numbers)]]
            with open(path, encoding="utf-8") as f:
                text = f.read()
            marker = f"edit-{i}-{time.time_ns()}"
            if edit == "title":
                text = re.sub(r'^title = ".*"$', f'title = "{marker}"', text, count=1, flags=re.M)
            else:  # the first paragraph's first word: the feeds carry the full text
                text = re.sub(r"^\+\+\+\n\n\S+", f"+++\n\n{marker}", text, count=1, flags=re.M)
            temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
            started = time.perf_counter()
            with open(temp, "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(temp, path)
            deadline = started + 10
            while marker not in poller.fetch().decode():
                if time.perf_counter() > deadline:
                    raise SystemExit(f"edit {i} was not served within 10 s; see {work}/server.log")
                # Poll every millisecond or so: a tighter loop would take a
                # core from the server on a small machine.
                time.sleep(0.001)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(gap)
        steal = steal_percent(machine_at_start, cpu_ticks())

        time.sleep(3)  # best compression and feeds/ after the last edit
        cpu_per_edit = (cpu_seconds(server.pid) - cpu_at_start) / edits * 1000
        read_per_edit = (bytes_read(server.pid) - read_at_start) / edits / 1e6
        before, woke_before = cpu_seconds(server.pid), wakeups(server.pid)
        t0 = time.perf_counter()
        time.sleep(idle)
        idle_cpu = (cpu_seconds(server.pid) - before) / (time.perf_counter() - t0) * 100
        idle_wakeups = wakeups(server.pid) - woke_before
        memory = rss_mb(server.pid)

        print(f"episodes: {episodes} (feed of {len(numbers)}), edits: {edits}, {gap} s apart")
        print(f"edits of the {edit}; CPU stolen by the hypervisor meanwhile: {steal:.1f}%")
        print(f"save-to-served p50: {statistics.median(latencies):.1f} ms")
        print(f"save-to-served p99: {percentile(latencies, 99):.1f} ms")
        print(f"save-to-served min/max: {min(latencies):.1f} / {max(latencies):.1f} ms")
        print(f"server CPU per edit (rebuild, best compression, feeds/): {cpu_per_edit:.0f} ms, {read_per_edit:.1f} MB read")
        print(f"idle CPU over {idle:.0f} s: {idle_cpu:.3f}% of one core, {idle_wakeups} thread wake-up(s)")
        print(f"resident memory: {memory:.1f} MB")
        goal = statistics.median(latencies) <= 100 and percentile(latencies, 99) <= 250 and idle_cpu < 0.1
        print(f"goal (p50 <= 100 ms, p99 <= 250 ms, idle < 0.1%): {'met' if goal else 'NOT met'}")
    finally:
        stop(server)
        server_log.close()


if __name__ == "__main__":
    main()
