"""Reads of custom-field definitions.

`active_fields(target)` is one query; inside a web request its answer is kept until the request
ends (the cache starts and ends with Django's request signals and is dropped by every write), so
a page that asks several times (form, list columns, filters, search) still runs one query.
Outside a request (jobs, shell, tests) nothing is cached, unless the caller hands an object to
keep the answer on (`holder`, e.g. the user of customer_list, like the access policy caches roles
on the user); every write in this process makes such answers stale.
"""

from contextvars import ContextVar

from django.db.models import QuerySet

from crm.customfields.models import CustomField

_cache: ContextVar[dict | None] = ContextVar("customfields_cache", default=None)
_generation = 0  # bumped by every write in this process: answers kept on holders go stale
_HOLDER_ATTR = "_customfields_cache"


def start_request_cache(**_kwargs) -> None:
    _cache.set({})


def end_request_cache(**_kwargs) -> None:
    _cache.set(None)


def forget() -> None:
    """Drop what this request has read (called by every write)."""
    global _generation  # noqa: PLW0603 - a process-wide version number is the point
    _generation += 1
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def _holder_cache(holder) -> dict | None:
    if holder is None:
        return None
    store = getattr(holder, _HOLDER_ATTR, None)
    if store is None or store[0] != _generation:
        store = (_generation, {})
        try:
            setattr(holder, _HOLDER_ATTR, store)
        except AttributeError:
            return None
    return store[1]


def _cached(name: tuple, load, holder=None):
    cache = _cache.get()
    if cache is None:
        cache = _holder_cache(holder)
    if cache is None:
        return load()
    if name not in cache:
        cache[name] = load()
    return cache[name]


def fields_of(target: str) -> QuerySet[CustomField]:
    """Every definition of a target, active or not, in display order."""
    return CustomField.objects.filter(target=target).order_by("sort_order", "pk")


def all_fields(target: str, *, holder=None) -> list[CustomField]:
    return _cached(("all", target), lambda: list(fields_of(target)), holder)


def active_fields(target: str, *, holder=None) -> list[CustomField]:
    """The active definitions of a target, in display order (one query per request)."""
    return [f for f in all_fields(target, holder=holder) if f.is_active]


def active_field(target: str, key: str) -> CustomField | None:
    return next((f for f in active_fields(target) if f.key == key), None)


def list_column_fields(target: str) -> list[CustomField]:
    """Active fields shown by default as list columns."""
    return [f for f in active_fields(target) if f.show_in_list]


def field_choices(target: str) -> list[tuple[str, str]]:
    """[("custom.<key>", label), …] of the active fields, e.g. for field permissions (ORG-8)."""
    return [(f.path, f.label) for f in active_fields(target)]


def label_for(target: str, path: str) -> str | None:
    """The label of `custom.<key>` (active or not), for operation-log rows."""
    key = path.removeprefix("custom.")
    return next((f.label for f in all_fields(target) if f.key == key), None)


def values_count(field: CustomField) -> int:
    """How many records (deleted ones included) hold a value for the field."""
    from crm.customfields.targets import target_model

    return target_model(field.target).objects.filter(custom_data__has_key=field.key).count()


def field_mask_kinds(target: str) -> dict[str, str]:
    """{"custom.<key>": "phone" | "email"} of the active fields whose values can be masked (ORG-8)."""
    kinds = {CustomField.FieldType.PHONE: "phone", CustomField.FieldType.EMAIL: "email"}
    return {f.path: kinds[f.field_type] for f in active_fields(target) if f.field_type in kinds}


def label_for_model(model, path: str) -> str | None:
    """The label of `custom.<key>` on a model's records (operation-log rows), or None."""
    if not path.startswith("custom."):
        return None
    from crm.customfields.targets import TARGETS

    name = model._meta.label
    target = next((t.key for t in TARGETS.values() if t.model == name), None)
    return label_for(target, path) if target else None
