"""Property-based tests of the questions: every answer the validators accept renders a
sound project, and the validators accept exactly the documented spaces.

Hypothesis draws answers from each question's space. The validators are evaluated
through tests/answer_space.py (cheap: thousands of examples); real renders check that
it agrees with copier, and a bounded number of whole answer sets is rendered, parsed,
linted and turned into package metadata in every run; a few pass every job of the
generated CI (lint, format, type check, tests, package). More examples:
TEMPLATE_PROPERTY_SCALE=20 .tools/bin/uv run pytest tests/test_answers.py
"""

import builtins
import io
import itertools
import os
import re
import sys
import unicodedata
from pathlib import Path

import pytest
import tomllib
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

from answer_space import (
    CONFIG,
    answers_with_defaults,
    copier_message,
    environment,
    forbidden,
    pypi_accepts_email,
    pypi_metadata_errors,
    validate,
)
from conftest import EXTRAS, MODEL_KINDS, PROTOCOL_EXTRAS, PROTOCOLS, render_project
from plugin_env import check
from reserved_names import CLASS_NAME, listed, llm_commands, llm_model_ids
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
QUESTIONS_WITH_VALIDATORS = [
    key for key, question in CONFIG.items() if "validator" in question
]


def accepted(key: str, strategy, **answers):
    return strategy.filter(lambda value: validate(key, value, **answers) == "")


def visible_text(max_size: int):
    return ANY_TEXT.map(lambda text: text[:max_size].strip()).filter(
        lambda text: text and not any(map(forbidden, text))
    )


# The validators against their documented spaces -----------------------------------

MODEL_IDS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}\Z")
# Ids from 44 to 64 characters: the README's Python lines with the id reach 88
# columns from 48 (embedding model) and 54 characters on.
LONG_MODEL_IDS = st.integers(44, 64).flatmap(
    lambda size: st.from_regex(rf"\A[a-z0-9][a-z0-9._:/-]{{{size - 1}}}\Z")
)
CLASS_NAMES = st.from_regex(r"\A_{0,2}[A-Z][A-Za-z0-9_]{0,30}\Z").map(lambda s: s[:31])
# Every validator message starts with what to do.
VERBS = {"use", "write", "remove", "leave"}
TEXT_PARTIAL = "includes/validation/text.jinja"


# The validators against their documented spaces -----------------------------------


def test_the_invisible_class_is_written_once_and_matches_unicode():
    """The character class that description and author_name refuse lives in one
    partial, and is exactly the forbidden code points of this Python's Unicode
    database (unassigned ones may differ between versions)."""
    invisible = environment().get_template(TEXT_PARTIAL).module.invisible
    pattern = re.compile(invisible)
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        if unicodedata_assigned(character):
            assert bool(pattern.match(character)) is forbidden(character), hex(
                code_point
            )
    copier_yml = (Path(__file__).parent.parent / "copier.yml").read_text("utf-8")
    assert "\\\\u200b" not in copier_yml  # no copy of the class left behind
    for key in ("description", "author_name"):
        assert "regex_search(invisible)" in CONFIG[key]["validator"], key


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
@example("llm-keys")
@example("llm-models")
@example("llm-install")
@example("llm-keys-extra")
def test_plugin_name(name):
    """llm-, lowercase words, at most 40 characters, and not llm- and one of llm's
    own commands (from llm itself, not from the partial)."""
    expected = (
        bool(re.fullmatch(r"llm-[a-z0-9]+(-[a-z0-9]+)*", name))
        and len(name) <= 40
        and name.removeprefix("llm-") not in llm_commands()
    )
    assert (validate("plugin_name", name) == "") is expected, name


@fast
@given(
    accepted("plugin_name", PLUGIN_NAMES | LONG_PLUGIN_NAMES),
    st.sampled_from(PROTOCOLS),
)
@example(name="llm-4", protocol="openai-chat")  # 4 is an alias of gpt-4
@example(name="llm-3d-model", protocol="anthropic-messages")
def test_every_default_an_accepted_plugin_name_gives_is_accepted(name, protocol):
    """--defaults never stops at a question the user did not answer: each default
    derived from the plugin's name (model id, class, key name and its environment
    variable, API model names) passes its own validator."""
    given = {"plugin_name": name, "model_kind": "http-api", "api_protocol": protocol}
    full = answers_with_defaults(**given, extras=PROTOCOL_EXTRAS[protocol])
    for key in QUESTIONS_WITH_VALIDATORS:
        if key in full and key not in given:
            assert validate(key, full[key], **given) == "", (key, full[key])


