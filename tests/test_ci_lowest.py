"""The rendered project's CI job `lowest`, run for real on the default render with
nothing but uv (see ci_runner.py): the tests pass with the oldest versions of the
direct dependencies that pyproject.toml allows. CI runs it on the lowest Python;
here it is this interpreter."""

import tomllib
from packaging.version import Version

from ci_runner import fresh_checkout, load_workflow, passed_count, run_job


def test_lowest_job_tests_the_lower_bounds(default_project, tmp_path):
    workflow = load_workflow(default_project)
    # Its own checkout: it resolves other versions into its own .venv and uv.lock.
    checkout = fresh_checkout(default_project, tmp_path / "llm-markov")
    output = run_job(workflow, "lowest", checkout, tmp_path)
    assert passed_count(output) > 0
    lock = tomllib.loads((checkout / "uv.lock").read_text(encoding="utf-8"))
    assert lock["options"]["resolution-mode"] == "lowest-direct"
    versions = {package["name"]: package["version"] for package in lock["package"]}
    # The tests ran with the oldest llm that pyproject.toml allows.
    pyproject = tomllib.loads((checkout / "pyproject.toml").read_text())
    for requirement in pyproject["project"]["dependencies"]:
        name, floor = requirement.split(">=")
        assert Version(versions[name]) == Version(floor), requirement
