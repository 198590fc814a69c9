"""`copier update --defaults` from every release named in CHANGELOG.md to this working
tree, for each model kind the release had, with a user's edits (shared by
test_update_from_releases.py and test_update_from_releases_api.py).

A release's heading in CHANGELOG.md names the commit it was cut from
(`## v0.2.0 - 2026-11-26 (commit 1ca7b66)`): git tags do not travel with every copy
of this repository, so the tests find each release by its commit, copy it with `git
archive` into a temporary template repository and tag it there. A new release is
picked up from its heading, with no change here.

A scenario is what one user did to a project rendered with some answers; each
release of the scenario's model kind gets a case. After the update the project must
be exactly a fresh render of this working tree with the same edits made to it (so
the edits survive, the template's changes arrive, files the template removed or moved
are gone), with no .rej file, no conflict marker and no unmerged path, and its own
tests, lint and type check must pass, installed editable with its dev group in one
venv per test module."""

import difflib
import functools
import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.version import Version

from conftest import ROOT, render_project
from plugin_env import UV, PluginEnv, check, run
from test_update import (
    USER_FUNCTION,
    USER_README_LINE,
    answers_of,
    assert_no_conflicts,
    commit_all,
    copy_working_tree,
    edit,
    git,
    project_files,
    replace_once,
    update,
)

CHANGELOG = ROOT / "CHANGELOG.md"
HEADING_FORMAT = "## vX.Y.Z - YYYY-MM-DD (commit <short hash>)"
# Level-two headings of CHANGELOG.md: releases, and the changes not released yet.
RELEASE_HEADING = re.compile(r"v(\d+)\.(\d+)\.(\d+)(?=\s|$)")
COMMIT_IN_HEADING = re.compile(r"\(commit ([0-9a-f]{7,40})\)")
UNRELEASED = "Unreleased"
# The model kind of every release before `model_kind` was a question.
FIRST_KIND = "markov"


# Releases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    version: str  # "v0.2.0", the tag copier would have found
    heading: str  # the whole heading line, for messages
    commit: str | None  # as CHANGELOG.md writes it; None if the heading names none

    @property
    def key(self) -> Version:
        return Version(self.version)

    def checked_commit(self) -> str:
        """The release's commit, or a failure saying what the heading lacks."""
        if self.commit is None:
            pytest.fail(
                f"CHANGELOG.md's heading {self.heading!r} names no commit: write it "
                f"as {HEADING_FORMAT!r}, with the commit the release was cut from"
            )
        return self.commit


def parse_changelog(text: str) -> list[Release]:
    """The releases of a changelog, in its order (newest first). A level-two
    heading is either "Unreleased" or a release, `vX.Y.Z` first; anything else is
    refused, so that a misspelt release is not silently left out."""
    releases = []
    for line in text.splitlines():
        if not line.startswith("## "):
            continue
        title = line[3:].strip()
        if title == UNRELEASED:
            continue
        version = RELEASE_HEADING.match(title)
        if not version:
            raise ValueError(
                f"CHANGELOG.md heading {line!r} is neither {UNRELEASED!r} nor a "
                f"release: write releases as {HEADING_FORMAT!r}"
            )
        commits = COMMIT_IN_HEADING.findall(title)
        if len(commits) > 1:
            raise ValueError(f"CHANGELOG.md heading {line!r} names several commits")
        releases.append(
            Release(version.group(0), line, commits[0] if commits else None)
        )
    return releases


@functools.cache
def releases() -> tuple[Release, ...]:
    """The releases CHANGELOG.md names, oldest first."""
    found = parse_changelog(CHANGELOG.read_text(encoding="utf-8"))
    return tuple(sorted(found, key=lambda release: release.key))


@functools.cache
def in_history(commit: str) -> bool:
    """Whether `commit` names one commit of this repository."""
    return (
        run("git", "rev-parse", "--verify", f"{commit}^{{commit}}", cwd=ROOT).returncode
        == 0
    )


def not_in_history(release: Release) -> str:
    return (
        f"{release.version}'s commit {release.commit} is not in this repository's "
        "history (a shallow clone? `git fetch --unshallow`)"
    )


