"""Runs the jobs of a rendered project's CI workflow on this machine: each job's
`run:` steps, read from the rendered test.yml, run with bash in a copy of the
project, as on a runner after actions/checkout and astral-sh/setup-uv.

setup-uv's `python-version` becomes this interpreter (UV_PYTHON) and downloads of
Pythons are off, so no test fetches a Python; the user's uv cache and index
settings are kept.
"""

import os
import shutil
import sys
from pathlib import Path

import yaml

from plugin_env import UV, run


def load_workflow(project: Path) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / "test.yml").read_text())


def fresh_checkout(
    default_project: Path, destination: Path, keep_lock: bool = False
) -> Path:
    """A copy of the rendered project, as actions/checkout gives a job: right after
    a render (no uv.lock), or with `keep_lock` the project's uv.lock committed."""
    litter = [
        "__pycache__",
        ".ruff_cache",
        ".venv",
        *([] if keep_lock else ["uv.lock"]),
    ]
    ignore = shutil.ignore_patterns(*litter)
    return Path(shutil.copytree(default_project, destination, ignore=ignore))


# The user's uv settings that a test keeps: where the cache is and which index to use.
# Every other UV_ variable (the project, Python and resolution of this test run's own
# `uv run`) is dropped.
KEPT_UV_SETTINGS = (
    "UV_CACHE_DIR",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
)


def outside_environment() -> dict[str, str]:
    """This process's environment without this test run's venv, Python, pytest,
    uv and llm settings (but with the uv settings that say where packages come
    from): what a shell outside the test run would have."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTHON", "PYTEST_", "UV_", "LLM_"))
        or key.startswith(KEPT_UV_SETTINGS)
    }


def runner_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a step: uv (and uvx) first on PATH, as setup-uv leaves it,
    without this test run's venv, Python or llm settings."""
    env = outside_environment()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    # uv and uvx alone, not the other programs of this test run's venv.
    tool_bin = tmp_path / "setup-uv-bin"
    if not tool_bin.exists():
        tool_bin.mkdir()
        for program in ("uv", "uvx"):
            (tool_bin / program).symlink_to(Path(UV).with_name(program))
    env.update(
        PATH=f"{tool_bin}{os.pathsep}{env.get('PATH', '')}",
        UV_PYTHON=sys.executable,  # what setup-uv's python-version sets
        UV_PYTHON_DOWNLOADS="never",
        RUNNER_TEMP=str(runner_temp),
        LLM_USER_PATH=str(tmp_path / "llm-user"),
    )
    return env


def expand(value, env: dict[str, str]) -> str:
    """A workflow value with the one expression the steps use, runner.temp."""
    text = str(value).replace("${{ runner.temp }}", env["RUNNER_TEMP"])
    assert "${{" not in text, f"an expression this test cannot run: {text}"
    return text


def job_env(workflow: dict, job: dict, tmp_path: Path) -> dict[str, str]:
    env = runner_env(tmp_path)
    for scope in (workflow, job):
        env.update({key: expand(v, env) for key, v in scope.get("env", {}).items()})
    return env


def run_step(step: dict, project: Path, env: dict[str, str]):
    """Run one `run:` step in `project` as GitHub runs it: bash with -e and
    pipefail (the shell the workflow's defaults name)."""
    step_env = {key: expand(v, env) for key, v in step.get("env", {}).items()}
    script = expand(step["run"], env)
    bash = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
    return run(*bash, cwd=project, env={**env, **step_env})


def run_job(workflow: dict, name: str, project: Path, tmp_path: Path) -> str:
    """Run the `run:` steps of job `name` in `project`; every step must succeed.
    Returns their output."""
    job = workflow["jobs"][name]
    env = job_env(workflow, job, tmp_path)
    output = ""
    steps = [step for step in job["steps"] if "run" in step]
    assert steps, f"job {name} has no run steps"
    for step in steps:
        result = run_step(step, project, env)
        output += result.stdout + result.stderr
        assert result.returncode == 0, f"step {step['name']!r} failed:\n{output}"
    return output


def passed_count(output: str) -> int:
    """The number in pytest's closing "N passed" line; no test may fail."""
    assert " failed" not in output and " error" not in output, output
    closing = [line for line in output.splitlines() if " passed" in line]
    assert closing, output
    return int(closing[-1].split(" passed")[0].split()[-1])
