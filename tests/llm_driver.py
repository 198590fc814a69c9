"""Runs many `llm` command lines in one process of a plugin's venv.

Starting `llm` costs seconds of CPU (it imports every plugin and the OpenAI client),
so tests that need many commands send them here. Each command runs through llm's own
click entry point, exactly as `llm ARGS...` parses and runs it, with its own standard
input and environment.

Batch mode (default): reads a JSON list of {"args": [...], "input": str | null,
"env": {...}} on standard input; writes a JSON list of {"exit_code", "stdout",
"stderr", "traceback"}, where "traceback" is the traceback a user would have seen
for an uncaught exception.

Serve mode (--serve): the same, one JSON command per input line and one JSON result
per output line, until standard input closes.
"""

import json
import sys
import traceback

from click.testing import CliRunner
from llm.cli import cli


def run(command: dict) -> dict:
    result = CliRunner().invoke(
        cli, command["args"], input=command.get("input"), env=command.get("env")
    )
    crashed = result.exception is not None and not isinstance(
        result.exception, SystemExit
    )
    return {
        "exit_code": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "traceback": "".join(traceback.format_exception(*result.exc_info))
        if crashed and result.exc_info
        else None,
    }


def serve() -> None:
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        json.dump([run(command) for command in json.load(sys.stdin)], sys.stdout)
