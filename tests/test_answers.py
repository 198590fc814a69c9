"""Property-based tests of the questions: every answer the validators accept renders a
sound project, and the validators accept exactly the documented spaces.

Hypothesis draws answers from each question's space. The validators are evaluated
through tests/answer_space.py (cheap: thousands of examples); real renders check that
it agrees with copier, and a bounded number of whole answer sets is rendered, parsed,
linted and turned into package metadata in every run. More examples:
TEMPLATE_PROPERTY_SCALE=20 .tools/bin/uv run pytest tests/test_answers.py -m uv run pytest tests/test_answers.py
"""

import builtins
import io
import os
import re
import sys
import unicodedata
from pathlib import Path

import llm
import pytest
import tomllib
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

from answer_space import (
    CLASS_NAME,
    CONFIG,
    answers_with_defaults,
    copier_message,
    forbidden,
    names_in_module,
    pypi_accepts_email,
    pypi_metadata_errors,
    validate,
)
from conftest import EXTRAS, MODEL_KINDS, PROTOCOL_EXTRAS, PROTOCOLS, render_project
from plugin_env import check
from test_rendering import check_every_file_parses, markdown_text

# Scales every property test: 1 in the default suite, 20 or more for a deep search.
SCALE = int(os.environ.get("TEMPLATE_PROPERTY_SCALE", "1"))
RENDERS = 5 * SCALE
RUFF = (sys.executable, "-m", "ruff")

fast = settings(max_examples=30 * SCALE, deadline=None)
renders = settings(
    max_examples=RENDERS,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def core_metadata(project: Path) -> str:
    """The PKG-INFO that setuptools writes for the project, made in-process."""
    distribution = Distribution()
    current = Path.cwd()
    os.chdir(project)
    try:
        apply_configuration(distribution, project / "pyproject.toml")
    finally:
        os.chdir(current)
    buffer = io.StringIO()
    distribution.metadata.write_pkg_file(buffer)
    return buffer.getvalue()


# Answer spaces ---------------------------------------------------------------------

ANY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=80
) | st.text(max_size=600)
PLUGIN_NAMES = st.from_regex(r"\Allm-[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,3}\Z")
LONG_PLUGIN_NAMES = st.from_regex(r"\Allm-[a-z0-9]{30,40}\Z")


def accepted(key: str, strategy, **answers):
    return strategy.filter(lambda value: validate(key, value, **answers) == "")


def visible_text(max_size: int):
    return ANY_TEXT.map(lambda text: text[:max_size].strip()).filter(
        lambda text: text and not any(map(forbidden, text))
    )


# The validators against their documented spaces -----------------------------------


def test_the_forbidden_class_is_derived_from_unicode_categories():
    """The character class in copier.yml is exactly the forbidden code points of
    this Python's Unicode database (unassigned ones may differ between versions)."""
    validator = CONFIG["description"]["validator"]
    [escaped] = re.findall(r"regex_search\('\[(\\\\x00[^']*)\]'\)", validator)
    pattern = re.compile("[" + escaped.replace("\\\\", "\\") + "]")
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        if unicodedata_assigned(character):
            assert bool(pattern.match(character)) is forbidden(character), hex(
                code_point
            )


def unicodedata_assigned(character: str) -> bool:
    return unicodedata.category(character) != "Cn"


@fast
@given(ANY_TEXT)
@example(" leading")
@example("trailing ")
@example("bidi \u202e override")
@example("zero\u200bwidth")
@example("line\u2028separator")
@example("next\x85line")
@example("x" * 513)
@example("emoji 👩\u200d💻 and 中文")
def test_description_accepts_exactly_one_line_of_visible_text(text):
    message = validate("description", text)
    expected = (
        bool(text)
        and text == text.strip()
        and not any(map(forbidden, text))
        and len(text) <= 512
    )
    assert (message == "") is expected, (text, message)
    assert len(message) <= 80


@fast
@given(ANY_TEXT)
def test_author_name_accepts_visible_text_that_fits_the_metadata(text):
    message = validate("author_name", text)
    expected = (
        text == text.strip() and not any(map(forbidden, text)) and len(text) <= 100
    )
    assert (message == "") is expected, (text, message)


@fast
@given(st.emails())
@example("a@-x.y")
@example("a..b@example.com")
@example(".a@example.com")
@example("a.@example.com")
@example("a@example.local")
@example("a@example.123")
@example("a@ex--ample.com")
def test_author_email_accepts_what_pypi_accepts(address):
    """Hypothesis' emails() are RFC 5322 addresses with ASCII domains: the validator
    takes exactly those that PyPI's check (email-validator) takes, but for
    internationalized (punycode, xn--) domains, which it refuses: checking their
    encoding is beyond a pattern."""
    accepted = validate("author_email", address) == ""
    if "xn--" in address.lower():
        assert not accepted
    else:
        assert accepted is pypi_accepts_email(address)


