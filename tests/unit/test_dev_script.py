"""scripts/dev, the one install script, run as a user runs it (with apt-get and dpkg-query
stood in for by scripts on PATH: a test must not install system packages)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.conftest import REPO


def tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_dev(tmp_path: Path, apt_body: str, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tool(bin_dir, "dpkg-query", "exit 1\n")  # nothing installed: every package is missing
    tool(bin_dir, "sudo", 'exec "$@"\n')  # when the tests run as a user
    tool(bin_dir, "apt-get", apt_body)
    return subprocess.run(
        [str(REPO / "scripts" / "dev"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PROMODESK_APT_RETRY_S": "0.1",
            "APT_LOG": str(tmp_path / "apt.log"),
            "APT_BUSY": str(tmp_path / "busy"),
        },
    )


LOCKED_TWICE = """
echo "$1" >> "$APT_LOG"
count=$(cat "$APT_BUSY" 2>/dev/null || echo 0)
if [ "$count" -lt 2 ]; then
    echo $((count + 1)) > "$APT_BUSY"
    echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
    exit 100
fi
exit 0
"""


def test_a_busy_package_manager_is_waited_for(tmp_path: Path) -> None:
    done = run_dev(tmp_path, LOCKED_TWICE, "system-packages")
    assert done.returncode == 0, done.stderr
    assert "another program is using the package manager" in done.stderr
    assert "held by process 4242" in done.stderr
    assert done.stderr.count("waiting for it to finish") == 1  # said once, not per retry
    assert (tmp_path / "apt.log").read_text().split() == ["update", "update", "update", "install"]


def test_any_other_apt_failure_stops_at_once_with_apts_words(tmp_path: Path) -> None:
    broken = 'echo "$1" >> "$APT_LOG"; echo "E: Unable to locate package libfoo" >&2; exit 100\n'
    done = run_dev(tmp_path, broken, "system-packages")
    assert done.returncode != 0
    assert "Unable to locate package libfoo" in done.stderr
    assert (tmp_path / "apt.log").read_text().split() == ["update"]
