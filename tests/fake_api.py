"""The fake OpenAI-compatible API of rendered http-api projects, loaded from the template.

Rendered projects test themselves against `tests/fake_api.py`; the template's tests
and the benchmark serve the installed plugin from the very same server, so there is
one fake API to keep in step with the plugin, and its behaviour is documented there.
"""

import importlib.machinery
import types
from pathlib import Path

SOURCE = (
    Path(__file__).resolve().parent.parent
    / "template"
    / "tests"
    / "{% if model_kind == 'http-api' %}fake_api.py{% endif %}"
)

# The file name does not end in .py, so the loader is named explicitly.
_loader = importlib.machinery.SourceFileLoader("template_fake_api", str(SOURCE))
_module = types.ModuleType(_loader.name)
_loader.exec_module(_module)

FakeChatAPI = _module.FakeChatAPI
