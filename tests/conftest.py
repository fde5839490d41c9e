"Fixtures shared across test files: the embedded model behind a real llama.cpp OpenAI-compatible server."
import os
from pathlib import Path

import pytest

BUILD_LOG = Path(__file__).resolve().parent.parent / ".venv" / "llama-build.log"


def llama_missing():
    "Why the llama.cpp server cannot run here (None when it can); under CI=true a missing server is a failure, not a skip."
    from clawgym.policies.serve import server_missing
    why = server_missing()
    if why and BUILD_LOG.is_file(): why += f"; the set-up's build log {BUILD_LOG} ends: {BUILD_LOG.read_text(errors='replace')[-400:]}"
    return why


def need_llama():
    why = llama_missing()
    if why is None: return
    if os.environ.get("CI"): pytest.fail(f"CI must run the llama.cpp server tests, but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def llama_server():
    """SmolLM2-135M-Instruct served by llama.cpp on 127.0.0.1 with native tool calls (chatml-function-calling), one per session.
    One thread: llama.cpp's threads spin, and two of them on a 2-core machine shared with the test itself run 20x slower."""
    need_llama()
    from clawgym.policies.serve import LlamaServer
    with LlamaServer(threads=1, n_ctx=8192) as srv: yield srv
