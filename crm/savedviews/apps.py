from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedViewsConfig(AppConfig):
    name = "crm.savedviews"
    label = "savedviews"
    verbose_name = _("保存的视图")
