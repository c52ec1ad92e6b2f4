"""Run every benchmark: `make bench` (set TEST_DATABASE_URL to include PostgreSQL)."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    for mod in pkgutil.iter_modules(bench.__path__):
        if mod.name in ("run", "common", "__init__"):
            continue
        module = importlib.import_module(f"bench.{mod.name}")
        if hasattr(module, "main"):
            print(f"== bench.{mod.name}")  # noqa: T201
            module.main()


if __name__ == "__main__":
    main()