@fast
@given(st.text(st.characters(codec="ascii"), max_size=40).map(lambda s: s + "@x.io"))
def test_author_email_never_accepts_what_pypi_rejects(address):
    if validate("author_email", address) == "":
        assert pypi_accepts_email(address), address


@fast
@given(st.text(max_size=60) | PLUGIN_NAMES | LONG_PLUGIN_NAMES)
def test_plugin_name(name):
    expected = (
        bool(re.fullmatch(r"llm-[a-z0-9]+(-[a-z0-9]+)*", name)) and len(name) <= 40
    )
    assert (validate("plugin_name", name) == "") is expected, name


def test_model_ids_of_llm_are_reserved_and_the_list_is_current():
    """The model ids and aliases llm ships (without plugins) are exactly the list in
    copier.yml, and each is refused in any letter case."""
    shipped = set()
    for model in llm.get_models_with_aliases():
        shipped |= {model.model.model_id, *model.aliases}
    for model in llm.get_embedding_models_with_aliases():
        shipped |= {model.model.model_id, *model.aliases}
    validator = CONFIG["model_id"]["validator"]
    listed = set(re.findall(r"'([^']+)'", validator.split("lower in [")[1]))
    assert listed == {name.lower() for name in shipped}
    for name in shipped:
        for variant in (name, name.upper()):
            assert "llm already has" in validate("model_id", variant), variant


@pytest.mark.parametrize(
    "model_kind, protocol",
    [(kind, "openai-chat") for kind in MODEL_KINDS] + [("http-api", PROTOCOLS[1])],
)
def test_model_class_cannot_shadow_a_name_of_the_module(tmp_path, model_kind, protocol):
    """Every top-level name of the rendered modules (with every extra), and every
    built-in name a class could take, is refused as model_class, as is X when
    AsyncX is taken."""
    answers = {"model_kind": model_kind, "extras": PROTOCOL_EXTRAS[protocol]}
    answers |= {"api_protocol": protocol, "plugin_name": "llm-markov"}
    project = render_project(tmp_path / "p", answers)
    names = set(dir(builtins))
    for path in (project / "llm_markov").glob("*.py"):
        names |= names_in_module(path.read_text(encoding="utf-8"))
    own = {"Markov", "AsyncMarkov"}  # the model classes themselves
    candidates = {name for name in names - own if CLASS_NAME.match(name)}
    candidates |= {
        name.removeprefix("Async")
        for name in names - own
        if name.startswith("Async") and CLASS_NAME.match(name.removeprefix("Async"))
    }
    allowed = sorted(name for name in candidates if validate("model_class", name) == "")
    assert allowed == [], f"add these to model_class's list of taken names: {allowed}"


@fast
@given(st.from_regex(r"\A_*[A-Za-z][A-Za-z0-9_]{0,40}\Z"))
def test_model_class_messages_fit_a_terminal(name):
    message = validate("model_class", name)
    assert len(message) <= 80, message


def test_every_message_fits_80_columns_and_states_the_rule():
    """copier shows the message under an interactive question on one line."""
    cases = {
        "plugin_name": ["llm-My Plugin", "llm-" + "a" * 50],
        "model_id": ["-x", "gpt-4o", "x" * 70],
        "model_class": ["my model", "TextPart", "A" * 40],
        "description": ["", " x", "a\nb", "x" * 600],
        "author_name": [" x", "a\tb"],
        "author_email": ["a@-x.y"],
        "github_username": ["-x"],
        "copyright_year": ["26"],
        "api_base_url": ["ftp://x"],
        "api_model": [" x"],
        "embedding_api_model": [" x"],
        "key_name": ["A B"],
        "key_env_var": ["a-b"],
    }
    for key, values in cases.items():
        for value in values:
            message = validate(key, value)
            assert message, (key, value)
            assert len(message) <= 80, message
            # The rule comes first: the message starts with what to do.
            assert message.split()[0] in {"use", "write", "remove"} or " is " in (
                message
            ), message
    for key, question in CONFIG.items():
        if not key.startswith("_"):
            assert len(question.get("help", "")) <= 78, key


def test_derived_names_cannot_be_set(tmp_path):
    for key, value in [
        ("module_name", "os"),
        ("short_name", "x"),
        ("base_url_env_var", "X"),
    ]:
        destination = tmp_path / key
        with pytest.raises(ValueError, match="come from plugin_name"):
            render_project(destination, {key: value})
        assert not destination.exists()


