"""What the template renders, for every choice, and what becomes of hostile answers."""

import ast
import html
import re

import pytest
import tomllib
import yaml
from markdown_it import MarkdownIt

LICENSES = {
    "Apache-2.0": "Apache License\n                           Version 2.0",
    "MIT": "MIT License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE\n                       Version 3",
    "Proprietary": "All rights reserved.",
}
# Legal answers that break naive templates: quotes, backslashes, Jinja and shell
# syntax, Markdown syntax, Chinese and accented letters.
HOSTILE = (
    'He said "hi" & it\'s {{ x }} {% raw %} ${HOME} `rm -rf` \\n \\ *bold* '
    "_x_ [link](http://x) <b>tag</b> # 中文说明 é"
)
HOSTILE_AUTHOR = 'Zoë "Z" O\'Brien \\ {{ author }} 张三'
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}")


def rendered_files(project):
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    )


def markdown_text(markdown: str) -> str:
    """The text a reader sees once the Markdown is rendered."""
    rendered = MarkdownIt("commonmark").render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def check_every_file_parses(project, typed=()):
    """Every file parses and holds no Jinja but what the user typed (`typed`)."""
    for path in rendered_files(project):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix == ".md":
            MarkdownIt("commonmark").parse(text)
        # A `{{ x }}` typed by the user is legitimate output; anything else is not.
        for answer in typed:
            text = text.replace(answer, "")
        leftovers = LEFTOVER_JINJA.findall(
            text.replace("{{ x }}", "")
            .replace("{{ author }}", "")
            .replace("{% raw %}", "")
        )
        assert not leftovers, f"{path.name} has unrendered Jinja: {leftovers}"


# Every license in both languages; with and without workflows alternating, so that
# each license and each language is rendered with and without them too.
@pytest.mark.parametrize(
    "license, readme_language, github_actions",
    [
        (license, language, (index + number) % 2 == 0)
        for index, license in enumerate(LICENSES)
        for number, language in enumerate(["en", "zh"])
    ],
)
def test_every_choice_renders(render, license, readme_language, github_actions):
    project = render(
        license=license,
        readme_language=readme_language,
        github_actions=github_actions,
        author_name="Ada Lovelace",
        copyright_year="2031",
    )
    names = {str(path.relative_to(project)) for path in rendered_files(project)}
    assert {
        ".copier-answers.yml",
        ".gitignore",
        "LICENSE",
        "README.md",
        "llm_markov.py",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_markov_chain.py",
        "tests/test_model.py",
    } <= names
    assert (".github/workflows/test.yml" in names) is github_actions
    # A proprietary plugin is shared privately: no workflow publishes it to PyPI.
    publishes = github_actions and license != "Proprietary"
    assert (".github/workflows/publish.yml" in names) is publishes
    assert (project / ".github").exists() is github_actions
    check_every_file_parses(project)

    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert LICENSES[license] in license_text
    assert "2031" in license_text and "Ada Lovelace" in license_text
    assert (
        "[yyyy]" not in license_text and "<year>" not in license_text.split("\n\n")[0]
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    expected = "LicenseRef-Proprietary" if license == "Proprietary" else license
    assert pyproject["project"]["license"] == expected

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# llm-markov\n")
    assert readme.endswith("\n") and not readme.endswith("\n\n")
    assert ("## 安装" in readme) is (readme_language == "zh")
    assert ("## Installation" in readme) is (readme_language == "en")
    assert "llm install llm-markov" in readme
    assert "LLM_LOAD_PLUGINS='' llm uninstall llm-markov -y" in readme


def test_pyproject_metadata(default_project):
    project = tomllib.loads((default_project / "pyproject.toml").read_text())["project"]
    assert project["name"] == "llm-markov"
    assert (
        project["description"]
        == "Plugin for LLM adding a Markov chain generating model"
    )
    assert project["dependencies"] == ["click>=8.3.1", "llm>=0.33", "pydantic>=2.4"]
    assert project["requires-python"] == ">=3.10"
    assert project["readme"] == "README.md"
    assert project["entry-points"] == {"llm": {"markov": "llm_markov"}}
    assert "authors" not in project and "urls" not in project  # none were given
    assert "optional-dependencies" not in project  # the dev group replaced `test`


def test_urls_and_authors_appear_when_given(render):
    project = render(
        github_username="octo-cat", author_name="Ada", author_email="ada@example.com"
    )
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["authors"] == [{"name": "Ada", "email": "ada@example.com"}]
    assert metadata["urls"]["Homepage"] == "https://github.com/octo-cat/llm-markov"
    assert metadata["urls"]["Issues"] == "https://github.com/octo-cat/llm-markov/issues"
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert (
        "https://github.com/octo-cat/llm-markov/archive/refs/heads/main.zip" in readme
    )


def test_email_without_a_name(render):
    project = render(author_email="ada@example.com")
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["authors"] == [{"email": "ada@example.com"}]


@pytest.mark.parametrize("readme_language", ["en", "zh"])
def test_hostile_answers_round_trip(render, readme_language):
    project = render(
        description=HOSTILE,
        author_name=HOSTILE_AUTHOR,
        readme_language=readme_language,
    )
    check_every_file_parses(project)
    metadata = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))["project"]
    assert metadata["description"] == HOSTILE
    assert metadata["authors"] == [{"name": HOSTILE_AUTHOR}]

    module = ast.parse((project / "llm_markov.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(module, clean=False) == HOSTILE

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert (answers["description"], answers["author_name"]) == (HOSTILE, HOSTILE_AUTHOR)

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert HOSTILE in markdown_text(readme).splitlines()
    assert f"Copyright {answers['copyright_year']} {HOSTILE_AUTHOR}" in (
        project / "LICENSE"
    ).read_text(encoding="utf-8")
