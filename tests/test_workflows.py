"""Static checks for the GitHub Actions files: the template's and this repository's own.

Schema validation uses check-jsonschema's vendored schemas and zizmor runs with
``--offline``, so none of these tests needs the network.
"""

import json
import shutil
import sys
from pathlib import Path

import pytest

from plugin_env import run

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_GITHUB = REPO / "template" / "{% if github_actions %}.github{% endif %}"
REPO_GITHUB = REPO / ".github"

WORKFLOWS = [
    TEMPLATE_GITHUB / "workflows" / "test.yml",
    TEMPLATE_GITHUB
    / "workflows"
    / "{% if license != 'Proprietary' %}publish.yml{% endif %}",
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
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, path)
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


def test_zizmor_rendered_project(default_project):
    github_dir = default_project / ".github"
    for name in RENDERED_GITHUB_FILES:
        assert (github_dir / name).is_file(), name
    assert_zizmor_clean(github_dir, RENDERED_GITHUB_FILES)


def test_zizmor_repository():
    assert_zizmor_clean(REPO_GITHUB, ["workflows/test.yml", "dependabot.yml"])


def test_no_github_dir_without_github_actions(render):
    project = render(github_actions=False)
    assert not (project / ".github").exists()
