"""The names a plugin's answers must not take, derived from the installed llm and from
the rendered plugin, and written to includes/validation/names.jinja, which copier.yml's
validators import. Regenerate the partial after upgrading llm or changing the
template's Python code:

    .tools/bin/uv run python tests/reserved_names.py --write

`--check` prints what is missing from the partial or listed without reason and exits
1; tests/test_questions.py runs the same comparison (stale_entries()).

- llm_model_ids: the ids and aliases, lowercased, of the chat and embedding models
  that llm ships (its own modules, no plugins, no user aliases): model_id refuses
  them in any letter case.
- llm_commands: llm's built-in top-level commands (`llm.cli.cli.commands`, those of
  llm's own modules): plugin_name refuses `llm-<command>`, whose command group (the
  commands extra) would replace llm's own.
- plugin_names: every class-like top-level name (imported, defined or assigned) of
  every .py file the template renders, over every model kind and extras combination,
  found with `ast`; and class_patterns, how the rendered code names its classes
  after model_class ("Async{}" is AsyncMarkov for Markov). model_class refuses a name
  whose classes would shadow one of these names.
- python_names: Python's built-in names that a class name could take and that the
  validator's `(Error|Exception|Warning)` rule does not already cover. Built-ins of
  this Python are added; those already listed are kept, since the plugins run on
  other Pythons too (ExceptionGroup is new in 3.11).
"""

import argparse
import ast
import builtins
import functools
import hashlib
import importlib.metadata
import itertools
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTIAL = ROOT / "includes" / "validation" / "names.jinja"
PARTIAL_NAME = "includes/validation/names.jinja"
# What the validator of model_class accepts; only such names can clash with it.
CLASS_NAME = re.compile(r"\A_*[A-Z][A-Za-z0-9_]*\Z")
# model_class in the renders that find the plugin's names: every name that holds it
# is one the code makes from model_class, not a name of its own.
SENTINEL = "Zqxjv"
# What the renders that find names leave out: only .py files matter (a quarter
# faster).
NOT_PYTHON = ["*.md", "*.yml", "*.toml", "LICENSE", "MANIFEST.in", ".gitignore"]
# Questions with choices that change text only, never the Python code.
TEXT_ONLY_CHOICES = {"license", "readme_language"}
KEYWORDS = {"False", "None", "True"}
EXCEPTION_SUFFIX = re.compile(r"(Error|Exception|Warning)\Z")
GROUPS = ("llm_model_ids", "llm_commands", "plugin_names", "class_patterns")


# llm ------------------------------------------------------------------------------


def is_llms_own(module: str) -> bool:
    return module == "llm" or module.startswith("llm.")


@functools.cache
def llm_model_ids() -> set[str]:
    import llm

    ids = set()
    for found in [
        *llm.get_models_with_aliases(),
        *llm.get_embedding_models_with_aliases(),
    ]:
        if is_llms_own(type(found.model).__module__):
            ids |= {found.model.model_id, *found.aliases}
    return {model_id.lower() for model_id in ids}


@functools.cache
def llm_commands() -> set[str]:
    from llm.cli import cli

    return {
        name
        for name, command in cli.commands.items()
        if command.callback is None or is_llms_own(command.callback.__module__)
    }


# The rendered plugin ------------------------------------------------------------


