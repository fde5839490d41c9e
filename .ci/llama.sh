#!/usr/bin/env bash
# Build and install llama-cpp-python[server] from its PyPI source into the venv whose bin/ is $1.
# The flags keep the build to the library the Python server needs (no C++ tools, tests, examples or server), and
# GGML_NATIVE=OFF keeps the cached wheel portable across x86-64 machines with AVX2. pip caches the built wheel, so a
# second set-up takes seconds. A failed build is not fatal here: the log stays in the venv, and the tests that need the
# server skip with that reason (and fail under CI=true, where the server must be present).
set -uo pipefail
BIN=${1:-.venv/bin}
VERSION=0.3.36
LOG="$(dirname "$BIN")/llama-build.log"
if "$BIN/python" -c "import llama_cpp, llama_cpp.server.app" 2>/dev/null; then exit 0; fi
echo "==> building llama-cpp-python[server]==$VERSION from source (about 8 min on 2 cores the first time; log: $LOG)"
start=$(date +%s)
if CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
    "$BIN/pip" install "llama-cpp-python[server]==$VERSION" >"$LOG" 2>&1; then
  echo "    llama-cpp-python built and installed in $(( $(date +%s) - start )) s"
else
  echo "    llama-cpp-python could not be built here (see $LOG); the llama.cpp server tests will skip" >&2
fi
exit 0
