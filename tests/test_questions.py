"""The questions of copier.yml: defaults, derived names, every validator, and the
lists of names the validators refuse (includes/validation/names.jinja)."""

import sys

import pytest
import yaml

import reserved_names
from answer_space import CONFIG, validate
from conftest import EXTRAS, MODEL_KINDS, QUESTIONS, ROOT, render_project
from plugin_env import run

INVALID = {
    "plugin_name": [
        "markov",
        "llm-",
        "llm-Markov",
        "llm--markov",
        "llm-markov-",
        "llm-markov ",
        "llm_markov",
        "llm-märkov",
        "llm-markov\n",
        "llm-" + "a" * 37,
        # llm's own commands: `llm keys` would become the plugin's command group.
        "llm-keys",
        "llm-models",
        "llm-install",
        "llm-embed-multi",
    ],
    "model_id": [
        "",
        " markov",
        "mar kov",
        "-markov",
        "markov\t",
        "mar'kov",
        "模型",
        "gpt-4o",
        "4O",
        "Text-Embedding-3-Small",
        "x" * 65,
    ],
    "model_class": [
        "",
        "class",
        "None",
        "2Markov",
        "My-Model",
        "Märkov",
        "My Model",
        "llm",
        "myModel",
        "TextPart",
        "MarkovChain",
        "Notebook",
        "Generator",
        "ValueError",
        "StopIteration",
        "M" * 32,
    ],
    "description": [
        "",
        "   ",
        "two\nlines",
        "tab\there",
        " leading",
        "trailing ",
        "bidi \u202e",
        "zero\u200bwidth",
        "line\u2028separator",
        "nel\x85",
        "x" * 513,
    ],
    "author_name": ["Ada\nLovelace", " Ada", "a\u2029b", "x" * 101],
    "author_email": [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "a@-x.y",
        "a..b@example.com",
        ".a@example.com",
        "a@example.local",
    ],
    "github_username": ["-octo", "octo-", "oc--to", "octo_cat", "o" * 40, "octo/cat"],
    "license": ["GPL", "apache-2.0", "WTFPL"],
    "copyright_year": ["26", "two thousand", "2026 "],
    "readme_language": ["fr", "zh-CN"],
    "model_kind": ["openai", "HTTP-API", ""],
    "api_protocol": ["anthropic", "OpenAI-Chat", ""],
    "api_base_url": ["api.example.com", "ftp://example.com", "https://", "https://a b"],
    "api_model": ["", " gpt", "gpt 4", "-gpt"],
    "embedding_api_model": ["", " emb", "emb 3", "-emb"],
    "key_name": ["", "Acme", "acme chat", "-acme"],
    "key_env_var": ["", "acme_key", "1KEY", "ACME-KEY"],
    "extras": [["bogus"], ["Tools"], ["tools", "bogus"]],
}

VALID = {
    "plugin_name": [
        "llm-markov",
        "llm-my-model",
        "llm-gpt2",
        "llm-a1-b2-c3",
        "llm-keys-plus",
    ],
    "model_id": [
        "markov",
        "my-model",
        "acme-4.1",
        "org/model:latest",
        "M_1",
        "m" * 64,
    ],
    "model_class": ["Markov", "MyModel", "_Private", "Model2"],
    "description": ['Plugin "quoted" {{ x }} 中文 é \\ `code`'],
    "author_name": ["", 'Zoë O\'Brien "Z" 张三'],
    "author_email": ["", "ada@example.com", "zoe.o'brien+llm@example.co.uk"],
    "github_username": ["", "octo", "octo-cat", "a" * 39, "Octo1"],
    "license": ["Apache-2.0", "MIT", "BSD-3-Clause", "GPL-3.0-or-later", "Proprietary"],
    "copyright_year": ["1999", "2026"],
    "readme_language": ["en", "zh"],
    "model_kind": ["markov", "http-api"],
    # Cycled with extras (round i takes the i-th value of each): embeddings, which
    # anthropic-messages refuses, come with openai-chat.
    "api_protocol": ["anthropic-messages", "openai-chat"],
    "api_base_url": ["https://api.example.com/v1", "http://127.0.0.1:8080"],
    "api_model": ["gpt-4o-mini", "org/model:v1", "claude@2025"],
    "embedding_api_model": ["text-embedding-3-small", "org/embed:v1"],
    "key_name": ["acme", "acme-chat.v2"],
    "key_env_var": ["ACME_API_KEY", "_KEY2"],
    "extras": [[], ["embeddings", "tools", "fragments", "commands"]],
}


HTTP_API_ONLY = {"api_protocol", "api_base_url", "api_model", "key_name", "key_env_var"}
# Asked for http-api with the embeddings extra only.
EMBEDDINGS_API_ONLY = {"embedding_api_model"}


def cases(table):
    return [(key, value) for key, values in table.items() for value in values]


def test_every_question_with_a_validator_is_tested():
    config = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    validated = {key for key in QUESTIONS if "validator" in config[key]}
    choices = {key for key in QUESTIONS if "choices" in config[key]}
    assert validated | choices <= set(INVALID) <= QUESTIONS
    assert set(VALID) == set(INVALID)