# The validator harness agrees with copier ------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("description", " padded"),
        ("description", "ok \u202e bidi"),
        ("author_email", "a@-x.y"),
        ("model_class", "TextPart"),
        ("model_id", "4o"),
        ("plugin_name", "llm-" + "a" * 37),
    ],
)
def test_harness_agrees_with_copier(tmp_path, key, value):
    message = validate(key, value)
    assert message
    destination = tmp_path / "project"
    with pytest.raises(ValueError) as raised:
        render_project(destination, {key: value})
    assert str(raised.value) == copier_message(key, message)
    assert not destination.exists()


# Whole answer sets, rendered ------------------------------------------------------


@st.composite
def answer_sets(draw):
    answers = {
        "plugin_name": draw(accepted("plugin_name", PLUGIN_NAMES | LONG_PLUGIN_NAMES)),
        "model_kind": draw(st.sampled_from(MODEL_KINDS)),
        "description": draw(accepted("description", visible_text(512))),
        "author_name": draw(accepted("author_name", st.just("") | visible_text(100))),
        "author_email": draw(st.just("") | accepted("author_email", st.emails())),
        "github_username": draw(
            accepted("github_username", st.from_regex(r"\A[A-Za-z0-9-]{0,39}\Z"))
        ),
        "license": draw(st.sampled_from(list(CONFIG["license"]["choices"].values()))),
        "readme_language": draw(st.sampled_from(["en", "zh"])),
        "github_actions": draw(st.booleans()),
        "extras": draw(st.lists(st.sampled_from(EXTRAS), unique=True)),
    }
    if answers["model_kind"] == "http-api":
        protocol = draw(st.sampled_from(PROTOCOLS))
        answers["api_protocol"] = protocol
        extras = PROTOCOL_EXTRAS[protocol]
        answers["extras"] = [extra for extra in answers["extras"] if extra in extras]
        answers |= {
            "api_base_url": draw(
                st.from_regex(
                    r"\Ahttps?://[a-z0-9.-]{1,30}(:[0-9]{1,5})?(/[a-z0-9/]{0,20})?\Z"
                )
            ),
            "api_model": draw(
                st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,60}\Z")
            ),
            "key_name": draw(st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,39}\Z")),
            "key_env_var": draw(st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,39}\Z")),
        }
        for key in ("api_base_url", "api_model", "key_name", "key_env_var"):
            assume(validate(key, answers[key], **answers) == "")
    # A derived default can be refused (llm-gpt-4o gives the model id gpt-4o, which
    # llm has): copier then asks for another answer, so such sets are not drawn.
    derived = answers_with_defaults(**answers)
    for key in ("model_id", "model_class"):
        assume(validate(key, derived[key], **answers) == "")
    return answers


@renders
@given(answers=answer_sets())
@example(
    answers={
        "plugin_name": "llm-" + "a" * 36,
        "model_kind": "markov",
        "description": '"quoted" \\ {{ x }} # *b* 👩\u200d💻',
        "author_name": "Zoë O'Brien",
        "author_email": "zoe.o'brien+llm@example.co.uk",
        "github_username": "o" * 39,
        "license": "Proprietary",
        "readme_language": "zh",
        "github_actions": True,
        "extras": EXTRAS,
    }
)
def test_accepted_answers_render_a_sound_project(tmp_path_factory, answers):
    project = render_project(tmp_path_factory.mktemp("p") / "p", answers)
    typed = [value for value in answers.values() if isinstance(value, str) and value]
    check_every_file_parses(project, typed)

    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["description"] == answers["description"]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    for key, value in answers.items():
        # copier records a multiselect answer in the order of its choices.
        same = sorted(recorded[key]) == sorted(value) if key == "extras" else None
        assert same or recorded[key] == value, key
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert answers["description"] in markdown_text(readme).splitlines()

    for command in (("check", "--no-cache"), ("format", "--no-cache", "--check")):
        check(*RUFF, *command, ".", cwd=project)

    metadata = core_metadata(project)
    assert pypi_metadata_errors(metadata) == []


@settings(
    max_examples=max(2, RENDERS // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    key=st.sampled_from(["description", "author_name", "author_email", "plugin_name"]),
    value=ANY_TEXT,
)
def test_rejected_answers_write_nothing(tmp_path_factory, key, value):
    message = validate(key, value)
    assume(message)
    destination = tmp_path_factory.mktemp("rejected") / "project"
    with pytest.raises(ValueError, match=re.escape(copier_message(key, message))):
        render_project(destination, {key: value})
    assert not destination.exists()
