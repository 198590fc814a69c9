"""Static checks for the GitHub Actions files: the template's and this repository's own.

Schema validation uses check-jsonschema's vendored schemas and zizmor runs with
``--offline``, so none of these tests needs the network.
"""

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import MODEL_KINDS, render_project
from plugin_env import run

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_GITHUB = REPO / "template" / ".github"
REPO_GITHUB = REPO / ".github"

# The template's test.yml is Jinja (its Python matrix follows the model kind): it is
# validated as rendered, for each kind, below.
WORKFLOWS = [
    TEMPLATE_GITHUB / "workflows" / "publish.yml",
    REPO_GITHUB / "workflows" / "test.yml",
]
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


def test_zizmor_repository():
    assert_zizmor_clean(REPO_GITHUB, ["workflows/test.yml", "dependabot.yml"])


def test_no_github_dir_without_github_actions(render):
    project = render(github_actions=False)
    assert not (project / ".github").exists()
