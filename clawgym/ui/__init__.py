"""Views for notebooks: task, trajectory and workspace widgets, and the verifier debugger."""
