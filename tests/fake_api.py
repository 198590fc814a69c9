"""The fake APIs of rendered http-api projects, one per protocol, loaded from the
template.

Rendered projects test themselves against `tests/fake_api.py`, which is
`includes/tests/fake_api.<protocol>.py` beside `template/tests/loopback.py`; the
template's tests and the benchmarks serve the installed plugins from the very same
servers, so there is one fake API per protocol to keep in step with the plugin, and
its behaviour is documented there.
"""

import importlib.machinery
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The fakes import `loopback`, the module beside them in a rendered project.
sys.path.append(str(ROOT / "template" / "tests"))


def load(protocol: str) -> types.ModuleType:
    """The fake API module of `protocol`, under a name of its own."""
    source = ROOT / "includes" / "tests" / f"fake_api.{protocol}.py"
    name = "template_fake_api_" + protocol.replace("-", "_")
    loader = importlib.machinery.SourceFileLoader(name, str(source))
    module = types.ModuleType(loader.name)
    loader.exec_module(module)
    return module


FAKE_APIS = {
    protocol: load(protocol).FakeAPI
    for protocol in ("openai-chat", "anthropic-messages")
}
FakeAPI = FAKE_APIS["openai-chat"]
