"""Every release named in CHANGELOG.md, rendered as a Markov plugin and edited by
its user, updates to this working tree cleanly (see release_updates.py); and every
release's heading names the commit it was cut from. The other model kinds update in
test_update_from_releases_api.py, a module of its own so that both run side by side."""

import itertools

import pytest

from conftest import ROOT, render_project
from plugin_env import run
from release_updates import (
    FIRST_KIND,
    HEADING_FORMAT,
    Updates,
    cases,
    head_version,
    in_history,
    model_kinds,
    not_in_history,
    parse_changelog,
    releases,
)
from test_update import answers_of, assert_no_conflicts, commit_all, git, update


@pytest.fixture(scope="module")
def updates(tmp_path_factory) -> Updates:
    return Updates(tmp_path_factory.mktemp("releases-markov"))


@pytest.mark.parametrize("case", cases(lambda kind: kind == FIRST_KIND))
def test_update_from_a_release_keeps_the_users_edits(updates, case):
    updates.run(case)


def test_every_release_names_the_commit_it_was_cut_from():
    found = releases()
    assert [release.version for release in found][:2] == ["v0.1.0", "v0.2.0"]
    for release in found:
        assert in_history(release.checked_commit()), not_in_history(release)
    for older, newer in itertools.pairwise(found):
        ancestor = run(
            "git", "merge-base", "--is-ancestor", older.commit, newer.commit, cwd=ROOT
        )
        assert ancestor.returncode == 0, (
            f"{older.version}'s commit {older.commit} is not an ancestor of "
            f"{newer.version}'s {newer.commit}"
        )
    head = run("git", "merge-base", "--is-ancestor", found[-1].commit, "HEAD", cwd=ROOT)
    assert head.returncode == 0, f"{found[-1].commit} is not an ancestor of HEAD"


def test_a_release_heading_without_a_commit_fails_saying_how_to_write_it():
    changelog = parse_changelog(
        "# Changelog\n\n## Unreleased\n\n- more\n\n"
        "## v1.2.0 - 2027-01-02\n\n- new\n\n"
        "## v1.1.0 - 2027-01-01 (commit 0123abc)\n\n- old\n"
    )

    assert [(release.version, release.commit) for release in changelog] == [
        ("v1.2.0", None),
        ("v1.1.0", "0123abc"),
    ]
    assert changelog[1].checked_commit() == "0123abc"
    with pytest.raises(pytest.fail.Exception) as failure:
        changelog[0].checked_commit()
    assert "'## v1.2.0 - 2027-01-02' names no commit" in str(failure.value)
    assert HEADING_FORMAT in str(failure.value)


@pytest.mark.parametrize("heading", ["## 1.3.0 - 2027-02-01", "## Next release"])
def test_a_heading_that_is_no_release_is_refused(heading):
    with pytest.raises(ValueError, match="neither 'Unreleased' nor a release"):
        parse_changelog(f"# Changelog\n\n{heading}\n\n- something\n")


def test_an_http_api_project_of_the_old_defaults_keeps_its_names(updates, tmp_path):
    """(Here, beside the Markov updates, for the suite's balance.) The http-api
    kind's defaults are no longer the Markov kind's names; a project
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
