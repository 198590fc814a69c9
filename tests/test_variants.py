"""Other answers, installed for real: each variant's own tests and lint pass, and its
model answers under the chosen id."""

import pytest

from conftest import install_editable, render_project
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


@pytest.fixture(scope="module", params=VARIANTS, ids=list(VARIANTS))
def variant(request, tmp_path_factory):
    answers = VARIANTS[request.param]
    plugin_name = answers.get("plugin_name", "llm-markov")
    project = render_project(tmp_path_factory.mktemp("variant") / plugin_name, answers)
    env = install_editable(project, project.parent / ".venv")
    return answers, project, env


def test_variant_tests_and_lint_pass(variant):
    _, project, env = variant
    env.check_project(project)


def test_variant_model_runs_under_its_id(variant):
    answers, _, env = variant
    model_id = answers.get("model_id", "markov")
    plugin_name = answers.get("plugin_name", "llm-markov")
    assert plugin_name in [plugin["name"] for plugin in env.plugins()]
    result = env.llm("-m", model_id, "the cat sat on the mat", "-o", "length", "9")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 9
