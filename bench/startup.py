"""Start-up times as a user meets them (``failgraph bench startup``): ``failgraph --help``, a one-shot ``failgraph
diagnose`` on a built graph, and ``failgraph serve`` until ``/healthz`` reports its knowledge base loaded. Each runs in
a fresh process (wall and CPU seconds, the median of ``runs``), beside the targets of issue #20 as ratios. The server
is started on a free loopback port and stopped when ready.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pydantic import BaseModel

from .measure import Machine

#: Targets of issue #20 (seconds of wall time; reported beside the figures, never pass/fail).
STARTUP_TARGETS = {"help": 0.5, "diagnose": 2.0, "serve": 3.0}  # by the first word of a row's name
REPORT = "CUDA out of memory when loading Qwen2.5-72B with vLLM, tensor parallel 2, on two 40 GB A100s"
#: The failgraph command line in a fresh interpreter (what the ``failgraph`` script runs).
CLI = (sys.executable, "-c", "from failgraph.ui.cli import main; main()")


class StartupRow(BaseModel):
    name: str
    command: str
    wall_s: list[float]
    cpu_s: list[float]
    median_wall_s: float
    median_cpu_s: float
    target_s: float | None
    ratio_to_target: float | None  # median wall / target: at most 1 meets it


class StartupReport(BaseModel):
    home: str
    runs: int
    machine: Machine
    rows: list[StartupRow]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_command(args: list[str], env: dict[str, str], timeout: float) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``args``; raises ``RuntimeError`` when it fails."""
    cpu, t = _children_cpu(), time.perf_counter()
    r = subprocess.run(args, env=env, capture_output=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"{' '.join(args[3:])} failed (exit {r.returncode}): {tail[0]}")
    return wall, _children_cpu() - cpu


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loaded(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # loopback only
            return json.loads(resp.read()).get("knowledge_base") == "loaded"
    except (OSError, ValueError):
        return False


def _first_answer(port: int, timeout: float) -> None:
    body = json.dumps({"text": REPORT}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/diagnose", data=body,  # loopback only
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        json.loads(resp.read())


def time_server_ready(args: list[str], env: dict[str, str], port: int,
                      timeout: float) -> tuple[float, float, float]:
    """Seconds from starting the server to ``/healthz`` reporting its knowledge base loaded, to its first answer of
    ``/v1/diagnose`` (which loads the embedding model), and the CPU seconds of the whole."""
    cpu, t = _children_cpu(), time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not _loaded(port):
            if proc.poll() is not None:
                tail = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                raise RuntimeError(f"the server exited ({proc.returncode}) before it was ready: {tail[0]}")
            if time.perf_counter() - t > timeout:
                raise RuntimeError(f"the server was not ready within {timeout:.0f} s")
            time.sleep(0.02)
        loaded = time.perf_counter() - t
        _first_answer(port, timeout)
        answered = time.perf_counter() - t
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return loaded, answered, _children_cpu() - cpu


def _row(name: str, command: list[str], times: list[tuple[float, float]]) -> StartupRow:
    wall = [round(w, 3) for w, _ in times]
    cpu = [round(c, 3) for _, c in times]
    target = STARTUP_TARGETS.get(name.split(" ", maxsplit=1)[0])
    med = statistics.median(wall)
    return StartupRow(name=name, command=" ".join(command), wall_s=wall, cpu_s=cpu, median_wall_s=round(med, 3),
                      median_cpu_s=round(statistics.median(cpu), 3), target_s=target,
                      ratio_to_target=round(med / target, 2) if target else None)


def bench_startup(home: Path, *, runs: int = 3, serve: bool = True, diagnose_options: list[list[str]] | None = None,
                  timeout: float = 300.0, progress=lambda m: None) -> StartupReport:
    """Time ``--help``, a one-shot ``diagnose`` (once per option set in ``diagnose_options``: e.g. each embedder
    tier) and the server's start, ``runs`` times each, against the graph built in ``home``."""
    env = dict(os.environ, FAILGRAPH_HOME=str(home))
    rows = []
    progress("failgraph --help")
    rows.append(_row("help", ["failgraph", "--help"],
                     [time_command([*CLI, "--help"], env, timeout) for _ in range(runs)]))
    for options in diagnose_options or [[]]:
        args = ["diagnose", REPORT, "--json", *options]
        progress("failgraph " + " ".join(["diagnose", "…", *options]))
        rows.append(_row(" ".join(["diagnose", *options]), ["failgraph", *args],
                         [time_command([*CLI, *args], env, timeout) for _ in range(runs)]))
    if serve:
        progress("failgraph serve (until /healthz reports the knowledge base loaded)")
        times = []
        for _ in range(runs):
            port = free_port()
            times.append(time_server_ready([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port,
                                           timeout))
        rows.append(_row("serve", ["failgraph", "serve (until /healthz: knowledge base loaded)"],
                         [(loaded, cpu) for loaded, _, cpu in times]))
        rows.append(_row("serve first answer", ["failgraph", "serve (until its first /v1/diagnose answer)"],
                         [(answered, cpu) for _, answered, cpu in times]))
    return StartupReport(home=str(home), runs=runs, machine=Machine.now(), rows=rows)


__all__ = ["STARTUP_TARGETS", "StartupReport", "StartupRow", "bench_startup", "time_command", "time_server_ready"]
