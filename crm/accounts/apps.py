from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("组织与权限")

    def ready(self) -> None:
        from crm.accounts import signals  # noqa: F401
