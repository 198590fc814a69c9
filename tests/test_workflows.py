"""Static checks for the GitHub Actions files: the template's and this repository's own.

Schema validation uses check-jsonschema's vendored schemas, zizmor runs with
``--offline`` and actionlint (with shellcheck) is a local binary, so none of these
tests needs the network.
"""

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import MODEL_KINDS, render_project
from plugin_env import check, run
from test_update import GIT

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_GITHUB = REPO / "template" / ".github"
REPO_GITHUB = REPO / ".github"

# The template's workflows are Jinja (the Python matrix and the live tests follow the
# model kind): they are validated as rendered, for each kind, below.
WORKFLOWS = [REPO_GITHUB / "workflows" / "test.yml"]
DEPENDABOT = [
    TEMPLATE_GITHUB / "dependabot.yml",
    REPO_GITHUB / "dependabot.yml",
]
RENDERED_GITHUB_FILES = [
    "workflows/test.yml",
    "workflows/publish.yml",
    "dependabot.yml",
]


def tool(name: str) -> str:
    """Find an executable installed next to the running interpreter, else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed")
    return found


def ids(paths):
    return [str(path.relative_to(REPO)) for path in paths]


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_workflow_schema(path):
    schema = "vendor.github-workflows"
    result = run(
        tool("check-jsonschema"),
        *("--builtin-schema", schema, "--default-filetype", "yaml", path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DEPENDABOT, ids=ids(DEPENDABOT))
def test_dependabot_schema(path):
    schema = "vendor.dependabot"
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_zizmor_clean(github_dir: Path, expected_files):
    result = run(tool("zizmor"), "--offline", "--format=json", github_dir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert json.loads(result.stdout) == [], output
    # zizmor logs each input it audits; make sure none was skipped.
    for name in expected_files:
        assert name in result.stderr, output


@pytest.fixture(scope="module", params=MODEL_KINDS)
def rendered_github(request, default_project, tmp_path_factory) -> Path:
    """The .github folder of a rendered project of each model kind."""
    if request.param == "markov":
        return default_project / ".github"
    destination = tmp_path_factory.mktemp(request.param) / "llm-markov"
    return render_project(destination, {"model_kind": request.param}) / ".github"


def test_rendered_workflow_schemas(rendered_github):
    schema = "vendor.github-workflows"
    workflows = sorted((rendered_github / "workflows").glob("*.yml"))
    assert [path.name for path in workflows] == ["publish.yml", "test.yml"]
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, *workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_rendered_project(rendered_github):
    for name in RENDERED_GITHUB_FILES:
        assert (rendered_github / name).is_file(), name
    assert_zizmor_clean(rendered_github, RENDERED_GITHUB_FILES)


def test_no_uv_cache_a_release_could_restore(rendered_github):
    """publish.yml runs test.yml for a release, and its package job builds what is
    published: no setup-uv step may restore a cache."""
    workflow = yaml.safe_load((rendered_github / "workflows" / "test.yml").read_text())
    setup_uv = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert len(setup_uv) == len(workflow["jobs"])
    assert all(step["with"]["enable-cache"] is False for step in setup_uv)


def test_publish_uploads_what_the_package_job_built(rendered_github):
    publish = yaml.safe_load(
        (rendered_github / "workflows" / "publish.yml").read_text()
    )
    test = yaml.safe_load((rendered_github / "workflows" / "test.yml").read_text())
    assert "workflow_call" in test[True]  # YAML 1.1 reads the key `on` as true
    assert publish["jobs"]["test"]["uses"].startswith("$/.github/workflows/test.yml")
    assert publish["jobs"]["publish"]["needs"] == ["test"]
    steps = publish["jobs"]["publish"]["steps"]
    # No checkout and no build in the publishing job: it downloads the artifact.
    assert [step["uses"].split("@")[0] for step in steps] == [
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
    ]
    (upload,) = [
        step
        for step in test["jobs"]["package"]["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert steps[0]["with"]["name"] == upload["with"]["name"]


def test_live_tests_get_the_key_only_where_it_is_set(rendered_github):
    """The live job runs `pytest -m live` only where the key's secret exists (a
    job's `if` cannot read secrets: a step says whether it is set), gives the key to
    no other step and no other job, and publish.yml passes it on for a release, so
    that the release waits for the live tests."""
    workflows = rendered_github / "workflows"
    test = yaml.safe_load((workflows / "test.yml").read_text())
    publish = yaml.safe_load((workflows / "publish.yml").read_text())
    if "live" not in test["jobs"]:  # the markov kind: no API, no secret
        assert "secrets" not in (workflows / "test.yml").read_text()
        assert "secrets" not in (workflows / "publish.yml").read_text()
        return
    declared = test[True]["workflow_call"]["secrets"]  # YAML 1.1 reads `on` as true
    (key,) = declared
    assert declared[key]["required"] is False
    secret = "${{ secrets." + key + " }}"
    assert publish["jobs"]["test"]["secrets"] == {key: secret}
    live = test["jobs"]["live"]
    assert "if" not in live and "env" not in live
    check, *steps = live["steps"]
    assert check["id"] == "key" and check["env"] == {key: secret}
    assert f'if [ -n "${key}" ]' in check["run"]
    assert 'echo "set=true" >> "$GITHUB_OUTPUT"' in check["run"]
    assert all(step["if"] == "steps.key.outputs.set == 'true'" for step in steps)
    (run_live,) = [step for step in steps if "run" in step]
    assert run_live["run"] == "uv run pytest -m live"
    assert run_live["env"] == {key: secret}
    assert all("env" not in step for step in steps if step is not run_live)
    others = {name: job for name, job in test["jobs"].items() if name != "live"}
    assert "secrets" not in yaml.safe_dump(others)
    # The README tells a team how the live tests guard a release.
    readme = (rendered_github.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Live tests", 1)[1].split("\n## ", 1)[0]
    for words in (f"`{key}`", "publish.yml", "uv run pytest -m live"):
        assert words in section, words


def test_zizmor_repository():
    assert_zizmor_clean(REPO_GITHUB, ["workflows/test.yml", "dependabot.yml"])


def test_no_github_dir_without_github_actions(render):
    project = render(github_actions=False)
    assert not (project / ".github").exists()


# actionlint (with shellcheck for the run: steps) ---------------------------------


def actionlint(*workflows: Path, cwd: Path) -> list[dict]:
    """actionlint's findings, as JSON; `cwd` is a git repository, so that it reads
    the workflows a `uses: $/...` or `./...` calls and checks the call against them."""
    result = run(
        tool("actionlint"),
        *("-shellcheck", tool("shellcheck"), "-pyflakes", ""),
        *("-format", "{{json .}}"),
        *workflows,
        cwd=cwd,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def linted_checkout(rendered_github, tmp_path) -> Path:
    """The rendered .github folder in a git repository of its own."""
    checkout = tmp_path / "checkout"
    shutil.copytree(rendered_github, checkout / ".github")
    check(*GIT, "init", "--quiet", cwd=checkout)
    return checkout


def test_actionlint_rendered_workflows(linted_checkout):
    workflows = sorted((linted_checkout / ".github" / "workflows").glob("*.yml"))
    assert [path.name for path in workflows] == ["publish.yml", "test.yml"]
    assert actionlint(*workflows, cwd=linted_checkout) == []


def test_actionlint_repository_workflow():
    assert actionlint(REPO_GITHUB / "workflows" / "test.yml", cwd=REPO) == []


def test_actionlint_reports_what_it_checks(linted_checkout):
    """Not a silent pass: a matrix key that does not exist, an unquoted variable in
    a run: step (shellcheck) and a call of a missing reusable workflow are found."""
    workflows = linted_checkout / ".github" / "workflows"
    test_yml = workflows / "test.yml"
    text = test_yml.read_text(encoding="utf-8")
    broken = text.replace("${{ matrix.os }}", "${{ matrix.system }}", 1)
    broken = broken.replace('uv venv "$RUNNER_TEMP/wheel-env"', "uv venv $RUNNER_TEMP")
    assert broken.count("matrix.system") == 1 and "venv $RUNNER_TEMP\n" in broken
    test_yml.write_text(broken, encoding="utf-8")
    publish = workflows / "publish.yml"
    publish.write_text(
        publish.read_text(encoding="utf-8").replace("/test.yml", "/missing.yml"),
        encoding="utf-8",
    )

    found = actionlint(test_yml, publish, cwd=linted_checkout)
    by_message = {finding["message"]: finding["kind"] for finding in found}
    assert len(found) == 3, found
    (undefined,) = [message for message in by_message if '"system"' in message]
    assert by_message[undefined] == "expression"
    (unquoted,) = [message for message in by_message if "SC2086" in message]
    assert by_message[unquoted] == "shellcheck"
    # Its kind is workflow-call or, now and then, expression (actionlint 1.14).
    (missing,) = [message for message in by_message if "missing.yml" in message]
    assert missing.startswith("could not read reusable workflow file")


# What the rendered workflows promise ----------------------------------------------


def test_dependabot_keeps_uv_lock_and_the_actions_fresh(rendered_github):
    config = yaml.safe_load((rendered_github / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert sorted(updates) == ["github-actions", "uv"]  # not pip
    assert all(update["directory"] == "/" for update in updates.values())
    # uv.lock only: the floors in pyproject.toml are tested, not moved.
    assert updates["uv"]["versioning-strategy"] == "lockfile-only"
    assert updates["uv"]["groups"] == {"uv-lock": {"patterns": ["*"]}}


def test_every_run_step_is_bash_on_every_runner(rendered_github):
    """The tests job runs on Windows too: one shell everywhere, bash."""
    for name in ("test.yml", "publish.yml"):
        workflow = yaml.safe_load((rendered_github / "workflows" / name).read_text())
        jobs = workflow["jobs"].values()
        if any("run" in step for job in jobs for step in job.get("steps", [])):
            assert workflow["defaults"] == {"run": {"shell": "bash"}}, name
        for job in jobs:
            assert "defaults" not in job
            assert all("shell" not in step for step in job.get("steps", [])), name
    test = yaml.safe_load((rendered_github / "workflows" / "test.yml").read_text())
    runners = {name: job["runs-on"] for name, job in test["jobs"].items()}
    assert runners.pop("tests") == "${{ matrix.os }}"
    assert set(runners.values()) == {"ubuntu-latest"}


def test_ci_uses_uv_lock_when_committed_and_works_without(rendered_github):
    test = yaml.safe_load((rendered_github / "workflows" / "test.yml").read_text())
    (lock_step,) = [
        step
        for job in test["jobs"].values()
        for step in job["steps"]
        if "uv.lock" in step.get("run", "")
    ]
    assert lock_step["name"] == "Check that uv.lock matches pyproject.toml"
    assert lock_step in test["jobs"]["lint"]["steps"]
    # No job installs in a way that ignores or refuses a committed lock, or a missing one.
    runs = " ".join(
        step.get("run", "") for job in test["jobs"].values() for step in job["steps"]
    )
    for flag in ("--frozen", "--locked", "--no-sync", "UV_LOCKED", "UV_FROZEN"):
        assert flag not in runs


# This repository's CI ---------------------------------------------------------------


def test_repository_ci_runs_the_oldest_and_newest_copier_and_python(
    default_project, tmp_path
):
    workflow = yaml.safe_load((REPO_GITHUB / "workflows" / "test.yml").read_text())
    suite = workflow["jobs"]["test"]
    entries = suite["strategy"]["matrix"]["include"]
    minimum = yaml.safe_load((REPO / "copier.yml").read_text())["_min_copier_version"]
    assert [entry["copier"] for entry in entries] == [minimum, "newest"]
    assert suite["steps"][-1]["run"] == "bash .ci/run"

    # The Pythons the rendered projects declare: each kind's floor, and the newest.
    http_api = render_project(tmp_path / "http-api", {"model_kind": "http-api"})
    floors = {}
    for kind, project in (("markov", default_project), ("http-api", http_api)):
        pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
        floors[kind] = pyproject.split('requires-python = ">=')[1].split('"')[0]
    rendered = yaml.safe_load(
        (default_project / ".github/workflows/test.yml").read_text()
    )
    newest = rendered["jobs"]["tests"]["strategy"]["matrix"]["python-version"][-1]
    assert [entry["python"] for entry in entries] == [floors["http-api"], newest]
    oldest = workflow["jobs"]["oldest-python"]
    (setup,) = [
        step for step in oldest["steps"] if "python-version" in step.get("with", {})
    ]
    assert setup["with"]["python-version"] == floors["markov"]
    assert floors["markov"] in oldest["name"]
    assert any(
        step.get("env", {}).get("UV_PYTHON") == floors["markov"]
        for step in oldest["steps"]
    )
