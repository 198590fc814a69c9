"""Every release named in CHANGELOG.md that had a model kind besides markov,
rendered as a plugin of that kind and edited by its user, updates to this working
tree cleanly (see release_updates.py). A module of its own so that it runs beside
test_update_from_releases.py, which updates the Markov renders."""

import pytest

from conftest import render_project
from release_updates import (
    FIRST_KIND,
    Updates,
    cases,
    head_version,
    in_history,
    model_kinds,
    releases,
)
from test_update import answers_of, assert_no_conflicts, commit_all, git, update


@pytest.fixture(scope="module")
def updates(tmp_path_factory) -> Updates:
    return Updates(tmp_path_factory.mktemp("releases-api"))


@pytest.mark.parametrize("case", cases(lambda kind: kind != FIRST_KIND))
def test_update_from_a_release_keeps_the_users_edits(updates, case):
    updates.run(case)


def test_an_http_api_project_of_the_old_defaults_keeps_its_names(updates, tmp_path):
    """The http-api kind's defaults are no longer the Markov kind's names; a project
    rendered with the old ones (llm-markov) keeps them: they are recorded answers,
    and `copier update --defaults` changes only what a new render asks."""
    newest = [
        release
        for release in releases()
        if release.commit
        and in_history(release.commit)
        and "http-api" in model_kinds(release.commit)
    ][-1]
    project = tmp_path / "project"
    answers = {"model_kind": "http-api", "copyright_year": "2026"}
    render_project(project, answers, template=updates.template, vcs_ref=newest.version)
    assert answers_of(project)["plugin_name"] == "llm-markov"
    git(project, "init", "--quiet")
    commit_all(project, f"project from template {newest.version}")

    update(project)

    recorded = answers_of(project)
    assert recorded["_commit"] == head_version()
    names = [recorded[key] for key in ("plugin_name", "model_id", "model_class")]
    assert names == ["llm-markov", "markov", "Markov"]
    assert recorded["api_model"] == "markov"
    assert "api_protocol" not in recorded or recorded["api_protocol"] == "openai-chat"
    assert (project / "llm_markov" / "models.py").is_file()
    assert (
        'model_id="markov"' in (project / "llm_markov" / "model_table.py").read_text()
    )
    assert 'name = "llm-markov"' in (project / "pyproject.toml").read_text()
    assert_no_conflicts(project)
