"""Import targets, by key. Each module registers its target here."""

from __future__ import annotations

from crm.imports.targets.base import ImportTarget

REGISTRY: dict[str, ImportTarget] = {}


def register(target: ImportTarget) -> ImportTarget:
    REGISTRY[target.key] = target
    return target


def get_target(key: str) -> ImportTarget | None:
    _load()
    return REGISTRY.get(key)


def all_targets() -> list[ImportTarget]:
    _load()
    return list(REGISTRY.values())


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for name in ("customers", "contacts", "leads", "products", "users"):
        try:
            importlib.import_module(f"crm.imports.targets.{name}")
        except ModuleNotFoundError as exc:  # a target not written yet
            if exc.name != f"crm.imports.targets.{name}":
                raise
