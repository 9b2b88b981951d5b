"""`failgraph bench startup` times commands in fresh processes and reports them against the targets."""

import os
import sys

import pytest

from failgraph.bench import startup


def test_a_command_is_timed_in_a_fresh_process_and_compared_with_its_target():
    env = dict(os.environ)
    times = [startup.time_command([*startup.CLI, "--help"], env, timeout=120) for _ in range(2)]
    assert all(wall > 0 and cpu > 0 for wall, cpu in times)
    row = startup._row("help", ["failgraph", "--help"], times)
    assert row.target_s == startup.STARTUP_TARGETS["help"]
    assert row.ratio_to_target == round(row.median_wall_s / row.target_s, 2)
    assert min(row.wall_s) <= row.median_wall_s <= max(row.wall_s)


def test_a_failing_command_or_server_is_one_clear_error(tmp_path):
    env = dict(os.environ, FAILGRAPH_HOME=str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match=r"diagnose x failed \(exit 2\): error: .*failgraph build"):
        startup.time_command([*startup.CLI, "diagnose", "x"], env, timeout=120)
    port = startup.free_port()
    with pytest.raises(RuntimeError, match="exited"):
        startup.time_server_ready([sys.executable, "-c", "raise SystemExit(3)"], env, port, timeout=60)
