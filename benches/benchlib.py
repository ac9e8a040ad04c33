"""What the Python benchmarks share: logging, a work folder, the generated
content tree, and /proc readings (stdlib only)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator

HERE = os.path.dirname(os.path.abspath(__file__))


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def work_dir(prefix: str) -> Iterator[str]:
    """BENCH_DIR if set (kept), else a temp dir removed at exit."""
    keep = os.environ.get("BENCH_DIR")
    work = keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(work, exist_ok=True)
    try:
        yield work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def generate(work: str, episodes: int) -> tuple[str, str]:
    """The generated tree in `work`; returns its content folder and an
    empty feeds folder path."""
    log(f"generating {episodes} episodes in {work}")
    subprocess.run(
        [sys.executable, os.path.join(HERE, "gen_content.py"), "--episodes", str(episodes), "--out", work, "--clean"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = os.path.join(work, "feeds")
    shutil.rmtree(out, ignore_errors=True)
    return os.path.join(work, "episodic"), out


def status_kb(pid: int, key: str) -> int:
    """A `kB` line of /proc/PID/status, such as VmRSS or VmHWM."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def cpu_ticks() -> tuple[int, int]:
    """(all, steal) CPU time of the machine, in ticks, from /proc/stat: on
    a virtual machine, time the hypervisor gave to someone else shows as
    steal and slows whatever is measured."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields[:8]), fields[7]


def steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    return 100 * (after[1] - before[1]) / total if total else 0.0


def stop(server: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to a server this benchmark started; SIGKILL if it does not
    exit within `timeout` seconds."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
