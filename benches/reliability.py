#!/usr/bin/env python3
"""Reliability figures for `episodic serve` (stdlib only; run from the repo root).

1. Restarts and upgrades under load: runs the integration tests in
   tests/integration/restarts.rs (10 restarts through a parent holding the
   socket, 10 SIGUSR2 upgrades, four clients) and reports what the clients
   saw: answered, retried on a reused connection, failed (goal: 0).
2. kill -9 during a rebuild: serves EPISODES generated episodes (10,000),
   edits the series' settings (every page and feed is made again), kills
   the server with SIGKILL in the middle of that rebuild, starts it again
   on the same feeds/, and reports the time to the first 200 (goal <= 1 s),
   whether every file the manifest lists is there, whole (its length) and
   well-formed (XML and JSON parsed), and how long until the edit is served.
3. A full disk: mounts a small tmpfs as the output folder (skipped with a
   message where mounting is not allowed), serves the sample there, fills
   the disk, edits an episode: the edit must be served from memory, the
   status page must report the failed write, and feeds/ must be written
   once space returns.

Environment: EPISODIC_BIN (default target/release/episodic), EPISODES
(10000), PORT (18591), BENCH_DIR (a temp dir otherwise), SKIP (comma list
of 1,2,3).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from benchlib import generate, log, stop, work_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("EPISODIC_BIN", os.path.join(ROOT, "target/release/episodic"))
PORT = int(os.environ.get("PORT", "18591"))
SKIP = set(filter(None, os.environ.get("SKIP", "").split(",")))
NOW = "2200-01-01T00:00:00Z"


def get(path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until(what: str, check, limit: float = 600.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"gave up waiting for {what}")


def serve(content: str, out: str, now: str | None, log_file) -> subprocess.Popen:
    args = [BIN, "serve", "--content", content, "--out", out, "--listen", f"127.0.0.1:{PORT}", "--watch", "events"]
    if now:
        args += ["--now", now]
    env = {**os.environ, "RUST_LOG": "info,episodic::access=off", "NO_COLOR": "1"}
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log_file, env=env)


def restarts() -> None:
    log("1. restarts and upgrades under load (cargo test --test integration restarts)")
    run = subprocess.run(
        ["cargo", "test", "--quiet", "--test", "integration", "restarts", "--", "--nocapture", "--test-threads=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    counts = re.findall(r"(\d+) answered, (\d+) retried", run.stdout + run.stderr)
    names = ["10 restarts, parent holding the socket", "10 upgrades with SIGUSR2"]
    print("\n| 10 + 10 under load | answered | retried (reused connection closed first) | failed |")
    print("|---|---:|---:|---:|")
    failed = "0" if run.returncode == 0 else "see below"
    for name, (answered, retried) in zip(names, counts):
        print(f"| {name} | {answered} | {retried} | {failed} |")
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:])


def well_formed(out: str) -> tuple[int, list[str]]:
    """Checks every file the manifest lists; returns (files, problems)."""
    problems = []
    with open(os.path.join(out, ".episodic-manifest"), encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    for line in lines:
        path, length, _ = line.split("\t")
        full = os.path.join(out, path)
        try:
            data = open(full, "rb").read()
        except OSError as e:
            problems.append(f"{path}: {e}")
            continue
        if len(data) != int(length):
            problems.append(f"{path}: {len(data)} bytes, the manifest says {length}")
        elif path.endswith(".xml") or path.endswith(".opml"):
            try:
                ET.fromstring(data)
            except ET.ParseError as e:
                problems.append(f"{path}: {e}")
        elif path.endswith(".json"):
            try:
                json.loads(data)
            except ValueError as e:
                problems.append(f"{path}: {e}")
    leftovers = [name for name in os.listdir(out) if name.startswith(".episodic-staging")]
    problems += [f"{name}: a staging folder left behind" for name in leftovers]
    return len(lines), problems


def kill_during_rebuild(work: str, episodes: int) -> None:
    log(f"2. kill -9 during a rebuild of {episodes} episodes")
    content, out = generate(work, episodes)
    with open(os.path.join(work, "serve.log"), "w") as log_file:
        server = serve(content, out, NOW, log_file)
        wait_until("the first build", lambda: get("/bench/rss.xml")[0] == 200)
        series = os.path.join(content, "bench", "series.toml")
        text = open(series, encoding="utf-8").read()
        marker = "Rebuilt after a kill"
        edited = re.sub(r'^description = .*$', f'description = "{marker}"', text, flags=re.M)
        if edited == text:
            edited = text + f'\ndescription = "{marker}"\n'
        log_file.flush()
        edited_at = os.path.getsize(log_file.name)
        with open(series + ".tmp", "w", encoding="utf-8") as f:
            f.write(edited)
        os.replace(series + ".tmp", series)
        time.sleep(1.0)  # into the rebuild (a settings edit renders everything: seconds at this size)
        server.kill()
        server.wait()
        with open(log_file.name, encoding="utf-8") as f:
            f.seek(edited_at)
            mid_rebuild = " rebuilt" not in f.read()
        log("killed; starting again on the same feeds/")
        started = time.perf_counter()
        server = serve(content, out, NOW, log_file)
        wait_until("the first answer", lambda: get("/bench/rss.xml")[0] == 200)
        first = time.perf_counter() - started
        files, problems = well_formed(out)
        wait_until("the edit served", lambda: marker.encode() in get("/bench/rss.xml")[1])
        served = time.perf_counter() - started
        stop(server)
    print(f"\n| kill -9 during a rebuild, {episodes} episodes | |")
    print("|---|---|")
    print(f"| killed before the rebuild finished | {'yes' if mid_rebuild else 'no: it was done, raise EPISODES'} |")
    print(f"| restart: first 200 | {first * 1000:.0f} ms (goal <= 1,000) |")
    print(f"| files the manifest lists, checked (length; XML/JSON parsed) | {files}, {len(problems)} problem(s) |")
    print(f"| the edit served after | {served:.1f} s |")
    for problem in problems[:10]:
        print(f"  - {problem}")


def full_disk(work: str) -> None:
    log("3. a full disk")
    mount = os.path.join(work, "small")
    os.makedirs(mount, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount], capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"\n3. full disk: skipped, cannot mount a tmpfs here ({mounted.stderr.strip()})")
        return
    try:
        content = os.path.join(work, "sample")
        shutil.copytree(os.path.join(ROOT, "content"), content)
        out = os.path.join(mount, "feeds")
        with open(os.path.join(work, "full.log"), "w") as log_file:
            server = serve(content, out, None, log_file)
            wait_until("the first build", lambda: get("/harbor-notes/rss.xml")[0] == 200)
            filler = os.path.join(mount, "filler")
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
            episode = os.path.join(content, "harbor-notes", "01-fog.md")
            text = open(episode, encoding="utf-8").read()
            title = re.search(r'^title = "(.*)"$', text, flags=re.M).group(1)
            with open(episode, "w", encoding="utf-8") as f:
                f.write(text.replace(f'title = "{title}"', 'title = "Written on a full disk"', 1))
            wait_until("the edit served", lambda: "Written on a full disk".encode() in get("/harbor-notes/rss.xml")[1], 30)
            warning = wait_until(
                "the failed write on the status page",
                lambda: next(
                    (w for w in json.loads(get("/_episodic/status")[1])["warnings"] if w.startswith("writing the output folder failed")),
                    None,
                ),
                30,
            )
            on_disk_before = b"Written on a full disk" in open(os.path.join(out, "harbor-notes", "rss.xml"), "rb").read()
            os.remove(filler)
            freed = time.perf_counter()
            wait_until(
                "feeds/ written",
                lambda: b"Written on a full disk" in open(os.path.join(out, "harbor-notes", "rss.xml"), "rb").read(),
                30,
            )
            written = time.perf_counter() - freed
            stop(server)
        print("\n| full disk (16 MiB tmpfs) | |")
        print("|---|---|")
        print("| the edit served from memory | yes |")
        print(f"| status page | {warning} |")
        print(f"| on disk while full | {'yes (?)' if on_disk_before else 'no'} |")
        print(f"| written after space returned | {written:.1f} s |")
    finally:
        subprocess.run(["umount", mount], capture_output=True)


def main() -> None:
    if "1" not in SKIP:
        restarts()
    with work_dir("episodic-reliability-") as work:
        if "2" not in SKIP:
            kill_during_rebuild(work, int(os.environ.get("EPISODES", "10000")))
        if "3" not in SKIP:
            full_disk(work)


if __name__ == "__main__":
    sys.exit(main())