@functools.cache
def model_kinds(commit: str) -> tuple[str, ...]:
    """The model kinds the template had at `commit`, from its copier.yml."""
    questions = yaml.safe_load(git(ROOT, "show", f"{commit}:copier.yml"))
    if "model_kind" not in questions:
        return (FIRST_KIND,)
    return tuple(questions["model_kind"]["choices"].values())


def head_version() -> str:
    """The tag of this working tree in the temporary template repository: after
    every release, so that `copier update` without --vcs-ref goes to it."""
    newest = max((release.key for release in releases()), default=Version("0.0.0"))
    return f"v{newest.major}.{newest.minor}.{newest.micro + 1}"


def make_template_repository(repo: Path) -> Path:
    """A git repository holding each release's commit of this repository, oldest
    first, tagged with its version, then this working tree (uncommitted changes
    included) tagged head_version()."""
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet")
    for release in releases():
        if release.commit is None or not in_history(release.commit):
            continue  # its cases fail saying so
        archive = repo.parent / f"{release.version}.tar"
        check("git", "archive", "--output", archive, release.commit, cwd=ROOT)
        clear_work_tree(repo)
        check("tar", "-x", "-f", archive, "-C", repo)
        archive.unlink()
        tag_all(repo, release.version)
        # The same files, modes and contents as the release's commit, nothing less.
        tree = f"{release.commit}^{{tree}}"
        assert git(repo, "rev-parse", "HEAD^{tree}") == git(ROOT, "rev-parse", tree)
    clear_work_tree(repo)
    copy_working_tree(repo)
    tag_all(repo, head_version())
    return repo


def clear_work_tree(repo: Path) -> None:
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def tag_all(repo: Path, version: str) -> None:
    git(repo, "add", "--all")
    # Empty when the working tree is the newest release exactly.
    git(repo, "commit", "--quiet", "--allow-empty", "--message", f"template {version}")
    git(repo, "tag", version)