def test_defaults_give_the_tutorials_plugin(default_project):
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    assert answers["plugin_name"] == "llm-markov"
    assert answers["model_id"] == "markov"
    assert answers["model_class"] == "Markov"
    assert answers["license"] == "Apache-2.0"
    assert "module_name" not in answers  # derived, never stored or asked
    assert (default_project / "llm_markov.py").is_file()
    assert (
        "class Markov(MarkovChain, llm.Model):"
        in (default_project / "llm_markov.py").read_text()
    )


def refused_choice(key: str, value) -> bool:
    """Whether copier's own check of a question with choices refuses `value`."""
    if "choices" not in CONFIG[key]:
        return False
    choices = list(CONFIG[key]["choices"].values())
    values = value if isinstance(value, list) else [value]
    return not set(values) <= set(choices)


@pytest.mark.parametrize("key, value", cases(INVALID))
def test_invalid_answer_is_rejected(key, value):
    """By the question's validator, evaluated as copier evaluates it (see
    tests/answer_space.py, which test_answers.py checks against real renders), or
    by copier's check of the question's choices."""
    assert validate(key, value) or refused_choice(key, value)


@pytest.mark.parametrize("key", INVALID)
def test_a_rejected_answer_stops_copier_before_it_writes(tmp_path, key):
    """A real render for each question's first refused value: copier checks the
    answers it is given before it writes a file, whichever question refuses."""
    destination = tmp_path / "project"
    # Questions with choices get copier's own message: "Invalid choice for 'key'",
    # or only "Invalid choice" before copier 9.16 (the template allows 9.15).
    message = f"Validation error for question '{key}'|Invalid choice( for '{key}')?"
    with pytest.raises(ValueError, match=message):
        render_project(destination, {key: INVALID[key][0]})
    assert not destination.exists()


@pytest.mark.parametrize("round_", range(max(map(len, VALID.values()))))
def test_valid_answers_are_accepted(render, round_):
    """Every valid value is accepted and recorded as given. A render answers every
    question at once, round i with each question's i-th valid value (cycling), so
    a few renders cover the whole table."""
    answers = {key: values[round_ % len(values)] for key, values in VALID.items()}
    project = render(**answers)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    for key, value in answers.items():
        if key in HTTP_API_ONLY and answers["model_kind"] != "http-api":
            assert key not in recorded  # asked, and recorded, only for http-api
        elif key in EMBEDDINGS_API_ONLY and not (
            answers["model_kind"] == "http-api" and "embeddings" in answers["extras"]
        ):
            assert key not in recorded
        else:
            assert recorded[key] == value, key


def test_http_api_questions_are_not_recorded_for_markov(render):
    project = render(**{key: VALID[key][0] for key in HTTP_API_ONLY})
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert not HTTP_API_ONLY & set(recorded)


@pytest.mark.parametrize(
    "answers, module, model_class, model_id",
    [
        ({"plugin_name": "llm-my-model"}, "llm_my_model", "MyModel", "my-model"),
        (
            {"plugin_name": "llm-x", "model_id": "acme-4.1-mini"},
            "llm_x",
            "Acme41Mini",
            None,
        ),
        ({"model_id": "4x"}, "llm_markov", "Model4x", None),
        ({"model_id": "org/big_model:v2"}, "llm_markov", "OrgBigModelV2", None),
    ],
)
def test_names_are_derived_from_the_answers(
    render, answers, module, model_class, model_id
):
    project = render(**answers)
    source = (project / f"{module}.py").read_text(encoding="utf-8")
    assert f"class {model_class}(MarkovChain, llm.Model):" in source
    assert f"class Async{model_class}(MarkovChain, llm.AsyncModel):" in source
    expected_id = model_id or answers.get("model_id")
    assert f'model_id = "{expected_id}"' in source


@pytest.mark.parametrize(
    "plugin_name, prefix",
    [("llm-acme-chat", "ACME_CHAT"), ("llm-3d-model", "LLM_3D_MODEL")],
)
def test_environment_variables_are_named_for_a_shell(render, plugin_name, prefix):
    """A shell variable cannot start with a digit: LLM_ comes first then."""
    project = render(
        plugin_name=plugin_name, model_kind="http-api", extras=["fragments"]
    )
    module = project / plugin_name.replace("-", "_")
    client = (module / "client.py").read_text(encoding="utf-8")
    assert f'KEY_ENV_VAR = "{prefix}_API_KEY"' in client
    assert f'BASE_URL_ENV_VAR = "{prefix}_BASE_URL"' in client
    fragments = (module / "fragments.py").read_text(encoding="utf-8")
    assert f'MAX_FILES_ENV_VAR = "{prefix}_FRAGMENTS_MAX_FILES"' in fragments
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["key_env_var"] == f"{prefix}_API_KEY"