def top_level_names(source: str) -> set[str]:
    """Every name a module binds at its top level, in `if`, `try` and `with` blocks
    too: imports, functions, classes and assignments."""
    names: set[str] = set()
    statements = list(ast.parse(source).body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update(
                (alias.asname or alias.name).split(".")[0] for alias in node.names
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue  # names bound inside are not the module's
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements.extend(getattr(node, field, []))
    return names


def subsets(items: list) -> list[list]:
    return [
        list(combination)
        for size in range(len(items) + 1)
        for combination in itertools.combinations(items, size)
    ]


def code_answer_sets(every_combination: bool = True) -> list[dict]:
    """The answers that choose the plugin's code: each choice of every question with
    choices (but license and language) that applies, and every subset of each
    multiselect one. With every_combination=False, a multiselect question takes
    only no choice, each choice alone and all choices: the renders that find each
    name unless a name appears only with some choices together."""
    from answer_space import CONFIG, applies

    answer_sets: list[dict] = [{}]
    for key, question in CONFIG.items():
        if key.startswith("_") or "choices" not in question:
            continue
        if key in TEXT_ONLY_CHOICES:
            continue
        choices = list(question["choices"].values())
        if not question.get("multiselect"):
            values = choices
        elif every_combination:
            values = subsets(choices)
        else:
            values = [[], *([choice] for choice in choices), choices]
        answer_sets = [
            {**answers, key: value}
            for answers in answer_sets
            for value in (values if applies(key, answers) else [None])
        ]
    # A question that does not apply keeps its default.
    return [
        {key: value for key, value in answers.items() if value is not None}
        for answers in answer_sets
    ]


def names_of_render(project: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(project.rglob("*.py")):
        names |= top_level_names(path.read_text(encoding="utf-8"))
    return names


def rendered_names(answer_sets: list[dict]) -> dict[str, set[str]]:
    """The class-like names of each render, keyed by its answers."""
    from conftest import render_project

    found = {}
    with tempfile.TemporaryDirectory(prefix="reserved-names-") as folder:
        for number, answers in enumerate(answer_sets):
            try:
                project = render_project(
                    Path(folder) / str(number),
                    {**answers, "model_class": SENTINEL},
                    exclude=NOT_PYTHON,
                )
            except ValueError:  # a combination a validator refuses: nothing to name
                continue
            found[repr(answers)] = {
                name for name in names_of_render(project) if CLASS_NAME.match(name)
            }
    return found


def plugin_names(answer_sets: list[dict]) -> tuple[set[str], set[str]]:
    """The names the renders use, and the patterns of the names they make from
    model_class ({} stands for model_class)."""
    names = set().union(*rendered_names(answer_sets).values())
    patterns = {name.replace(SENTINEL, "{}") for name in names if SENTINEL in name}
    return {name for name in names if SENTINEL not in name}, patterns


# Python ---------------------------------------------------------------------------


def python_names() -> set[str]:
    return {
        name
        for name in dir(builtins)
        if CLASS_NAME.match(name)
        and name not in KEYWORDS
        and not EXCEPTION_SUFFIX.search(name)
    }


# The partial ----------------------------------------------------------------------


def derive(every_combination: bool = True) -> dict[str, set[str]]:
    names, patterns = plugin_names(code_answer_sets(every_combination))
    return {
        "llm_model_ids": llm_model_ids(),
        "llm_commands": llm_commands(),
        "plugin_names": names,
        "class_patterns": patterns,
    }


def listed() -> dict[str, set[str]]:
    """The lists in the partial as it is, read through Jinja as copier reads them."""
    from answer_space import environment

    module = environment().get_template(PARTIAL_NAME).module
    return {group: set(getattr(module, group)) for group in (*GROUPS, "python_names")}


def differences(
    derived: dict[str, set[str]], current: dict[str, set[str]]
) -> list[str]:
    """One line per group whose list is not what derive() found; python_names only
    has to hold this Python's names (see the module's docstring)."""
    problems = []
    for group in GROUPS:
        missing = sorted(derived[group] - current[group])
        extra = sorted(current[group] - derived[group])
        if missing:
            problems.append(f"{group} lacks {missing}")
        if extra:
            problems.append(f"{group} lists {extra}, which nothing uses")
    missing = sorted(python_names() - current["python_names"])
    if missing:
        problems.append(f"python_names lacks {missing}")
    return problems


def stale_entries() -> list[str]:
    """differences() between the partial and what is derived, for the tests. When
    the template has not changed since the partial was written (inputs_digest()),
    only llm's lists are derived again. Otherwise the renders of each multiselect
    choice alone, of none and of all show a missing name at a fraction of the cost
    of every combination (64 renders and more); every combination is rendered only
    when the partial lists plugin names that those renders do not show, to tell a
    name of some combination from a stale one. (`--write` after changing the
    template keeps the test fast.)"""
    current = listed()
    if recorded_digest() == inputs_digest():
        # The template is as it was when the partial was written: its renders would
        # name the same things, so only llm's lists are derived again.
        derived = {
            "llm_model_ids": llm_model_ids(),
            "llm_commands": llm_commands(),
            "plugin_names": current["plugin_names"],
            "class_patterns": current["class_patterns"],
        }
        return differences(derived, current)
    derived = derive(every_combination=False)
    if not (
        current["plugin_names"] <= derived["plugin_names"]
        and current["class_patterns"] <= derived["class_patterns"]
    ):
        derived = derive(every_combination=True)
    return differences(derived, current)


def jinja_list(name: str, values: set[str]) -> str:
    lines, line = [], ""
    for value in sorted(values):
        item = repr(value) + ","
        if line and len(line) + 1 + len(item) > 84:
            lines.append(line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    if line:
        lines.append(line)
    body = "\n".join("    " + line for line in lines)
    return f"{{%- set {name} = [\n{body}\n] -%}}\n"


def inputs_digest() -> str:
    """A digest of what the rendered plugin's names come from: copier.yml, template/,
    includes/ (this partial aside) and this file."""
    files = [ROOT / "copier.yml", Path(__file__).resolve()]
    for folder in (ROOT / "template", ROOT / "includes"):
        files += [
            path
            for path in folder.rglob("*")
            if path.is_file() and path != PARTIAL and "__pycache__" not in path.parts
        ]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_digest() -> str | None:
    """The inputs_digest() the partial was written from."""
    found = re.search(r"template inputs\s+([0-9a-f]{64})", PARTIAL.read_text("utf-8"))
    return found[1] if found else None


def partial_text(derived: dict[str, set[str]], python: set[str]) -> str:
    version = importlib.metadata.version("llm")
    return (
        "{#- Generated from llm " + version + " and the rendered plugin by\n"
        "        .tools/bin/uv run python tests/reserved_names.py --write\n"
        "    Do not edit by hand: tests/test_questions.py fails when this is out of\n"
        "    date. copier.yml's validators import these lists; tests/reserved_names.py\n"
        "    says what each holds. Rendered from template inputs\n"
        "    "
        + inputs_digest()
        + ". -#}\n"
        + jinja_list("llm_model_ids", derived["llm_model_ids"])
        + jinja_list("llm_commands", derived["llm_commands"])
        + jinja_list("plugin_names", derived["plugin_names"])
        + jinja_list("class_patterns", derived["class_patterns"])
        + jinja_list("python_names", python)
    )


def isolate() -> None:
    """Run as a script: the user's copier settings, llm aliases and extra models stay
    out of what is derived, as in the tests (conftest.isolated_environment)."""
    home = Path(tempfile.mkdtemp(prefix="reserved-names-home-"))
    (home / "copier-settings.yml").write_text("{}\n", encoding="utf-8")
    os.environ["COPIER_SETTINGS_PATH"] = str(home / "copier-settings.yml")
    os.environ["LLM_USER_PATH"] = str(home / "llm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the partial")
    action.add_argument("--check", action="store_true", help="compare, exit 1 if stale")
    arguments = parser.parse_args(argv)
    isolate()
    if not PARTIAL.exists():  # the renders' validators import it
        empty: dict[str, set[str]] = {group: set() for group in GROUPS}
        PARTIAL.write_text(partial_text(empty, python_names()), "utf-8")
    derived = derive()
    if arguments.write:
        kept = listed()["python_names"]
        PARTIAL.write_text(partial_text(derived, python_names() | kept), "utf-8")
        print(f"wrote {PARTIAL.relative_to(ROOT)}")
        return 0
    problems = differences(derived, listed())
    print("\n".join(problems) or "up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