def test_every_command_of_llm_is_refused_as_the_short_name():
    """`llm-keys` with the commands extra would replace `llm keys`: every built-in
    command of the installed llm is refused, whatever the extras."""
    commands = llm_commands()
    assert {"keys", "models", "install", "plugins", "prompt"} <= commands
    for command in commands:
        message = validate("plugin_name", f"llm-{command}")
        assert (
            message == f"use another name: llm {command} is one of llm's own commands"
        )


def test_every_model_id_of_llm_is_refused_in_any_letter_case():
    ids = llm_model_ids()
    assert {"gpt-4o", "4o", "3-small", "text-embedding-3-small"} <= ids
    for model_id in ids:
        for variant in (model_id, model_id.upper()):
            message = validate("model_id", variant)
            assert message == f"use another id: {variant} is one of llm's own models"
            assert_one_line_that_says_what_is_allowed(message)


@fast
@given(MODEL_IDS | LONG_MODEL_IDS | st.text(max_size=70))
def test_model_id(model_id):
    expected = (
        bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:/-]*", model_id))
        and len(model_id) <= 64
        and model_id.lower() not in llm_model_ids()
    )
    assert (validate("model_id", model_id) == "") is expected, model_id


def taken_class_names() -> set[str]:
    """The names model_class and the classes named after it must not take: every
    top-level name of the rendered plugin (from the partial, which
    tests/test_questions.py checks against the renders) and every built-in of
    this Python."""
    names = listed()
    return names["plugin_names"] | names["python_names"] | set(dir(builtins))


def test_model_class_cannot_shadow_a_name_of_the_plugin_or_python():
    """For every taken name and every class the code names after model_class
    (AsyncX for X...), the model_class that would make that name is refused."""
    patterns = listed()["class_patterns"]
    assert {"{}", "Async{}"} <= patterns
    clashes = set()
    for name, pattern in itertools.product(taken_class_names(), patterns):
        prefix, suffix = pattern.split("{}")
        middle = name.removeprefix(prefix).removesuffix(suffix)
        if prefix + middle + suffix == name and CLASS_NAME.match(middle):
            clashes.add(middle)
    clashes -= {"False", "None", "True"}
    assert {"Notebook", "Generator", "TextPart", "StopIteration"} <= clashes
    messages = {name: validate("model_class", name) for name in clashes}
    allowed = sorted(name for name, message in messages.items() if not message)
    assert allowed == [], "model_class accepts names the plugin's code or Python uses"
    for message in messages.values():
        assert_one_line_that_says_what_is_allowed(message)


@fast
@given(CLASS_NAMES | st.text(max_size=40))
@example("Notebook")
@example("Generator")
@example("FooError")
@example("None")
def test_model_class(name):
    taken = taken_class_names()
    expected = (
        bool(CLASS_NAME.match(name))
        and name not in {"False", "None", "True"}
        and len(name) <= 31
        and not re.search(r"(Error|Exception|Warning)\Z", name)
        and not {pattern.replace("{}", name) for pattern in listed()["class_patterns"]}
        & taken
    )
    assert (validate("model_class", name) == "") is expected, name


# Every validator's message ----------------------------------------------------------

VALIDATED = [key for key, question in CONFIG.items() if "validator" in question]
# One value per branch of each validator's messages (and some of the others').
EVERY_MESSAGE = [
    ("plugin_name", "llm-markov", {"module_name": "os"}),
    ("plugin_name", "llm-markov", {"short_name": "x"}),
    ("plugin_name", "llm-markov", {"base_url_env_var": "X"}),
    ("plugin_name", "llm-My Plugin", {}),
    ("plugin_name", "llm-" + "a" * 50, {}),
    ("plugin_name", "llm-embed-models", {}),
    ("model_id", "-x", {}),
    ("model_id", "x" * 70, {}),
    ("model_id", "TEXT-EMBEDDING-3-LARGE-1024", {}),
    ("model_class", "my model", {}),
    ("model_class", "A" * 40, {}),
    ("model_class", "ParseError", {}),
    ("model_class", "TextPart", {}),
    ("model_class", "Generator", {}),  # AsyncGenerator is imported
    ("description", "", {}),
    ("description", " x", {}),
    ("description", "a\nb", {}),
    ("description", "x" * 600, {}),
    ("author_name", " x", {}),
    ("author_name", "a\tb", {}),
    ("author_name", "x" * 101, {}),
    ("author_email", "a@-x.y", {}),
    ("github_username", "-x", {}),
    (
        "extras",
        ["embeddings"],
        {"model_kind": "http-api", "api_protocol": "anthropic-messages"},
    ),
    ("copyright_year", "26", {}),
    ("api_base_url", "ftp://x", {}),
    ("api_model", " x", {}),
    ("embedding_api_model", " x", {}),
    ("key_name", "A B", {}),
    ("key_env_var", "a-b", {}),
]


