"""Running agents: rollouts over many tasks, the trajectory store, and rescoring a run from its stored workspaces."""
