"""This repository's own Python (tests, benchmarks) passes ruff, as the plugins do."""

import sys

from conftest import ROOT
from plugin_env import check

RUFF = (sys.executable, "-m", "ruff")


def test_ruff_check():
    check(*RUFF, "check", "--no-cache", ROOT, cwd=ROOT)


def test_ruff_format():
    check(*RUFF, "format", "--no-cache", "--check", ROOT, cwd=ROOT)
