import pytest


@pytest.fixture(autouse=True)
def llm_user_path(tmp_path, monkeypatch):
    """Keep llm's keys, logs and settings in a temporary folder, never the user's."""
    user_path = tmp_path / "llm"
    user_path.mkdir()
    monkeypatch.setenv("LLM_USER_PATH", str(user_path))
    return user_path