@pytest.mark.parametrize(
    "protocol, description",
    [
        ("openai-chat", "served by an OpenAI-compatible HTTP API"),
        ("anthropic-messages", "speaking Anthropic's Messages protocol"),
    ],
)
def test_http_api_defaults_name_an_api_plugin(render, protocol, description):
    """Not markov: those names are the Markov kind's. (A project's recorded names
    are kept by updates: test_update_from_releases_api.py.)"""
    project = render(model_kind="http-api", api_protocol=protocol)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    names = [recorded[key] for key in ("plugin_name", "model_id", "model_class")]
    assert names == ["llm-acme-chat", "acme-chat", "AcmeChat"]
    assert description in recorded["description"]
    models = (project / "llm_acme_chat" / "models.py").read_text(encoding="utf-8")
    assert "class AcmeChat(ApiModel, llm.KeyModel):" in models


def test_anthropic_messages_refuses_embeddings_in_one_line(tmp_path):
    answers = {"model_kind": "http-api", "api_protocol": "anthropic-messages"}
    message = "leave out embeddings: anthropic-messages has no embeddings endpoint"
    with pytest.raises(ValueError, match=message):
        render_project(tmp_path / "p", {**answers, "extras": ["tools", "embeddings"]})
    assert not (tmp_path / "p").exists()
    assert validate("extras", ["embeddings"], model_kind="markov") == ""
    assert len(validate("extras", ["embeddings"], **answers)) <= 80


def test_copier_cli_reports_the_validation_message(tmp_path):
    destination = tmp_path / "project"
    copy = ["copy", "--defaults", "--data", "plugin_name=markov"]
    result = run(sys.executable, "-m", "copier", *copy, ROOT, destination)
    assert result.returncode != 0
    assert (
        "Validation error for question 'plugin_name': use llm- then lowercase letters"
        in result.stderr
    )
    assert not destination.exists()


def test_unknown_answer_keys_are_caught_by_the_tests(tmp_path):
    with pytest.raises(AssertionError, match="not questions of copier.yml"):
        render_project(tmp_path / "project", {"plugin_nmae": "llm-typo"})


def test_no_trust_needed():
    config = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    assert not {"_tasks", "_migrations", "_jinja_extensions"} & set(config)


# The reserved names ---------------------------------------------------------------


def test_reserved_names_partial_is_current():
    """includes/validation/names.jinja holds exactly what tests/reserved_names.py
    derives from the installed llm (model ids and aliases, built-in commands) and
    from the rendered plugin (its top-level names, by AST), so that a new llm
    release or a new name in the template fails here, not for a user."""
    problems = reserved_names.stale_entries()
    assert not problems, (
        "includes/validation/names.jinja is out of date; run "
        "`.tools/bin/uv run python tests/reserved_names.py --write`: "
        + "; ".join(problems)
    )


def test_a_stale_partial_is_reported_by_name():
    current = reserved_names.listed()
    stale = {group: set(names) for group, names in current.items()}
    stale["llm_commands"] -= {"keys"}
    stale["llm_model_ids"] |= {"gpt-0"}
    stale["python_names"] -= {"StopIteration"}
    assert reserved_names.differences(current, stale) == [
        "llm_model_ids lists ['gpt-0'], which nothing uses",
        "llm_commands lacks ['keys']",
        "python_names lacks ['StopIteration']",
    ]


def test_the_written_partial_reads_back_as_the_lists(tmp_path):
    """What --write writes is what copier's validators (and listed()) read."""
    import jinja2

    lists = {
        "llm_model_ids": {"gpt-4o", "4o"},
        "llm_commands": {"keys", "embed-multi"},
        "plugin_names": {"TIMEOUT", "_Private", "Any"},
        "class_patterns": {"{}", "Async{}"},
    }
    text = reserved_names.partial_text(lists, {"StopIteration"})
    (tmp_path / "names.jinja").write_text(text, encoding="utf-8")
    loader = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path))
    module = loader.get_template("names.jinja").module
    for group, names in lists.items():
        assert set(getattr(module, group)) == names, group
    assert list(module.python_names) == ["StopIteration"]
    assert "uv run python tests/reserved_names.py --write" in text


def test_top_level_names_are_found_in_blocks_but_not_in_functions():
    source = """
import os.path
from typing import Any as Whatever
X: int = 1
A, (B, C) = 1, (2, 3)
try:
    import tomllib
except ImportError:
    TOMLLIB = None
if X:
    def f():
        INNER = 1
    class K:
        ATTRIBUTE = 1
"""
    assert reserved_names.top_level_names(source) == {
        "os",
        "Whatever",
        "X",
        "A",
        "B",
        "C",
        "tomllib",
        "TOMLLIB",
        "f",
        "K",
    }


def test_the_renders_cover_every_choice_of_the_code():
    """The renders that find the plugin's names: every model kind with every
    subset of the extras (the script), or with none, each alone and all (the
    test's first pass)."""
    every = reserved_names.code_answer_sets()
    few = reserved_names.code_answer_sets(every_combination=False)
    # The http-api kind once per wire protocol.
    kinds = len(MODEL_KINDS) - 1 + len(CONFIG["api_protocol"]["choices"])
    assert len(every) == kinds * 2 ** len(EXTRAS)
    assert len(few) == kinds * (len(EXTRAS) + 2)
    assert {answers["model_kind"] for answers in every} == set(MODEL_KINDS)
    assert all(answers in every for answers in few)
