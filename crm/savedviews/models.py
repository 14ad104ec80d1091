"""Saved views (保存的视图, CUS-2): a named list state that a user opens again later.

Generic over lists: `list_key` names the list ("customers" now; leads and opportunities later),
whose registry entry (crm/savedviews/registry.py) says which permissions apply and how its
parameters are validated. `params` holds the list's state as validated data, never SQL; opening a
view replays it through the list's own selector and access policy, so a view never shows more than
the user could see anyway.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    list_key = models.CharField(_("列表"), max_length=32)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        related_name="saved_views",
        on_delete=models.CASCADE,
    )
    name = models.CharField(_("视图名称"), max_length=40)
    is_shared = models.BooleanField(_("共享给所有人"), default=False)
    params = models.JSONField(_("列表条件"), default=dict, blank=True)
    is_default = models.BooleanField(_("默认视图"), default=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")
        ordering = ["list_key", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "list_key", "name"], name="savedview_unique_name"),
            models.UniqueConstraint(
                fields=["owner", "list_key"],
                condition=models.Q(is_default=True),
                name="savedview_one_default",
            ),
        ]
        indexes = [
            models.Index(fields=["list_key", "is_shared"], name="savedview_shared_idx"),
        ]

    def __str__(self) -> str:
        return self.name
