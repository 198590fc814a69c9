"""`copier update --defaults` of a project rendered from template v0.1.0 (commit
c3dcb88 of this repository: a `test` extra, pip in CI) to this working tree: the new
layout arrives, user edits stay. A module of its own so that it runs in parallel with
tests/test_update.py, whose helpers it uses."""

import shutil
from pathlib import Path

import pytest
import tomllib
import yaml

from conftest import ROOT, render_project
from plugin_env import check
from test_update import (
    answers_of,
    assert_no_conflicts,
    assert_user_edits_kept,
    commit_all,
    copy_working_tree,
    git,
    make_user_edits,
    read,
    update,
)

# From the v0.1.0 layout ---------------------------------------------------------

# The template as v0.1.0 projects were rendered: a `test` extra, pip in CI.
V0_1_COMMIT = "c3dcb88"


@pytest.fixture(scope="module")
def template_v0_1_to_v0_2(tmp_path_factory) -> Path:
    """A template repository with commit c3dcb88 of this one tagged v0.1.0, then
    this working tree tagged v0.2.0."""
    repo = tmp_path_factory.mktemp("template-v0") / "template"
    repo.mkdir()
    archive = repo.parent / "v0.1.0.tar"
    check("git", "archive", "--output", archive, V0_1_COMMIT, cwd=ROOT)
    check("tar", "-x", "-f", archive, "-C", repo)
    git(repo, "init", "--quiet")
    commit_all(repo, "template v0.1.0")
    git(repo, "tag", "v0.1.0")
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    copy_working_tree(repo)
    commit_all(repo, "template v0.2.0")
    git(repo, "tag", "v0.2.0")
    return repo


def test_update_from_v0_1_moves_to_the_dev_group_layout(
    template_v0_1_to_v0_2, tmp_path
):
    project = tmp_path / "llm-markov"
    render_project(project, {}, template=template_v0_1_to_v0_2, vcs_ref="v0.1.0")
    old_pyproject = tomllib.loads(read(project / "pyproject.toml"))
    assert "pytest" in old_pyproject["project"]["optional-dependencies"]["test"]
    git(project, "init", "--quiet")
    commit_all(project, "project from template v0.1.0")
    make_user_edits(project)

    update(project)  # no --vcs-ref: the newest tag, as `copier update --defaults`

    assert_no_conflicts(project)
    assert_user_edits_kept(project)
    assert answers_of(project)["_commit"] == "v0.2.0"
    pyproject = tomllib.loads(read(project / "pyproject.toml"))
    assert "optional-dependencies" not in pyproject["project"]
    assert any(dep.startswith("ty==") for dep in pyproject["dependency-groups"]["dev"])
    assert (project / "AGENTS.md").is_file()
    workflow = yaml.safe_load(read(project / ".github" / "workflows" / "test.yml"))
    assert list(workflow["jobs"]) == ["lint", "tests", "lowest", "package"]
    readme = read(project / "README.md")
    assert "uv run pytest" in readme and "'.[test]'" not in readme
