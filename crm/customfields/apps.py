from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "crm.customfields"
    label = "customfields"
    verbose_name = _("自定义字段")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from crm.customfields import selectors

        # The definitions are read once per request (see selectors.active_fields).
        request_started.connect(selectors.start_request_cache, dispatch_uid="customfields_cache_start")
        request_finished.connect(selectors.end_request_cache, dispatch_uid="customfields_cache_end")