def assert_one_line_that_says_what_is_allowed(message: str) -> None:
    """copier shows the message under an interactive question, on one line."""
    assert "\n" not in message and len(message) <= 80, message
    assert message.split()[0] in VERBS, message


@pytest.mark.parametrize("key, value, answers", EVERY_MESSAGE)
def test_every_message_is_one_line_that_says_what_is_allowed(key, value, answers):
    message = validate(key, value, **answers)
    assert message, (key, value)
    assert_one_line_that_says_what_is_allowed(message)


def message_patterns(key: str) -> list[re.Pattern]:
    """The messages of a validator: its text between Jinja tags, with each
    `{{ expression }}` standing for any text."""
    chunks = re.split(r"\{%.*?%\}", CONFIG[key]["validator"], flags=re.DOTALL)
    return [
        re.compile(re.sub(r"\\\{\\\{.*?\\\}\\\}", ".+", re.escape(chunk.strip())))
        for chunk in chunks
        if chunk.strip()
    ]


@pytest.mark.parametrize("key", VALIDATED)
def test_the_table_has_every_message(key):
    """Each message a validator can give is in EVERY_MESSAGE, so the test above
    checks every one."""
    produced = [validate(k, v, **a) for k, v, a in EVERY_MESSAGE if k == key]
    for pattern in message_patterns(key):
        assert any(pattern.fullmatch(message) for message in produced), pattern


@fast
@given(
    key=st.sampled_from(VALIDATED),
    value=ANY_TEXT | MODEL_IDS | CLASS_NAMES | PLUGIN_NAMES | st.emails(),
)
def test_any_answer_gets_one_line_that_says_what_is_allowed(key, value):
    message = validate(key, value)
    if message:
        assert_one_line_that_says_what_is_allowed(message)


def test_every_help_fits_the_question_line():
    for key, question in CONFIG.items():
        if not key.startswith("_"):
            assert len(question.get("help", "")) <= 78, key
    # The choices show names; the answer recorded is the SPDX id.
    assert "SPDX id, like Apache-2.0" in CONFIG["license"]["help"]
    assert "Apache-2.0" in CONFIG["license"]["choices"].values()


def test_derived_names_cannot_be_set(tmp_path):
    """copier never validates a `when: false` question: plugin_name's validator
    refuses a derived name passed with --data, unless it agrees."""
    for key, value in [
        ("module_name", "os"),
        ("short_name", "x"),
        ("env_prefix", "X"),
        ("base_url_env_var", "X"),
    ]:
        destination = tmp_path / key
        with pytest.raises(ValueError, match="'plugin_name': leave out module_name"):
            render_project(destination, {key: value})
        assert not destination.exists()
    project = render_project(tmp_path / "agrees", {"module_name": "llm_markov"})
    assert (project / "llm_markov.py").is_file()


# The validator harness agrees with copier ------------------------------------------


@pytest.mark.parametrize(
    "key, answers",
    [
        ("description", {"description": " padded"}),
        ("description", {"description": "ok \u202e bidi"}),
        ("author_email", {"author_email": "a@-x.y"}),
        ("model_class", {"model_class": "TextPart"}),
        ("model_class", {"model_class": "Generator"}),
        ("model_id", {"model_id": "4o"}),
        ("plugin_name", {"plugin_name": "llm-" + "a" * 37}),
        ("plugin_name", {"plugin_name": "llm-keys", "extras": ["commands"]}),
        ("plugin_name", {"module_name": "os"}),
    ],
)
def test_harness_agrees_with_copier(tmp_path, key, answers):
    value = answers.get(key, CONFIG[key]["default"])
    message = validate(key, value, **answers)
    assert message
    destination = tmp_path / "project"
    with pytest.raises(ValueError) as raised:
        render_project(destination, answers)
    assert str(raised.value) == copier_message(key, message)
    assert not destination.exists()


# Whole answer sets, rendered ------------------------------------------------------

# Long values included: the generated lines that hold them (`DEFAULT_BASE_URL =
# "..."`, the model table's api_model) pass 88 columns and still pass `ruff format
# --check`, which leaves a string it cannot split as it is.
API_BASE_URLS = st.from_regex(
    r"\Ahttps?://[a-z0-9.-]{1,60}(:[0-9]{1,5})?(/[a-z0-9/]{0,80})?\Z"
)
API_MODELS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,120}\Z")
HTTP_API_QUESTIONS = {
    "api_base_url",
    "api_model",
    "embedding_api_model",
    "key_name",
    "key_env_var",
}


