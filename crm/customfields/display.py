"""Custom values on pages: the detail page's rows and the list's columns.

Both return plain values (templates escape them) and look up the users of user-type fields in one
query for the whole page.
"""

from dataclasses import dataclass
from typing import Any

from crm.customfields import selectors
from crm.customfields.models import CustomField
from crm.customfields.values import display, user_names


@dataclass(frozen=True)
class CustomRow:
    key: str
    path: str  # custom.<key>: how field permissions name it
    label: str
    value: Any  # None when empty
    kind: str  # the field type: templates link e-mail and URL values, keep long text's lines


def detail_rows(target: str, data: dict | None, access=None) -> list[CustomRow]:
    """(label, shown value, type) of every active field, in display order.

    `access` (a field-permission FieldAccess, ORG-8) leaves out the fields hidden from the user and
    masks the masked ones."""
    fields = selectors.active_fields(target)
    if access is not None:
        fields = [f for f in fields if access.visible(f.path)]
    data = data if isinstance(data, dict) else {}
    users = user_names(fields, [data])
    rows = []
    for f in fields:
        value = display(f, data.get(f.key), users)
        kind = f.field_type
        if access is not None and value is not None and access.is_masked(f.path):
            value, kind = access.display(f.path, value), "masked"
        rows.append(CustomRow(f.key, f.path, f.label, value, kind))
    return rows


def list_columns(target: str, chosen: list[str] | None = None) -> list[CustomField]:
    """The custom columns of a list: the keys chosen by the user (any active field), or by
    default the fields marked "show in list"."""
    fields = selectors.active_fields(target)
    if chosen is None:
        return [f for f in fields if f.show_in_list]
    wanted = set(chosen)
    return [f for f in fields if f.key in wanted]


def annotate_rows(rows: list, columns: list[CustomField], access=None) -> None:
    """Give each record of a list page `custom_cells`: the shown values of `columns` (masked where
    `access`, a field-permission FieldAccess of the list, says so)."""
    if not columns:
        for row in rows:
            row.custom_cells = []
        return
    datas = [row.custom_data if isinstance(row.custom_data, dict) else {} for row in rows]
    users = user_names(columns, datas)
    masked = {f.key for f in columns if access is not None and access.is_masked(f.path)}
    for row, data in zip(rows, datas, strict=True):
        cells = []
        for f in columns:
            value = display(f, data.get(f.key), users)
            if f.key in masked and value is not None:
                value = access.display(f.path, value)
            cells.append(value)
        row.custom_cells = cells


def api_values(target: str, data: dict | None) -> dict[str, Any]:
    """The record's values of the active fields, as stored (JSON), for the API."""
    data = data if isinstance(data, dict) else {}
    return {f.key: data.get(f.key) for f in selectors.active_fields(target)}
