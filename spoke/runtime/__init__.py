"""Runtime: how the app runs (waitress, the ticker thread, the CLI, job dispatch)."""
