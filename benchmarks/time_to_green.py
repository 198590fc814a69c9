"""Time from nothing to green: a fresh render of the template, then `uv run pytest`
in it, the first command its README gives, with uv's cache already warm.

Run from the repository root:

    python3 -m uv run python benchmarks/time_to_green.py [--repeat N]

What it does:

1. Once, unmeasured: renders the default project and runs `uv run pytest` in it,
   so that uv's cache holds every package (as on any machine that used uv before).
2. --repeat times (default 3), each in a new temporary folder: renders the default
   project with copier's API (no personal settings, the working tree of this
   repository), then runs `uv run pytest -q` in it. uv makes .venv, resolves, installs
   the plugin with its dev group, and pytest runs the generated tests. The Python is
   this interpreter (UV_PYTHON), never a download; LLM_USER_PATH is a temporary folder.
3. Prints the wall seconds of each run (render, then uv run pytest), the CPU seconds
   of `uv run pytest` (its processes' user + system time, which a busy machine
   changes less than wall time), the medians, and the number of tests that passed.
   It exits 1 if a run is not green.

The resolution asks the package index whether its cached answers are fresh, so a
slow network shows in the figure; installing comes from the cache.
"""

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import clean_env, render
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parent.parent
UV = find_uv_bin()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="measured runs")
    return parser.parse_args()


def uv_env(tmp: Path) -> dict[str, str]:
    """uv on this interpreter, never downloading one; llm's folder in tmp."""
    return clean_env(
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        LLM_USER_PATH=str(tmp / "llm-user"),
    )


def uv_run_pytest(project: Path, env: dict[str, str]) -> int:
    """`uv run pytest -q` in the project; returns the number of passed tests."""
    result = subprocess.run(
        [UV, "run", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    passed = re.search(r"(\d+) passed", result.stdout)
    if result.returncode != 0 or passed is None:
        sys.exit(f"uv run pytest is not green:\n{result.stdout}{result.stderr}")
    return int(passed.group(1))


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run() -> tuple[float, float, float, int]:
    """Render, then `uv run pytest`: (render seconds, pytest seconds, pytest CPU
    seconds, tests)."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        start = time.perf_counter()
        project = render(tmp, "llm-markov")
        rendered = time.perf_counter()
        cpu_before = children_cpu_seconds()
        tests = uv_run_pytest(project, uv_env(tmp))
        cpu = children_cpu_seconds() - cpu_before
        return rendered - start, time.perf_counter() - rendered, cpu, tests


def main() -> None:
    args = parse_args()
    print("warming uv's cache with one unmeasured run...", flush=True)
    one_run()
    runs = []
    for number in range(1, args.repeat + 1):
        render_seconds, pytest_seconds, cpu, tests = one_run()
        runs.append((render_seconds, pytest_seconds, cpu, tests))
        total = render_seconds + pytest_seconds
        print(
            f"run {number}: render {render_seconds:.1f} s + uv run pytest "
            f"{pytest_seconds:.1f} s ({cpu:.1f} CPU s) = {total:.1f} s, "
            f"{tests} tests passed",
            flush=True,
        )
    render_median = statistics.median(run[0] for run in runs)
    pytest_median = statistics.median(run[1] for run in runs)
    cpu_median = statistics.median(run[2] for run in runs)
    total_median = statistics.median(run[0] + run[1] for run in runs)
    print(
        f"time to green (median of {len(runs)}): {total_median:.1f} s "
        f"(render {render_median:.1f} s, uv run pytest {pytest_median:.1f} s, "
        f"{cpu_median:.1f} CPU s), {runs[-1][3]} tests passed"
    )


if __name__ == "__main__":
    main()