# What users do --------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A user's change to a file of the project rendered from a release.

    `moved_to` is where the template now keeps that file, when it moved it; then
    `expected` (by default `change`) turns the fresh render's file there into what
    the update must leave."""

    path: str
    change: Callable[[str], str]
    moved_to: str | None = None
    expected: Callable[[str], str] | None = None

    @property
    def updated_path(self) -> str:
        return self.moved_to or self.path

    def apply(self, project: Path) -> None:
        edit(project / self.path, self.change)

    def expect(self, fresh_text: str) -> str:
        return (self.expected or self.change)(fresh_text)


@dataclass(frozen=True)
class Scenario:
    """One user's project: the answers it was rendered with, the edits made to
    template files and the files the user added, all committed before the update.
    `until` is the first release that no longer has a file these edits need."""

    name: str
    kind: str
    answers: dict
    edits: tuple[Edit, ...]
    new_files: dict[str, str] = field(default_factory=dict)
    until: str | None = None
    # (path, release): a file that renders before `release` had and the update
    # leaves in place, as the message after the update says (copier applies the new
    # _exclude to its copy of the old version, so a file that leaves the layout is
    # never deleted). The user deletes it after moving any changes.
    left_behind: tuple[tuple[str, str], ...] = ()

    def left_behind_by(self, release: Release) -> list[str]:
        return [
            path for path, until in self.left_behind if release.key < Version(until)
        ]

    def covers(self, release: Release) -> bool:
        return self.until is None or release.key < Version(self.until)


def insert_after(anchor: str, text: str):
    return replace_once(anchor, anchor + text)


def append_text(text: str):
    return lambda old: old + text


def readme_note(plugin_name: str) -> Edit:
    """A paragraph of the user's right after the README's title, where badges and
    notes usually go. (Before the last section, it would meet the template's own
    additions at the end of the section before: a conflict of v0.1.0's README.)"""
    title = f"# {plugin_name}\n\n"
    return Edit("README.md", insert_after(title, USER_README_LINE + "\n\n"))


MARKOV_USER_TEST = """from llm_markov import shout


def test_shout_is_kept_by_template_updates():
    assert shout("the cat sat") == "THE CAT SAT"
"""

HTTP_API_USER_TEST = """import llm


def test_the_model_is_found_under_its_id():
    assert llm.get_model("acme-chat").model_id == "acme-chat"
"""

USER_MODULE_NOTE = "\n# Our gateway needs 300 s: see TIMEOUT.\n"

# The year is pinned: its default is today's, which the fresh render recomputes.
SCENARIOS = (
    Scenario(
        name="markov",
        kind="markov",
        answers={"copyright_year": "2026"},
        edits=(
            Edit("llm_markov.py", append_text(USER_FUNCTION)),
            readme_note("llm-markov"),
            Edit(
                "pyproject.toml",
                insert_after(
                    'readme = "README.md"\n', 'keywords = ["llm", "markov", "tests"]\n'
                ),
            ),
        ),
        new_files={"tests/test_user_shout.py": MARKOV_USER_TEST},
    ),
    # The http-api module becomes a package: the user's edited module is left in
    # place, edits and all, for the user to move into the package (see left_behind).
    Scenario(
        name="http-api",
        kind="http-api",
        answers={
            "model_kind": "http-api",
            "plugin_name": "llm-acme-chat",
            "copyright_year": "2026",
        },
        edits=(
            readme_note("llm-acme-chat"),
            Edit("llm_acme_chat.py", append_text(USER_MODULE_NOTE)),
            Edit(
                "pyproject.toml",
                append_text(
                    '\n[project.optional-dependencies]\nyaml = ["pyyaml>=6"]\n'
                ),
            ),
        ),
        new_files={"tests/test_user_model.py": HTTP_API_USER_TEST},
        # Until v0.3.0 the http-api plugin was one module; now it is a package.
        left_behind=(("llm_acme_chat.py", "0.3.0"),),
        until="0.3.0",  # releases from v0.3.0 on need a scenario of the package
    ),
)


# Cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    release: Release
    kind: str | None  # None when there is no commit to read the release's kinds from
    scenario: Scenario | None  # None when no scenario edits a project of `kind`

    @property
    def id(self) -> str:
        name = self.scenario.name if self.scenario else self.kind or "no-commit"
        if self.kind is None and self.release.commit:
            name = "commit-not-in-history"
        return f"{self.release.version}-{name}"


def cases(kinds: Callable[[str], bool]) -> list:
    """pytest params: each release × each of its model kinds that `kinds` selects
    × each scenario of that kind covering the release. A release that names no
    commit, or a kind no scenario edits, is a case that fails saying so."""
    found = []
    for release in releases():
        if release.commit is None:
            if kinds(FIRST_KIND):  # reported once, by the first kind's module
                found.append(Case(release, None, None))
            continue
        if not in_history(release.commit):
            if kinds(FIRST_KIND):
                found.append(Case(release, None, None))
            continue
        for kind in filter(kinds, model_kinds(release.commit)):
            scenarios = [
                scenario
                for scenario in SCENARIOS
                if scenario.kind == kind and scenario.covers(release)
            ]
            found += [Case(release, kind, scenario) for scenario in scenarios or [None]]
    return [pytest.param(case, id=case.id) for case in found]


class SharedVenv:
    """One venv for every case of a test module: each project is installed editable
    with its dev group, replacing the one before it."""

    def __init__(self, path: Path):
        self.env = PluginEnv.create(path)
        self.installed: str | None = None

    def install(self, project: Path) -> PluginEnv:
        name = read_toml_name(project)
        if self.installed not in (None, name):
            python = self.env.bin / "python"
            check(UV, "pip", "uninstall", "--quiet", "--python", python, self.installed)
        self.env.pip_install(
            "-e", ".", "--group", "dev", "--reinstall-package", name, cwd=project
        )
        self.installed = name
        return self.env


def read_toml_name(project: Path) -> str:
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["project"]["name"]


class Updates:
    """What the cases of one test module share: the template repository with every
    release, fresh renders of this working tree per answers, and one venv."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.template = make_template_repository(folder / "template")
        self.venv = SharedVenv(folder / ".venv")
        self.fresh: dict[str, dict[str, bytes]] = {}
        self.checked: set[str] = set()  # digests of projects whose checks passed
        self.count = 0

    def fresh_files(self, scenario: Scenario) -> dict[str, bytes]:
        """The files of a fresh render of this working tree with the scenario's
        answers (rendered once per scenario)."""
        if scenario.name not in self.fresh:
            project = self.folder / "fresh" / scenario.name / "project"
            render_project(
                project,
                scenario.answers,
                template=self.template,
                vcs_ref=head_version(),
            )
            self.fresh[scenario.name] = project_files(project)
        return self.fresh[scenario.name]

    def run(self, case: Case) -> None:
        commit = case.release.checked_commit()
        if case.kind is None:
            pytest.fail(not_in_history(case.release))
        scenario = case.scenario
        if scenario is None:
            pytest.fail(
                f"{case.release.version} (commit {commit}) has model kind "
                f"{case.kind!r}, which no scenario in release_updates.SCENARIOS edits"
            )
        self.count += 1
        project = self.folder / f"case{self.count}" / "project"
        render_project(
            project,
            scenario.answers,
            template=self.template,
            vcs_ref=case.release.version,
        )
        assert answers_of(project)["_commit"] == case.release.version
        git(project, "init", "--quiet")
        commit_all(project, f"project from template {case.release.version}")
        for change in scenario.edits:
            change.apply(project)
        for name, text in scenario.new_files.items():
            assert not (project / name).exists(), f"{name} is not a new file"
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text, encoding="utf-8", newline="")
        commit_all(project, "user edits")

        update(project)  # no --vcs-ref: the newest tag, as `copier update --defaults`

        assert answers_of(project)["_commit"] == head_version()
        assert_no_conflicts(project)
        unmerged = git(project, "diff", "--name-only", "--diff-filter=U")
        assert unmerged == "", f"unmerged paths after the update: {unmerged}"
        for name in scenario.left_behind_by(case.release):
            assert (project / name).is_file(), f"{name} was not left in place"
            left = (project / name).read_text(encoding="utf-8")
            for change in scenario.edits:
                if change.path == name:  # the user's edits are still in it
                    assert change.change("").strip() in left
            (project / name).unlink()  # what the message after the update says
        updated = project_files(project)
        assert_same_files(updated, expected_files(self, scenario))
        # Every release of a scenario updates to the same files, byte for byte (just
        # asserted): their tests, lint and type check run once for all of them.
        digest = files_digest(updated)
        if digest not in self.checked:
            self.venv.install(project).check_project(project)
            self.checked.add(digest)


def expected_files(updates: Updates, scenario: Scenario) -> dict[str, bytes]:
    """A fresh render of this working tree with the scenario's edits made to it."""
    files = dict(updates.fresh_files(scenario))
    left_behind = {path for path, _ in scenario.left_behind}
    for change in scenario.edits:
        if change.path in left_behind:
            continue  # checked, then deleted, before the comparison
        name = change.updated_path
        assert name in files, (
            f"a fresh render has no {name} for the edit of {change.path}"
        )
        files[name] = change.expect(files[name].decode("utf-8")).encode("utf-8")
    for name, text in scenario.new_files.items():
        assert name not in files, f"the template now renders {name}, a user's file"
        files[name] = text.encode("utf-8")
    return files


def files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(files.items()):
        for part in (name.encode("utf-8"), content):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def assert_same_files(updated: dict[str, bytes], expected: dict[str, bytes]) -> None:
    missing = sorted(set(expected) - set(updated))
    extra = sorted(set(updated) - set(expected))
    assert not missing and not extra, (
        f"after the update, missing: {missing}; not in a fresh render: {extra}"
    )
    diffs = [
        "".join(
            difflib.unified_diff(
                expected[name].decode("utf-8", "replace").splitlines(keepends=True),
                updated[name].decode("utf-8", "replace").splitlines(keepends=True),
                f"expected/{name}",
                f"updated/{name}",
            )
        )
        for name in sorted(expected)
        if expected[name] != updated[name]
    ]
    assert not diffs, (
        "the update differs from a fresh render with the user's edits:\n"
        + ("\n".join(diffs)[:6000])
    )
