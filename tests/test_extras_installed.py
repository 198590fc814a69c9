"""The extras installed with the real llm: a project of each kind with every extra
passes the extras' own tests, and `llm` drives each extra for real (llm embed,
embed-multi, similar, -T, -f, the plugin's commands) and their error paths.

TEMPLATE_ALL_COMBINATIONS=1 also installs every combination of extras (16 subsets
for each kind) and runs its whole test suite, lint and ty; CI runs that in a job of
its own.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import install_editable
from test_answers import LONGEST
from test_extras import (
    ALL_COMBINATIONS,
    EXTRAS,
    KINDS,
    TY,
    render_kind,
    subsets,
    ty_diagnostics,
)
from test_extras import (
    HOOKS as EXTRA_HOOKS,
)
from test_layout import repeated_runs

LLM_ECHO = "llm-echo==0.5"  # a debug model that asks for the tool calls it is told to
# The http-api render's names (plugin llm-markov): its key and base URL variables.
API_KEY = "sk-test-extras"
KEY_ENV_VAR = "MARKOV_API_KEY"
BASE_URL_ENV_VAR = "MARKOV_BASE_URL"
HOOKS = sorted(["register_models", *EXTRA_HOOKS.values()])


def assert_clean_error(result, message: str) -> None:
    """A user error: exit code 1, one line on standard error, no traceback."""
    assert result.exit_code == 1, result
    assert result.traceback is None, result.traceback
    assert result.stderr.strip() == message, result.stderr


def assert_ok(result) -> str:
    assert result.exit_code == 0 and result.traceback is None, result
    return result.stdout


# Fixtures -----------------------------------------------------------------------


def install_full(kind: str, root: Path):
    """A project of one kind with all extras, installed editable in its own venv."""
    project = render_kind(root / "llm-markov", kind, EXTRAS)
    return project, install_editable(project, root / ".venv")


@pytest.fixture(scope="module")
def markov_full(tmp_path_factory):
    """With llm-echo beside it: the Markov model cannot call tools itself."""
    project, env = install_full("markov", tmp_path_factory.mktemp("full-markov"))
    env.pip_install(LLM_ECHO)
    return project, env


@pytest.fixture(scope="module")
def http_api_full(tmp_path_factory):
    return install_full("http-api", tmp_path_factory.mktemp("full-http-api"))


def load_module(path: Path):
    """A module of a rendered project's tests, loaded from its file; the modules
    beside it (fake_api.py imports loopback.py) are importable too."""
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fake_api(http_api_full):
    """The rendered project's own fake of the API, on 127.0.0.1, serving the `llm`
    processes: chat completions, embeddings and the model list."""
    fake_api = load_module(http_api_full[0] / "tests" / "fake_api.py").FakeAPI
    with fake_api(api_key=API_KEY, model="markov") as server:
        server.models = ["markov", "markov-large"]
        yield server


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> Path:
    """A folder of three small texts and a file that is not UTF-8 beside it."""
    root = tmp_path_factory.mktemp("texts")
    folder = root / "animals"
    (folder / "more").mkdir(parents=True)
    (folder / "cats.txt").write_text("the cat sat on the mat and purred\n", "utf-8")
    (folder / "dogs.txt").write_text("a dog barked at the postman\n", "utf-8")
    (folder / "more" / "fish.md").write_text(
        "goldfish swim in a bowl of water\n", "utf-8"
    )
    latin1 = root / "latin1"
    latin1.mkdir()
    (latin1 / "café.txt").write_bytes("un café crème".encode("latin-1"))
    return root


# Installed projects with every extra ----------------------------------------------


def test_the_longest_answers_cover_every_extra_but_one():
    """What test_the_http_api_tools_tests_pass leaves to test_answers_ci_jobs.py."""
    markov, http_api = LONGEST
    assert markov["model_kind"] == "markov"
    assert sorted(markov["extras"]) == sorted(EXTRAS)
    assert http_api["model_kind"] == "http-api"
    assert sorted({*http_api["extras"], "tools"}) == sorted(EXTRAS)


def test_the_http_api_tools_tests_pass(http_api_full):
    """The rendered project's tools tests on the installed http-api plugin. The
    other generated tests of both kinds with every extra run in
    test_answers_ci_jobs.py
    (test_accepted_answers_pass_every_ci_job, on the longest answers of each kind;
    its http-api project leaves the tools extra out, because two plugins of this
    template, installed together, would register the same tool), and the
    hostile-server and client suites again in test_http_client.py, at the lowest
    allowed versions."""
    project, env = http_api_full
    result = env.run("python", "-m", "pytest", "-q", "tests/test_tools.py", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and " failed" not in result.stdout


def plugin_hooks(result) -> list[str]:
    """The hooks that `llm plugins` lists for llm-markov."""
    plugins = json.loads(assert_ok(result))
    return sorted(next(p for p in plugins if p["name"] == "llm-markov")["hooks"])


def test_markov_extras_through_the_cli(markov_full, texts, tmp_path):
    _, env = markov_full
    animals = texts / "animals"
    # llm-echo asks for the tool calls of a JSON prompt; "raw" is its first answer.
    arguments = {"text": "strawberry", "substring": "R"}
    echo_tool_call = json.dumps(
        {
            "tool_calls": [{"name": "count_occurrences", "arguments": arguments}],
            "raw": "",
        }
    )
    # Two calls of the toolbox's tools, which share one notebook.
    echo_notebook_calls = json.dumps(
        {
            "tool_calls": [
                {"name": "Notebook_add", "arguments": {"note": "the cat sat"}},
                {"name": "Notebook_read", "arguments": {}},
            ],
            "raw": "",
        }
    )
    (
        plugins,
        embed,
        embed_multi,
        similar,
        tools_list,
        tool_chain,
        loaders,
        with_fragments,
        missing_folder,
        not_utf8,
        stats,
        empty_stats,
        stats_not_utf8,
        haiku,
        no_template,
        notebook,
    ) = env.llm_batch(
        ["plugins"],
        ["embed", "-m", "markov-embed", "-c", "The cat sat."],
        ["embed-multi", "animals", "-m", "markov-embed", "--files", animals, "**/*"],
        ["similar", "animals", "-c", "where did the cat sit"],
        ["tools", "list"],
        ["-m", "echo", "-T", "count_occurrences", echo_tool_call],
        ["fragments", "loaders"],
        ["-m", "markov", "-f", f"markov:{animals}", "-o", "seed", "1", "goldfish"],
        ["-m", "markov", "-f", f"markov:{texts / 'missing'}", "x"],
        ["-m", "markov", "-f", f"markov:{texts / 'latin1'}", "x"],
        ["markov", "stats", animals / "cats.txt", "--top", "1"],
        {"args": ["markov", "stats"], "input": " \n"},
        ["markov", "stats", texts / "latin1" / "café.txt"],
        ["-t", "markov:haiku", "the cat sat on the mat", "-o", "seed", "1"],
        ["-t", "markov:nope", "x"],
        ["-m", "echo", "-T", "Notebook", echo_notebook_calls],
        LLM_USER_PATH=str(tmp_path),
    )

    assert plugin_hooks(plugins) == HOOKS
    vector = json.loads(assert_ok(embed))
    assert len(vector) == 256
    assert sum(value * value for value in vector) == pytest.approx(1.0)
    assert_ok(embed_multi)
    found = [json.loads(line)["id"] for line in assert_ok(similar).splitlines()]
    assert found[0] == "cats.txt"
    assert sorted(found) == ["cats.txt", "dogs.txt", "more/fish.md"]

    assert "count_occurrences(text: str, substring: str" in assert_ok(tools_list)
    # The second answer shows what the model was sent: the tool's result.
    results = json.loads(assert_ok(tool_chain))["tool_results"]
    assert [(r["name"], r["output"]) for r in results] == [("count_occurrences", "3")]

    assert "markov:\n  Every .txt and .md file" in assert_ok(loaders)
    words = set(assert_ok(with_fragments).split())
    assert len(words) >= 10 and "goldfish" in words
    assert_clean_error(
        missing_folder,
        f"Error: Could not load fragment markov:{texts / 'missing'}: "
        f"{texts / 'missing'} does not exist",
    )
    assert not_utf8.exit_code == 1 and not_utf8.traceback is None
    assert "café.txt is not UTF-8 text" in not_utf8.stderr

    assert assert_ok(stats).splitlines() == [
        "tokens: 8",
        "vocabulary: 7 distinct tokens",
        "with a choice of next token: 1",
        "dead ends (nothing follows them): 1",
        "most frequent: the (2)",
    ]
    assert_clean_error(
        empty_stats,
        "Error: the text is empty: give the model some text to learn from",
    )
    assert_clean_error(
        stats_not_utf8,
        f"Error: {texts / 'latin1' / 'café.txt'} is not UTF-8 text (byte 6): "
        "convert it first",
    )
    assert len(assert_ok(haiku).split()) == 17
    assert_clean_error(
        no_template,
        "Error: Could not load template markov:nope: no template called 'nope': "
        "choose one of haiku, ramble",
    )
    outputs = [r["output"] for r in json.loads(assert_ok(notebook))["tool_results"]]
    assert outputs == ["note 1 written", '["the cat sat"]']


def test_a_command_in_a_real_llm_process(markov_full):
    """llm adds plugin commands when llm.cli is imported: the installed entry point
    must be enough, in a process of its own (the batches above run in one process
    through llm's click entry point, as tests/llm_driver.py does)."""
    _, env = markov_full
    result = env.llm("markov", "stats", "--top", "2", input="a b a c a")
    assert result.returncode == 0, result.stderr
    assert "most frequent: a (3), b (1)\n" in result.stdout


def test_http_api_extras_through_the_cli(http_api_full, fake_api, texts, tmp_path):
    _, env = http_api_full
    animals = texts / "animals"
    cats = (animals / "cats.txt").read_text(encoding="utf-8")
    at_chat = at_extras = {BASE_URL_ENV_VAR: fake_api.url}
    (
        plugins,
        embed,
        embed_multi,
        similar,
        wrong_key,
        no_key,
        server_error,
        tool_chain,
        with_fragments,
        missing_folder,
        models,
        models_wrong_key,
        template,
        registered,
        request,
    ) = env.llm_batch(
        ["plugins"],
        {"args": ["embed", "-m", "markov-embed", "-c", "abc"], "env": at_extras},
        {
            "args": ["embed-multi", "animals", "-m", "markov-embed"]
            + ["--files", animals, "**/*", "--batch-size", "2"],
            "env": at_extras,
        },
        {"args": ["similar", "animals", "-c", cats], "env": at_extras},
        {
            "args": ["embed", "-m", "markov-embed", "-c", "abc", "--key", "sk-bad"],
            "env": at_extras,
        },
        {
            "args": ["embed", "-m", "markov-embed", "-c", "abc"],
            "env": {**at_extras, KEY_ENV_VAR: ""},
        },
        {"args": ["embed", "-m", "markov-embed", "-c", "status 503"], "env": at_extras},
        {
            "args": ["-m", "markov", "-T", "count_occurrences", "--no-stream"]
            + ['count {"text": "strawberry", "substring": "r"}'],
            "env": at_chat,
        },
        {"args": ["-m", "markov", "-f", f"markov:{animals}", "hi"], "env": at_chat},
        {
            "args": ["-m", "markov", "-f", "markov:/no/such/folder", "hi"],
            "env": at_chat,
        },
        {"args": ["markov", "models", "--refresh"], "env": at_extras},
        {
            "args": ["markov", "models", "--refresh", "--key", "sk-bad"],
            "env": at_extras,
        },
        {"args": ["-t", "markov:summary", "the cat sat"], "env": at_chat},
        {"args": ["models", "list", "-q", "markov"], "env": at_chat},
        {"args": ["markov", "request", "hi", "-o", "seed", "3"], "env": at_chat},
        LLM_USER_PATH=str(tmp_path),
        MARKOV_RETRIES="0",  # the fake API fails on purpose
        **{KEY_ENV_VAR: API_KEY},
    )

    assert plugin_hooks(plugins) == HOOKS
    assert json.loads(assert_ok(embed))[:4] == [1.0, 1.0, 1.0, 0.0]  # a, b, c, d
    assert_ok(embed_multi)
    found = [json.loads(line)["id"] for line in assert_ok(similar).splitlines()]
    assert found[0] == "cats.txt" and len(found) == 3
    assert_clean_error(
        wrong_key,
        f"Error: 401 from POST {fake_api.url}/embeddings: the API refused the key: "
        "set a valid one with `llm keys set markov`",
    )
    assert_clean_error(
        no_key,
        "Error: No key found - add one using 'llm keys set markov' "
        f"or set the {KEY_ENV_VAR} environment variable",
    )
    assert server_error.exit_code == 1 and server_error.traceback is None
    assert "Error: 503 from POST" in server_error.stderr

    # The fake API asks for the tool, then answers with the tool's result.
    assert assert_ok(tool_chain) == "The tool said: 3\n"
    chats = [
        request["body"]
        for request in fake_api.requests
        if request["path"].endswith("/chat/completions")
    ]
    offered, answered, fragments, summary = chats[-4:]
    assert offered["tools"][0]["function"]["name"] == "count_occurrences"
    assert answered["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "3",
    }
    assert_ok(with_fragments)
    assert "goldfish swim" in json.dumps(fragments["messages"])
    assert_clean_error(
        missing_folder,
        "Error: Could not load fragment markov:/no/such/folder: "
        "/no/such/folder does not exist",
    )
    assert assert_ok(template) == "You said: the cat sat\n"
    assert summary["messages"][0]["role"] == "system"

    # The API's list: the table's model, then a listed one, with what each can do;
    # llm registers the listed one from the cache the command wrote.
    assert assert_ok(models) == (
        "markov: streaming, tools, schemas, attachments, reasoning\n"
        "markov/markov-large: streaming\n"
    )
    assert "markov/markov-large" in assert_ok(registered)
    # The request a prompt would make, shown, not sent, without the key.
    shown = assert_ok(request)
    assert shown.startswith(f"POST {fake_api.url}/chat/completions\n")
    assert '"seed": 3' in shown and API_KEY not in shown
    assert_clean_error(
        models_wrong_key,
        f"Error: 401 from GET {fake_api.url}/models: the API refused the key: "
        "set a valid one with `llm keys set markov`",
    )


# Every combination (TEMPLATE_ALL_COMBINATIONS=1) ----------------------------------


# Every combination (TEMPLATE_ALL_COMBINATIONS=1) ----------------------------------


@pytest.fixture(scope="module")
def kind_env(request, tmp_path_factory):
    """A venv per kind, with ty, reused by every combination (each install replaces
    the last), and what ty reports on the kind without extras."""
    kind = request.param
    root = tmp_path_factory.mktemp(f"combinations-{kind}")
    project = render_kind(root / "llm-markov", kind, [])
    env = install_editable(project, root / ".venv")
    env.pip_install(TY)
    return kind, env, ty_diagnostics(env, project)


if ALL_COMBINATIONS:  # defined only then: the default suite has no skipped tests

    @pytest.mark.parametrize("extras", subsets(EXTRAS), ids="+".join)
    @pytest.mark.parametrize("kind_env", KINDS, indirect=True)
    def test_every_combination(kind_env, tmp_path, extras):
        kind, env, ty_baseline = kind_env
        project = render_kind(tmp_path / "llm-markov", kind, extras)
        # The test tools came with the first install; this adds the plugin's own
        # dependencies, which differ between combinations (click).
        env.pip_install("-e", project)
        env.check_project(project)
        assert ty_diagnostics(env, project) <= ty_baseline
        assert repeated_runs(project) == []
