"""The interface every import target implements.

A target knows which fields a row may carry, checks one row at a time against the same rules as
the forms (without writing), and writes a batch of checked rows set-based (bulk_create /
bulk_update) together with the operation log.

Flow used by the import job (crm/imports/services.py):

    ctx = target.start(user, options)          # load lookups once (dictionaries, users, ...)
    for chunk in chunks of batch_size rows:
        target.prepare(ctx, chunk)              # optional: set-based look-ups for the chunk
        for row_number, values in chunk:        # values: {field key: cell text ("" if empty)}
            outcome = target.check(ctx, row_number, values)
        ...                                     # outcome.errors -> reported, row not written
    target.write(ctx, [outcomes without errors, in batches])   # inside the job's transaction

``check`` must also remember what the file itself already contains (for duplicates inside the
file): keep that state in ``ctx`` (e.g. ``ctx.seen``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.access import policy


class Dedupe:
    """What to do with a row that matches an existing record (the same duplicate control as forms)."""

    SKIP = "skip"
    UPDATE = "update"
    CREATE = "create"

    LABELS = {
        SKIP: _("跳过重复的行"),
        UPDATE: _("更新已有记录"),
        CREATE: _("仍然新建"),
    }


@dataclass
class ImportField:
    key: str  # field key, e.g. "name" or "cf_12" for custom fields
    label: str | Promise  # Chinese label (gettext_lazy), used as template header
    required: bool = False
    aliases: tuple[str, ...] = ()  # other accepted header spellings (English label, key, ...)
    help: str | Promise = ""  # shown in the template's help row (format, allowed values)
    example: str = ""  # example value for the template's example row

    def header_names(self) -> list[str]:
        """Every spelling that auto-matches this field (compared case/space-insensitively)."""
        names = [str(self.label), self.key, *[str(a) for a in self.aliases]]
        return names


@dataclass
class RowOutcome:
    row_number: int
    action: str = "create"  # "create" | "update" | "skip"
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field key, message)
    data: dict[str, Any] = field(default_factory=dict)  # cleaned data, ready for write()
    existing_id: int | None = None  # record to update (action "update") or the duplicate found

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, key: str, message: str) -> None:
        self.errors.append((key, str(message)))


@dataclass
class ImportContext:
    """Per-run state. Targets may subclass it or put whatever they need into ``extra``."""

    user: Any
    dedupe: str = Dedupe.SKIP
    options: dict[str, Any] = field(default_factory=dict)
    fields: list[ImportField] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)  # keys already met in this file
    extra: dict[str, Any] = field(default_factory=dict)


class ImportTarget:
    key: str = ""
    label: str | Promise = ""
    permission: str = ""  # e.g. "customers.import"
    dedupe_modes: tuple[str, ...] = (Dedupe.SKIP,)  # which of skip/update/create are allowed
    batch_size: int = 500
    dedupe_help: str | Promise = ""  # optional: how duplicates are recognised, shown on the mapping page

    def allowed_dedupe_modes(self, user) -> list[str]:
        """The dedupe modes offered to this user: updating existing records needs the module's
        edit permission (e.g. customers.edit); a target may narrow them further by policy."""
        module = self.permission.split(".", 1)[0]
        return [
            mode for mode in self.dedupe_modes if mode != Dedupe.UPDATE or policy.can(user, f"{module}.edit")
        ]

    def fields(self, user) -> list[ImportField]:
        raise NotImplementedError

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        """Build the per-run context. options carries at least {"dedupe": mode}."""
        return ImportContext(
            user=user,
            dedupe=options.get("dedupe", Dedupe.SKIP),
            options=options,
            fields=self.fields(user),
        )

    def prepare(self, ctx: ImportContext, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Called with each chunk of rows (up to batch_size) before they are checked one by one:
        a target may look things up for the whole chunk at once (e.g. which values already exist)
        and keep the answer in ctx. Optional; the default does nothing."""

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        raise NotImplementedError

    def write(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        """Write a batch of error-free outcomes (create/update; skip rows are passed too and ignored)."""
        creates = [o for o in outcomes if o.ok and o.action == "create"]
        updates = [o for o in outcomes if o.ok and o.action == "update"]
        if creates:
            self.create_rows(ctx, creates)
        if updates:
            self.update_rows(ctx, updates)

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        """New records for these outcomes, set-based, with their operation-log rows."""
        raise NotImplementedError

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        """Change the existing records (outcome.existing_id), set-based, with their log rows."""
        raise NotImplementedError
