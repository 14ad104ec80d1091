from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "crm.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        # drf-spectacular finds the OpenAPI extension of our authentication class once imported.
        from crm.api import authentication, schema  # noqa: F401
