"""The agent's environment: the workspace it works in, the sandbox its commands run in, the tools it calls and the harness
that frames them."""
