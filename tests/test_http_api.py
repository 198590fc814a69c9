"""The http-api model kind: rendered with two answer sets, installed with the real llm in
one venv, and driven through the `llm` command against the fake API on loopback.

Each answer set's command lines run in one batch (see llm_driver.py); the tests below
check the results. A few commands run as real `llm` processes.
"""

import json
import sqlite3

import pytest
from fake_api import FakeAPI

from conftest import render_project
from plugin_env import PluginEnv, check

KEY = "sk-live-abcdefghijklmnop"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")

ACME = {"model_kind": "http-api", "plugin_name": "llm-acme-chat"}
ORBIT = {
    "model_kind": "http-api",
    "plugin_name": "llm-orbit",
    "model_id": "orbit-large",
    "api_model": "orbit/large-2@v1",
    "key_name": "orbit.key",
    "key_env_var": "ORBIT_SECRET",
    # Port 9 (discard) is closed: the default URL fails without leaving the machine.
    "api_base_url": "http://127.0.0.1:9/v9",
    "readme_language": "zh",
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("http-api")
    return {
        "acme": render_project(root / "llm-acme-chat", ACME),
        "orbit": render_project(root / "llm-orbit", ORBIT),
    }


@pytest.fixture(scope="module")
def env(projects, tmp_path_factory):
    """Both plugins in one venv, with ty for the type check."""
    env = PluginEnv.create(tmp_path_factory.mktemp("venv") / ".venv")
    acme, orbit = projects["acme"], projects["orbit"]
    env.pip_install("-e", ".", "--group", "dev", cwd=acme)
    env.pip_install("-e", orbit)
    return env


@pytest.fixture(scope="module")
def acme_api():
    with FakeAPI(api_key=KEY, model="acme-chat") as api:
        yield api


@pytest.fixture(scope="module")
def orbit_api():
    with FakeAPI(api_key=KEY, model="orbit/large-2@v1") as api:
        yield api


def prompt(*args, key=True, **env):
    """An `llm -m acme-chat` command for the batch, with the key in its environment."""
    return {
        "args": ["-m", "acme-chat", *args],
        "env": {"ACME_CHAT_API_KEY": KEY, **env} if key else env,
    }


# Each error: the command's arguments, then a part of the one line it must print.
ERRORS = {
    "401": (["hi", "--key", "sk-wrong-key"], "llm keys set acme-chat"),
    "404": (["status 404"], "Fake error 404 (check the model name and the base URL"),
    "429": (["status 429"], "Fake error 429 (too many requests"),
    "500": (["status 500"], "Fake error 500 (the API failed: try again later)"),
    "truncated": (["truncate"], "the connection to http://127.0.0.1:"),
    "no [DONE]": (["no done"], "the API's stream ended before [DONE]"),
    "malformed": (["malformed"], "the API sent malformed JSON: '{not json'"),
}
NO_SERVER = "http://127.0.0.1:9/v1"  # port 9 (discard) is closed


def orbit_commands(orbit_api) -> dict:
    """Another key name, key variable, API model and default base URL."""
    at_fake_api = {"ORBIT_BASE_URL": orbit_api.url}
    return {
        "orbit default url": {
            "args": ["-m", "orbit-large", "default url", "--key", KEY]
        },
        "orbit by env": {
            "args": ["-m", "orbit-large", "by env"],
            "env": {**at_fake_api, "ORBIT_SECRET": KEY},
        },
        "orbit keys set": {"args": ["keys", "set", "orbit.key"], "input": "sk-bad"},
        "orbit stored": {"args": ["-m", "orbit-large", "stored"], "env": at_fake_api},
    }


@pytest.fixture(scope="module")
def results(env, acme_api, orbit_api, tmp_path_factory):
    """Every command line of both plugins, run in one batch; results by name."""
    image = tmp_path_factory.mktemp("image") / "dot.png"
    image.write_bytes(PNG)
    add = "def add(a: int, b: int) -> int:\n    return a + b\n"
    commands = {
        "no key": prompt("hi", key=False),
        "stream": prompt("hello streamed"),
        "no stream": prompt("hello whole", "--no-stream"),
        "async": prompt("hello async", "--async"),
        "options": prompt(
            "with options", "-o", "temperature", "0.5", "-o", "seed", "7"
        ),
        "bad option": prompt("hi", "-o", "top_p", "1.5"),
        "system": prompt("first turn", "-s", "be brief"),
        "continue": {"args": ["-c", "second turn"], "env": {"ACME_CHAT_API_KEY": KEY}},
        "chat": {
            **prompt(),
            "args": ["chat", "-m", "acme-chat"],
            "input": "hi chat\nagain\nquit\n",
        },
        "tool": prompt("-T", "llm_version", "which version?"),
        "functions": prompt("--functions", add, 'add {"a": 2, "b": 3}'),
        "schema": prompt("--schema", "name, age int", "a person"),
        "image": prompt("what is it", "-a", str(image)),
        "reasoning": prompt("think"),
        "--key": prompt("by option", "--key", KEY, key=False),
        "keys set": {"args": ["keys", "set", "acme-chat"], "input": KEY},
        "stored key": prompt("by stored key", key=False),
    }
    for name, (args, _) in ERRORS.items():
        commands[name] = prompt(*args)
    commands["no server"] = prompt("hi", ACME_CHAT_BASE_URL=NO_SERVER)
    commands["logs"] = {"args": ["logs", "-n", "0", "--json"]}
    commands["plugins"] = {"args": ["plugins"]}
    commands.update(orbit_commands(orbit_api))
    # Retries off: the fake API fails on purpose (test_http_client.py retries).
    no_retries = {"ACME_CHAT_RETRIES": "0", "ORBIT_RETRIES": "0"}
    results = env.llm_batch(
        *commands.values(), ACME_CHAT_BASE_URL=acme_api.url, **no_retries
    )
    return dict(zip(commands, results, strict=True))


def body_of(api, text: str) -> dict:
    """The last request whose last message holds `text`."""
    return next(
        request["body"]
        for request in reversed(api.requests)
        if text in json.dumps(request["body"]["messages"][-1])
    )


def ok(result) -> str:
    assert result.exit_code == 0 and not result.traceback, result
    return result.stdout


@pytest.mark.parametrize(
    "name, text, stream",
    [
        ("stream", "hello streamed", True),
        ("no stream", "hello whole", False),
        ("async", "hello async", True),
    ],
)
def test_prompt_streamed_or_not_and_async(results, acme_api, name, text, stream):
    assert ok(results[name]) == f"You said: {text}\n"
    assert body_of(acme_api, text)["stream"] is stream


def test_options_that_are_set_are_sent_and_bad_ones_refused(results, acme_api):
    ok(results["options"])
    body = body_of(acme_api, "with options")
    assert (body["temperature"], body["seed"]) == (0.5, 7)
    assert "top_p" not in body and "max_tokens" not in body
    assert results["bad option"].exit_code == 1
    assert "top_p must be between 0 and 1" in results["bad option"].stderr


def test_system_prompt_continue_and_chat_send_the_history(results, acme_api):
    ok(results["system"])
    assert ok(results["continue"]) == "You said: second turn\n"
    messages = body_of(acme_api, "second turn")["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "You said: first turn"
    chat = ok(results["chat"])
    assert "You said: hi chat" in chat and "You said: again" in chat
    assert len(body_of(acme_api, "again")["messages"]) == 3


def test_tool_chains_run_to_the_final_answer(results, acme_api):
    assert ok(results["tool"]).startswith("The tool said: 0.")
    assert ok(results["functions"]) == "The tool said: 5\n"
    tool_message = body_of(acme_api, '"content": "5"')["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"


def test_schema_image_and_reasoning(results, acme_api):
    assert json.loads(ok(results["schema"])) == {"name": "example", "age": 42}
    schema = body_of(acme_api, "a person")["response_format"]["json_schema"]
    assert set(schema["schema"]["properties"]) == {"name", "age"}
    assert ok(results["image"]) == "You said: what is it (images: image/png)\n"
    assert ok(results["reasoning"]) == "Thought about it.\n"
    assert "Let me think." in results["reasoning"].stderr


def test_key_by_env_var_option_and_llm_keys_set(results, acme_api):
    assert results["no key"].exit_code == 1
    assert results["no key"].stderr == (
        "Error: No key found - add one using 'llm keys set acme-chat' "
        "or set the ACME_CHAT_API_KEY environment variable\n"
    )
    assert ok(results["--key"]) == "You said: by option\n"
    ok(results["keys set"])
    assert ok(results["stored key"]) == "You said: by stored key\n"
    assert all(
        request["headers"]["Authorization"] in (f"Bearer {KEY}", "Bearer sk-wrong-key")
        for request in acme_api.requests
    )


@pytest.mark.parametrize("name", [*ERRORS, "no server"])
def test_each_error_is_one_line(results, name):
    result = results[name]
    assert result.exit_code == 1 and not result.traceback
    [error_line] = result.stderr.splitlines()
    message = ERRORS[name][1] if name in ERRORS else f"could not connect to {NO_SERVER}"
    assert error_line.startswith("Error: ") and message in error_line
    assert "sk-wrong-key" not in error_line and KEY not in error_line


def test_the_key_is_never_logged(results, env):
    logs = json.loads(ok(results["logs"]))
    # 11 prompts with one response each, 2 chat turns, 2 tool chains of 2 responses
    assert len(logs) == 17
    assert KEY not in json.dumps(logs)
    assert {log["resolved_model"] for log in logs} == {"acme-chat-2026-01-01"}
    database = sqlite3.connect(env.user_path / "logs.db")
    dump = "\n".join(database.iterdump())
    database.close()
    assert KEY not in dump and "You said: hello streamed" in dump


def test_plugins_are_listed(results):
    names = {plugin["name"] for plugin in json.loads(ok(results["plugins"]))}
    assert {"llm-acme-chat", "llm-orbit"} <= names


def test_real_llm_process(env, acme_api):
    """A real `llm` process streams the text it got, then the error, no traceback."""
    result = env.llm(
        "-m",
        "acme-chat",
        "truncate",
        ACME_CHAT_BASE_URL=acme_api.url,
        ACME_CHAT_API_KEY=KEY,
    )
    assert result.returncode == 1
    assert result.stdout == "You said:"  # the two words before the connection broke
    assert result.stderr.startswith("Error: the connection to http://127.0.0.1:")
    assert result.stderr.count("\n") == 1


def test_custom_answers(results, orbit_api):
    assert "could not connect to http://127.0.0.1:9/v9/chat" in (
        results["orbit default url"].stderr
    )
    assert ok(results["orbit by env"]) == "You said: by env\n"
    assert body_of(orbit_api, "by env")["model"] == "orbit/large-2@v1"
    ok(results["orbit keys set"])
    bad_key = results["orbit stored"].stderr
    assert "llm keys set orbit.key" in bad_key and "sk-bad" not in bad_key


@pytest.mark.parametrize("name", ["acme", "orbit"])
def test_rendered_project_passes_its_lint_and_type_check(env, projects, name):
    check(env.bin / "ruff", "check", "--no-cache", ".", cwd=projects[name])
    check(env.bin / "ruff", "format", "--no-cache", "--check", ".", cwd=projects[name])
    check(env.bin / "ty", "check", cwd=projects[name], env=env.env())


def test_readme_in_both_languages(projects):
    english = (projects["acme"] / "README.md").read_text(encoding="utf-8")
    chinese = (projects["orbit"] / "README.md").read_text(encoding="utf-8")
    assert "llm keys set acme-chat" in english and "ACME_CHAT_BASE_URL" in english
    assert "llm keys set orbit.key" in chinese and "ORBIT_SECRET" in chinese
    assert "## Adapting to your API" in english and "## 适配你的 API" in chinese


def test_markov_render_has_nothing_of_http_api(default_project):
    files = {path.name for path in default_project.rglob("*") if path.is_file()}
    assert not files & {"fake_api.py", "test_protocol.py"}
    conftest = (default_project / "tests" / "conftest.py").read_text()
    assert "loopback" not in conftest
    assert "httpx2" not in (default_project / "pyproject.toml").read_text()
