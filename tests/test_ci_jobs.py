"""The rendered project's CI jobs, run for real on the default render with nothing
but uv: each job's `run:` steps are read from the rendered test.yml and run with
bash in a fresh copy of the project, as on a runner after checkout and setup-uv.

setup-uv's `python-version` becomes this interpreter (UV_PYTHON) and downloads of
Pythons are off, so no test fetches a Python; uv keeps the user's cache settings.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from plugin_env import UV, run

PROMPT = "the cat sat on the mat"


@pytest.fixture(scope="module")
def workflow(default_project) -> dict:
    text = (default_project / ".github" / "workflows" / "test.yml").read_text()
    return yaml.safe_load(text)


def fresh_checkout(default_project: Path, destination: Path) -> Path:
    """A copy of the rendered project, as actions/checkout gives a job."""
    litter = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".venv", "uv.lock")
    return Path(shutil.copytree(default_project, destination, ignore=litter))


@pytest.fixture(scope="module")
def checkout(default_project, tmp_path_factory) -> Path:
    """One checkout for the lint, tests and package jobs: their steps read the
    project and write only .venv, uv.lock and dist/, so they can share it (and
    uv's sync into .venv happens once)."""
    return fresh_checkout(default_project, tmp_path_factory.mktemp("ci") / "llm-markov")


# The user's uv settings that a test keeps: where the cache is and which index to use.
# Every other UV_ variable (the project, Python and resolution of this test run's own
# `uv run`) is dropped.
KEPT_UV_SETTINGS = (
    "UV_CACHE_DIR",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
)


def runner_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a step: uv (and uvx) first on PATH, as setup-uv leaves it,
    without this test run's venv, Python or llm settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTHON", "UV_", "LLM_"))
        or key.startswith(KEPT_UV_SETTINGS)
    }
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


def run_job(workflow: dict, name: str, project: Path, tmp_path: Path) -> str:
    """Run the `run:` steps of job `name` in `project`, as GitHub runs them (bash
    with -e and pipefail); every step must succeed. Returns their output."""
    job = workflow["jobs"][name]
    env = runner_env(tmp_path)
    for scope in (workflow, job):
        env.update({key: expand(v, env) for key, v in scope.get("env", {}).items()})
    output = ""
    steps = [step for step in job["steps"] if "run" in step]
    assert steps, f"job {name} has no run steps"
    for step in steps:
        step_env = {key: expand(v, env) for key, v in step.get("env", {}).items()}
        script = expand(step["run"], env)
        bash = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
        result = run(*bash, cwd=project, env={**env, **step_env})
        output += result.stdout + result.stderr
        assert result.returncode == 0, f"step {step['name']!r} failed:\n{output}"
    return output


def passed_count(output: str) -> int:
    """The number in pytest's closing "N passed" line; no test may fail."""
    assert " failed" not in output and " error" not in output, output
    closing = [line for line in output.splitlines() if " passed" in line]
    assert closing, output
    return int(closing[-1].split(" passed")[0].split()[-1])


def test_the_four_jobs_are_there(workflow):
    assert set(workflow["jobs"]) == {"lint", "tests", "lowest", "package"}


def test_lint_job(workflow, checkout, tmp_path):
    output = run_job(workflow, "lint", checkout, tmp_path)
    assert "All checks passed!" in output  # ruff check, then ty check
    assert "already formatted" in output


def test_tests_job_is_green_from_a_fresh_render_with_uv_alone(
    workflow, checkout, tmp_path
):
    output = run_job(workflow, "tests", checkout, tmp_path)
    assert passed_count(output) > 0
    # `uv run llm` in the project's environment, with an isolated LLM_USER_PATH.
    env = runner_env(tmp_path)
    result = run(UV, "run", "llm", "-m", "markov", PROMPT, cwd=checkout, env=env)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert len(words) == 20 and set(words) <= set(PROMPT.split())


def test_lowest_job_tests_the_lower_bounds(workflow, default_project, tmp_path):
    # Its own checkout: it resolves other versions into its own .venv and uv.lock.
    checkout = fresh_checkout(default_project, tmp_path / "llm-markov")
    output = run_job(workflow, "lowest", checkout, tmp_path)
    assert passed_count(output) > 0
    lock = tomllib.loads((checkout / "uv.lock").read_text(encoding="utf-8"))
    assert lock["options"]["resolution-mode"] == "lowest-direct"
    versions = {package["name"]: package["version"] for package in lock["package"]}
    # The tests ran with the oldest llm that pyproject.toml allows.
    pyproject = tomllib.loads((checkout / "pyproject.toml").read_text())
    (llm_requirement,) = pyproject["project"]["dependencies"]
    assert llm_requirement == f"llm>={versions['llm']}"


def test_package_job_checks_the_wheel_it_uploads(workflow, checkout, tmp_path):
    output = run_job(workflow, "package", checkout, tmp_path)
    built = sorted(path.name for path in (checkout / "dist").glob("llm_markov-*"))
    assert built == ["llm_markov-0.1-py3-none-any.whl", "llm_markov-0.1.tar.gz"]
    assert "PASSED" in output  # twine check --strict, for each file
    assert '"name": "llm-markov"' in output  # llm plugins lists it
    upload = workflow["jobs"]["package"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "dist/"
