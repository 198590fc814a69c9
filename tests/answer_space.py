"""The questions' validators, evaluated the way copier evaluates them, and what PyPI
accepts, so that property-based tests can search the space of answers quickly.

`validate(key, value, **answers)` renders a question's validator from copier.yml with
the same Jinja filters copier uses (jinja2-ansible-filters), the template's folder as
the loader of the partials it imports (includes/validation/), and the context copier
gives it: every given answer (what `--data` passes), and the answers or defaults of
the questions before this one. It returns copier's message, or "" for an accepted
answer. tests/test_answers.py checks on real renders that it agrees with copier.
"""

import email.utils
import functools
import unicodedata
from pathlib import Path

import email_validator
import jinja2
import yaml
from packaging.metadata import ExceptionGroup, Metadata

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))

# What copier.yml's character class in the description and author_name validators
# must reject: control, format, line and paragraph separator and surrogate code
# points, but ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER (emoji sequences use them).
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}
ALLOWED_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def forbidden(character: str) -> bool:
    return (
        unicodedata.category(character) in FORBIDDEN_CATEGORIES
        and character not in ALLOWED_FORMAT_CHARACTERS
    )


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        undefined=jinja2.StrictUndefined,
    )


@functools.cache
def compiled(source: str) -> jinja2.Template:
    return environment().from_string(source)


def render_default(key: str, answers: dict) -> str:
    return compiled(str(CONFIG[key]["default"])).render(**answers)


def answers_with_defaults(upto: str | None = None, **answers) -> dict:
    """The given answers, with the default of every other question (derived ones
    included) computed in copier.yml's order, as copier does; from question `upto`
    on, defaults are not computed yet, as when copier validates that question."""
    result: dict = {}
    for key, question in CONFIG.items():
        if key.startswith("_"):
            continue
        if key == upto:
            break
        if key in answers:
            result[key] = answers[key]
        elif isinstance(question.get("default"), str):
            result[key] = render_default(key, {**answers, **result})
        else:
            result[key] = question.get("default")
    return {**answers, **result}


def validate(key: str, value, **answers) -> str:
    """copier's message for `value` as the answer to `key`, "" if it is accepted."""
    context = answers_with_defaults(upto=key, **{**answers, key: value})
    validator = CONFIG[key].get("validator", "")
    return compiled(validator).render(**context).strip()


def applies(key: str, answers: dict) -> bool:
    """Whether question `key` is asked (its `when`), given the answers before it."""
    when = CONFIG[key].get("when", True)
    if isinstance(when, str):
        rendered = compiled(when).render(**answers_with_defaults(upto=key, **answers))
        return rendered.strip().lower() in {"true", "yes", "on", "1", "y"}
    return bool(when)


def copier_message(key: str, message: str) -> str:
    return f"Validation error for question '{key}': {message}"


# PyPI ----------------------------------------------------------------------------


def pypi_accepts_email(address: str) -> bool:
    """PyPI's upload check of an Author-email address: email-validator's syntax
    rules, without a DNS look-up."""
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def pypi_metadata_errors(metadata: str) -> list[str]:
    """What PyPI's upload checks would reject in a core metadata file: packaging's
    validation, a one-line summary of at most 512 characters, and email addresses
    email-validator accepts."""
    errors = []
    try:
        parsed = Metadata.from_email(metadata, validate=True)
    except ExceptionGroup as error:  # of InvalidMetadata, one per bad field
        return [repr(error)]
    summary = parsed.summary or ""
    if len(summary) > 512 or summary.splitlines() not in ([], [summary]):
        errors.append(f"summary {summary!r}")
    for field in (parsed.author_email, parsed.maintainer_email):
        for _, address in email.utils.getaddresses([field or ""]):
            if address and not pypi_accepts_email(address):
                errors.append(f"email {address!r}")
    return errors
