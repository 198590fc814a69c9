"""The rendered project's CI jobs lint, tests and package, run for real on the
default render with nothing but uv (see ci_runner.py); the lowest job is in
test_ci_lowest.py, so that the two files run in parallel."""

from pathlib import Path

import pytest

from ci_runner import (
    fresh_checkout,
    job_env,
    load_workflow,
    passed_count,
    run_job,
    run_step,
    runner_env,
)
from plugin_env import UV, run

PROMPT = "the cat sat on the mat"


@pytest.fixture(scope="module")
def workflow(default_project) -> dict:
    return load_workflow(default_project)


@pytest.fixture(scope="module")
def checkout(default_project, tmp_path_factory) -> Path:
    """One checkout for the lint, tests and package jobs: their steps read the
    project and write only .venv, uv.lock and dist/, so they can share it (and
    uv's sync into .venv happens once)."""
    return fresh_checkout(default_project, tmp_path_factory.mktemp("ci") / "llm-markov")


def test_the_four_jobs_are_there(workflow):
    assert set(workflow["jobs"]) == {"lint", "tests", "lowest", "package"}


def test_lint_job(workflow, checkout, tmp_path):
    """Right after a render, before any `uv run` wrote uv.lock: a warning, and the
    jobs resolve the newest versions."""
    assert not (checkout / "uv.lock").exists()
    output = run_job(workflow, "lint", checkout, tmp_path)
    assert "::warning file=pyproject.toml::no uv.lock committed" in output
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


def test_package_job_checks_the_wheel_it_uploads(workflow, checkout, tmp_path):
    output = run_job(workflow, "package", checkout, tmp_path)
    built = sorted(path.name for path in (checkout / "dist").glob("llm_markov-*"))
    assert built == ["llm_markov-0.1-py3-none-any.whl", "llm_markov-0.1.tar.gz"]
    assert "PASSED" in output  # twine check --strict, for each file
    assert '"name": "llm-markov"' in output  # llm plugins lists it
    upload = workflow["jobs"]["package"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "dist/"


def test_lock_check_passes_a_committed_lock_and_fails_a_stale_one(
    workflow, checkout, tmp_path
):
    """With the uv.lock the jobs above wrote, as a user commits it: the lint job's
    check passes; once pyproject.toml changes without `uv lock`, it fails."""
    project = fresh_checkout(checkout, tmp_path / "llm-markov", keep_lock=True)
    job = workflow["jobs"]["lint"]
    (step,) = [step for step in job["steps"] if "uv.lock" in step.get("run", "")]
    env = job_env(workflow, job, tmp_path)

    fresh = run_step(step, project, env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "warning" not in fresh.stdout and "Resolved" in fresh.stderr

    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert text.count('"pytest>=8",') == 1
    pyproject.write_text(text.replace('"pytest>=8",', '"pytest>=8.1",'), "utf-8")
    stale = run_step(step, project, env)
    assert stale.returncode != 0
    assert "needs to be updated" in stale.stderr, stale.stderr
