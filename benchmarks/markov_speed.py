"""How fast the rendered Markov plugin is, and how much memory it takes, next to the
finished model of llm's plugin tutorial.

Run from the repository root:

    python3 -m uv run python benchmarks/markov_speed.py [--words N] [--length N]
        [--repeat N]

What it does:

1. Renders the template with its defaults (copier's API, no personal settings)
   into a temporary folder, and installs it editable into a new uv venv that
   uses this interpreter, with LLM_USER_PATH in a temporary folder.
2. Runs benchmarks/markov_worker.py in that venv, a fresh process for each
   measurement. The worker builds the same corpus every time (--words made-up
   words with Zipf-like frequencies) and asks for --length words through llm's
   Python API: model.prompt(corpus, length=..., seed=1) iterated (streaming), or
   with stream=False and .text() (not streaming). The baseline is the tutorial's
   model, defined in the worker and seeded with random.seed(1).
3. Times the prompt and its consumption (wall seconds, time.perf_counter), and
   takes the peak resident memory during it minus the resident memory just
   before it (MB; the peak is reset after the corpus is built, see the worker).
4. Repeats every measurement --repeat times, interleaved, and prints medians,
   then whether each target is met. It always exits 0: this is a report.

Targets: streaming at most 10% slower than the baseline; not streaming at most
half the baseline's time; peak memory no higher than the baseline's.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import check, clean_env, render
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "markov_worker.py"
UV = find_uv_bin()
MODELS = ("tutorial", "template")
MODES = ("stream", "text")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=800_000, help="corpus size")
    parser.add_argument("--length", type=int, default=200_000, help="words out")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure")
    return parser.parse_args()


def install(project: Path, tmp: Path, env: dict[str, str]) -> Path:
    """A new venv with the plugin installed editable; returns its python."""
    venv = tmp / "venv"
    check(UV, "venv", "--quiet", "--python", sys.executable, venv, env=env)
    python = venv / "bin" / "python"
    check(UV, "pip", "install", "--quiet", "--python", python, "-e", project, env=env)
    return python


def measure(python: Path, env, model: str, mode: str, args) -> dict:
    """One run of the worker, in a fresh process."""
    output = check(
        python, WORKER, model, mode, args.words, args.length, env=env
    ).splitlines()[-1]
    result = json.loads(output)
    if result["words"] != args.length:
        print(f"warning: {model} {mode} produced {result['words']} words")
    return result


def run_all(python: Path, env, args) -> dict[tuple[str, str], list[dict]]:
    """Every (model, mode) --repeat times, interleaved so drift hits all alike."""
    kinds = [(model, mode) for model in MODELS for mode in MODES]
    results = {kind: [] for kind in kinds}
    for run in range(1, args.repeat + 1):
        for model, mode in kinds:
            result = measure(python, env, model, mode, args)
            results[model, mode].append(result)
            print(
                f"  run {run}: {model:8} {mode:6} {result['seconds']:7.3f} s "
                f"{result['peak_mb']:7.1f} MB",
                flush=True,
            )
    return results


def median(results, model: str, mode: str, key: str) -> float:
    return statistics.median(result[key] for result in results[model, mode])


def rows(results) -> list[tuple[str, float, float, float]]:
    """(label, baseline, template, highest template/baseline ratio allowed)."""
    table = []
    for mode, label, limit in (
        ("stream", "streaming seconds", 1.10),
        ("text", "not-streaming seconds", 0.50),
    ):
        base = median(results, "tutorial", mode, "seconds")
        ours = median(results, "template", mode, "seconds")
        table.append((label, base, ours, limit))
    for mode, label in (("stream", "streaming"), ("text", "not streaming")):
        base = median(results, "tutorial", mode, "peak_mb")
        ours = median(results, "template", mode, "peak_mb")
        table.append((f"peak memory MB, {label}", base, ours, 1.0))
    return table


def report(table) -> None:
    print(f"\n{'':30} {'tutorial':>10} {'template':>10} {'ratio':>7}  target")
    for label, base, ours, limit in table:
        ratio = ours / base if base > 0 else float("inf")
        verdict = "target met" if ratio <= limit else "target MISSED"
        print(
            f"{label:30} {base:10.3f} {ours:10.3f} {ratio:7.2f}  "
            f"<= {limit:.2f}: {verdict}"
        )


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="markov-speed-") as tmp_name:
        tmp = Path(tmp_name)
        env = clean_env(LLM_USER_PATH=str(tmp / "llm-user"))
        print("rendering and installing the default plugin...", flush=True)
        python = install(render(tmp, "llm-markov"), tmp, env)
        print(
            f"corpus {args.words} words, output {args.length} words, "
            f"{args.repeat} runs each (medians below)",
            flush=True,
        )
        table = rows(run_all(python, env, args))
    report(table)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
