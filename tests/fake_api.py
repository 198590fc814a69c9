"""The fake OpenAI-compatible API of rendered http-api projects, loaded from the template.

Rendered projects test themselves against `tests/fake_api.py`; the template's tests
and the benchmark serve the installed plugin from the very same server, so there is
one fake API to keep in step with the plugin, and its behaviour is documented there.
"""

import importlib.machinery
import types
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "template" / "tests" / "fake_api.py"

# Loaded under a name of its own, apart from this module's.
_loader = importlib.machinery.SourceFileLoader("template_fake_api", str(SOURCE))
_module = types.ModuleType(_loader.name)
_loader.exec_module(_module)

FakeAPI = _module.FakeAPI
