"""The lists that have saved views, and what each needs.

A list names its view permission (to own and open views), its settings permission (to keep
shared views), the URL name of its page, and the module that turns its query string into
validated parameters and back (`params_from_query`, `params_to_query`, `clean_params(user, params)`).
"""

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ListSpec:
    key: str
    label: str | Promise
    view_permission: str
    settings_permission: str
    url_name: str
    params_module: str

    @property
    def params(self) -> ModuleType:
        return import_module(self.params_module)


LISTS: dict[str, ListSpec] = {
    "customers": ListSpec(
        key="customers",
        label=_("客户列表"),
        view_permission="customers.view",
        settings_permission="customers.settings",
        url_name="customers:list",
        params_module="crm.customers.list_params",
    ),
}


def spec_of(list_key: str) -> ListSpec | None:
    return LISTS.get(list_key) if isinstance(list_key, str) else None
