"""Other answers: each variant passes lint and the type check; the ones whose names
differ from the default are installed for real and their model answers under the
chosen id. (The generated tests themselves run in test_ci_jobs.py, test_ci_lowest.py
and test_extras_installed.py.) (Variants that differ only in text are parsed
and linted by tests/test_rendering.py and tests/test_answers.py as well.)"""

import json

import pytest

from conftest import install_editable, render_project
from plugin_env import check, repo_env
from test_rendering import HOSTILE, HOSTILE_AUTHOR

VARIANTS = {
    "custom-names-mit": {
        "plugin_name": "llm-my-model",
        "model_id": "my-model",
        "license": "MIT",
    },
    "hostile-text-zh-bsd": {
        "description": HOSTILE,
        "author_name": HOSTILE_AUTHOR,
        "readme_language": "zh",
        "license": "BSD-3-Clause",
    },
    "gpl-no-actions-odd-id": {
        "model_id": "org/markov:v2",
        "license": "GPL-3.0-or-later",
        "github_actions": False,
    },
    "proprietary-zh": {"license": "Proprietary", "readme_language": "zh"},
}
INSTALLED = ["custom-names-mit", "gpl-no-actions-odd-id"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    return {
        name: render_project(
            tmp_path_factory.mktemp("variant") / answers.get("plugin_name", "llm-x"),
            answers,
        )
        for name, answers in VARIANTS.items()
    }


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    return repo_env(tmp_path_factory.mktemp("llm-user"))


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_lint_and_type_check_pass(projects, checker, name):
    project = projects[name]
    check(checker.bin / "ruff", "check", "--no-cache", ".", cwd=project)
    check(checker.bin / "ruff", "format", "--no-cache", "--check", ".", cwd=project)
    ty = (checker.bin / "ty", "check", "--python", checker.path)
    check(*ty, "--no-progress", cwd=project, env=checker.env())


def test_installed_variants_answer_under_their_ids(projects, tmp_path):
    """Both variants whose names differ from the default, in one venv: their plugin
    names and model ids differ from each other too."""
    env = install_editable(projects[INSTALLED[0]], tmp_path / ".venv")
    env.pip_install("-e", projects[INSTALLED[1]])
    model_ids = [VARIANTS[name].get("model_id", "markov") for name in INSTALLED]
    plugins, *prompts = env.llm_batch(
        ["plugins"],
        *(
            ["-m", model_id, "the cat sat on the mat", "-o", "length", "9"]
            for model_id in model_ids
        ),
    )
    names = {plugin["name"] for plugin in json.loads(plugins.stdout)}
    assert {
        VARIANTS[name].get("plugin_name", "llm-markov") for name in INSTALLED
    } <= names
    for prompt in prompts:
        assert prompt.exit_code == 0, prompt.stderr
        assert len(prompt.stdout.split()) == 9
