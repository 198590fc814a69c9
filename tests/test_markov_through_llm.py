"""The default plugin, installed with the real llm in a real venv, driven as a user does.

Most tests run their `llm` command lines through one long-lived process that calls
llm's click entry point (plugin_env.LlmServer): llm's start-up costs seconds of CPU.
The tests marked "real process" run the `llm` program itself."""

import dataclasses
import json

import pytest

from plugin_env import LlmServer, run

PROMPT = "the cat sat on the mat"
WORDS = set(PROMPT.split())


@pytest.fixture
def real_env(default_env, tmp_path):
    """The default plugin's venv, with an empty llm folder for each test."""
    user_path = tmp_path / "llm-user"
    user_path.mkdir()
    return dataclasses.replace(default_env, user_path=user_path)


@pytest.fixture(scope="module")
def server(default_env):
    server = LlmServer(default_env)
    yield server
    server.close()


@pytest.fixture
def env(server, real_env):
    """Like real_env, but each `env.llm(...)` runs in the long-lived process."""
    server.env = real_env
    return server


def assert_clean_failure(result, message):
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_llm_plugins_lists_the_plugin(env):
    plugins = env.plugins()
    assert {"name": "llm-markov", "hooks": ["register_models"], "version": "0.1"} in (
        plugins
    )


def test_llm_models_lists_sync_and_async(env):
    result = env.llm("models", "list", "-m", "markov")
    assert result.returncode == 0, result.stderr
    assert "Markov: markov" in result.stdout
    assert "async" in env.llm("models", "--options", "-m", "markov").stdout


def test_prompt_prints_twenty_words_from_the_prompt(real_env):  # real process
    result = real_env.llm("-m", "markov", PROMPT)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert len(words) == 20
    assert set(words) <= WORDS


def test_length_option(env):
    result = env.llm("-m", "markov", PROMPT, "-o", "length", "7")
    assert len(result.stdout.split()) == 7


def test_no_stream_gives_the_same_text_as_streaming(env):
    options = ["-o", "seed", "12", "-o", "length", "40"]
    streamed = env.llm("-m", "markov", PROMPT, *options)
    not_streamed = env.llm("-m", "markov", PROMPT, *options, "--no-stream")
    assert streamed.returncode == not_streamed.returncode == 0
    assert streamed.stdout == not_streamed.stdout
    assert set(streamed.stdout.split()) <= WORDS


def test_one_word_prompt(env):
    result = env.llm("-m", "markov", "hello", "-o", "length", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello hello hello\n"


def test_chinese_prompt(env):
    result = env.llm("-m", "markov", "我爱北京天安门", "-o", "seed", "1")
    text = result.stdout.strip()
    assert len(text) == 20 and set(text) <= set("我爱北京天安门")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("length", "1", "length must be between 2 and 1,000,000"),
        ("length", "1000000000", "length must be between 2 and 1,000,000"),
        ("delay", "11", "delay must be between 0 and 10"),
    ],
)
def test_bad_option_fails_with_the_validator_message(env, option, value, message):
    assert_clean_failure(env.llm("-m", "markov", PROMPT, "-o", option, value), message)
    assert json.loads(env.llm("logs", "--json").stdout) == []


def test_empty_prompt_fails_with_one_line_and_logs_nothing(real_env):  # real process
    env = real_env
    result = env.llm("-m", "markov", "")
    assert_clean_failure(result, "the prompt is empty")
    assert result.stderr.count("\n") == 1
    assert json.loads(env.llm("logs", "--json").stdout) == []


def test_megabytes_of_prompt_on_standard_input(env):
    prompt = "the quick brown fox jumps over the lazy dog\n" * 50_000  # 2.2 MB
    result = env.llm("-m", "markov", "-o", "length", "1000", input=prompt)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert len(words) == 1000 and set(words) <= set(prompt.split())
    [log] = json.loads(env.llm("logs", "-n", "1", "--json").stdout)
    assert log["input_tokens"] == 450_000


def test_logs_json_holds_the_record(env):
    result = env.llm("-m", "markov", PROMPT, "-o", "length", "5", "-o", "seed", "2")
    assert result.returncode == 0, result.stderr
    [log] = json.loads(env.llm("logs", "-n", "1", "--json").stdout)
    assert log["model"] == "markov"
    assert log["prompt"] == PROMPT
    assert log["response"] == result.stdout.rstrip("\n")
    assert log["options_json"] == {"length": 5, "seed": 2}
    assert (log["input_tokens"], log["output_tokens"]) == (6, 5)
    assert log["response_json"] is None


def test_logs_without_json_is_markdown(env):
    env.llm("-m", "markov", PROMPT)
    markdown = env.llm("logs", "-n", "1").stdout
    assert "## Prompt" in markdown and PROMPT in markdown


def test_models_options_shows_the_descriptions(env):
    result = env.llm("models", "--options", "-m", "markov")
    assert result.returncode == 0, result.stderr
    for text in [
        "length: int",
        "Number of words to generate",
        "delay: float",
        "Seconds to wait between words, 0 to 10",
        "seed: int",
        "Random seed",
    ]:
        assert text in result.stdout


def test_fragment_file_is_learned_from(env, tmp_path):
    book = tmp_path / "book.txt"
    book.write_text("once upon a time " * 1000, encoding="utf-8")
    result = env.llm("-m", "markov", "-f", book, "-o", "length", "50")
    assert set(result.stdout.split()) == {"once", "upon", "a", "time"}


def test_system_prompt_is_learned_from(env):
    result = env.llm("-m", "markov", "-s", "alpha beta", "gamma", "-o", "seed", "4")
    assert set(result.stdout.split()) == {"alpha", "beta", "gamma"}


def test_conversation_learns_from_earlier_turns(env):
    assert env.llm("-m", "markov", "red green", "-o", "seed", "1").returncode == 0
    follow_up = env.llm("-c", "blue", "-o", "length", "200", "-o", "seed", "1")
    assert set(follow_up.stdout.split()) == {"red", "green", "blue"}


def test_chat_survives_blank_lines_and_grows_its_vocabulary(real_env):  # real process
    chat = "  \nred red red\n\u3000\nblue blue blue\nquit\n"
    # Seed 5 starts the last answer at "blue"; other seeds may walk only "red".
    result = real_env.llm("chat", "-m", "markov", "-o", "seed", "5", input=chat)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count("(nothing to learn from yet: type some words)") == 1
    assert "blue" in result.stdout and "red" in result.stdout


COVERAGE = "coverage==7.17.3"


def test_every_line_of_the_module_is_exercised_by_its_own_tests(
    default_env, default_project, tmp_path
):
    """The module is about three times the tutorial's 67 lines. What it adds (the
    option limits and seed, the async model, chat's blank lines, CJK text,
    invisible characters, the slicing and interning that keep a book-sized prompt
    fast and small) is each exercised by a test the project ships: every line runs
    under the project's own tests, so none is there for nothing."""
    default_env.pip_install(COVERAGE)
    data = tmp_path / ".coverage"
    env = {**default_env.env(), "COVERAGE_FILE": str(data)}
    python = default_env.bin / "python"
    measure = ("-m", "coverage", "run", "--branch", "--include=llm_markov.py")
    result = run(
        python, *measure, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        cwd=default_project, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = run(
        python, "-m", "coverage", "report", "--show-missing", "--fail-under=100",
        cwd=default_project, env=env,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr
    assert "llm_markov.py" in report.stdout