@st.composite
def answer_sets(draw, model_kind=None):
    answers = {
        "plugin_name": draw(accepted("plugin_name", PLUGIN_NAMES | LONG_PLUGIN_NAMES)),
        "model_kind": model_kind or draw(st.sampled_from(MODEL_KINDS)),
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
    # The model id and class: derived (their defaults) or typed, of any length.
    model_id = draw(st.none() | accepted("model_id", MODEL_IDS | LONG_MODEL_IDS))
    if model_id is not None:
        answers["model_id"] = model_id
    model_class = draw(st.none() | accepted("model_class", CLASS_NAMES))
    if model_class is not None:
        answers["model_class"] = model_class
    if answers["model_kind"] == "http-api":
        protocol = draw(st.sampled_from(PROTOCOLS))
        answers["api_protocol"] = protocol
        extras = PROTOCOL_EXTRAS[protocol]
        answers["extras"] = [extra for extra in answers["extras"] if extra in extras]
        answers |= {
            "api_base_url": draw(API_BASE_URLS),
            "api_model": draw(API_MODELS),
            "key_name": draw(st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,39}\Z")),
            "key_env_var": draw(st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,63}\Z")),
        }
        if "embeddings" in answers["extras"]:
            answers["embedding_api_model"] = draw(API_MODELS)
        for key in set(answers) & HTTP_API_QUESTIONS:
            assume(validate(key, answers[key], **answers) == "")
    # A derived default can be refused (llm-gpt-4o gives the model id gpt-4o, which
    # llm has): copier then asks for another answer, so such sets are not drawn.
    derived = answers_with_defaults(**answers)
    for key in ("model_id", "model_class"):
        assume(validate(key, derived[key], **answers) == "")
    return answers


HOSTILE_512 = ('"quoted" \\ {{ x }} # *b* `code` 👩\u200d💻 中文 ' * 20)[:512].strip()
# The longest names every question allows, with the extras, in both kinds.
LONGEST = [
    {
        "plugin_name": "llm-" + "a" * 36,
        "model_kind": "markov",
        "model_id": ("Org/big_model-v2.5:" * 4)[:64],
        "description": HOSTILE_512,
        "author_name": "Zoë O'Brien",
        "author_email": "zoe.o'brien+llm@example.co.uk",
        "github_username": "o" * 39,
        "license": "Proprietary",
        "readme_language": "zh",
        "github_actions": True,
        "extras": EXTRAS,
    },
    {
        # The longest short name: its key_env_var is 44 characters.
        "plugin_name": "llm-" + "c" * 36,
        "model_kind": "http-api",
        "model_id": "d" * 64,
        "model_class": "M" + "x" * 30,
        "description": "Plain",
        "license": "MIT",
        "readme_language": "en",
        "api_base_url": "https://api.example.com:8443/" + "v" * 38,
        "api_model": "m" * 64,
        "embedding_api_model": "e" * 64,
        "key_name": "k" * 40,
        # Not tools: both plugins are installed together (see batches()).
        "extras": [extra for extra in EXTRAS if extra != "tools"],
    },
]


@renders
@given(answers=answer_sets())
@example(answers=LONGEST[0])
@example(answers={"model_id": "x" * 54, "extras": []})
@example(answers={"model_id": "y" * 48, "extras": ["embeddings"]})
def test_accepted_answers_render_a_sound_project(tmp_path_factory, answers):
    project = render_project(tmp_path_factory.mktemp("p") / "p", answers)
    typed = [value for value in answers.values() if isinstance(value, str) and value]
    check_every_file_parses(project, typed)

    full = answers_with_defaults(**answers)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["description"] == full["description"]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    for key, value in answers.items():
        # copier records a multiselect answer in the order of its choices.
        same = sorted(recorded[key]) == sorted(value) if key == "extras" else None
        assert same or recorded[key] == value, key
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert full["description"] in markdown_text(readme).splitlines()

    # The rendered README's Python code blocks are formatted too.
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
    key=st.sampled_from(
        ["description", "author_name", "author_email", "plugin_name", "model_id"]
    ),
    value=ANY_TEXT,
)
def test_rejected_answers_write_nothing(tmp_path_factory, key, value):
    message = validate(key, value)
    assume(message)
    destination = tmp_path_factory.mktemp("rejected") / "project"
    with pytest.raises(ValueError, match=re.escape(copier_message(key, message))):
        render_project(destination, {key: value})
    assert not destination.exists()
