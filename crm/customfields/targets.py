"""The kinds of record custom fields can extend, and the permissions that guard them.

A new target (leads, opportunities, contracts) adds a `CustomField.Target` choice, a row here and
a `custom_data = models.JSONField(default=dict, blank=True)` column on its model.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class TargetInfo:
    key: str
    model: str  # "app_label.ModelName", holding a `custom_data` JSONField
    view_permission: str  # read the definitions (and the values, on records one may see)
    settings_permission: str  # keep the definitions


TARGETS: dict[str, TargetInfo] = {
    "customers": TargetInfo("customers", "customers.Customer", "customers.view", "customers.settings"),
}


def target_info(target: str) -> TargetInfo | None:
    return TARGETS.get(target)


def target_model(target: str) -> type[models.Model]:
    return apps.get_model(TARGETS[target].model)
