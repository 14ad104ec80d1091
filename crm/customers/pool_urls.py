from django.urls import path

from crm.customers import pool_views as views
from crm.customers import recycle_views

app_name = "pool"

urlpatterns = [
    path("", views.PoolListView.as_view(), name="list"),
    path("<int:pk>/claim/", views.PoolClaimView.as_view(), name="claim"),
    path("assign/", views.PoolAssignView.as_view(), name="assign"),
    path("recall/", views.PoolRecallView.as_view(), name="recall"),
    path("delete/", views.PoolDeleteView.as_view(), name="delete"),
    path("release/<int:pk>/", views.PoolReleaseView.as_view(), name="release"),
    path("applications/", views.ApplicationListView.as_view(), name="applications"),
    path(
        "applications/<int:pk>/approve/",
        views.ApplicationDecideView.as_view(approve=True),
        name="application_approve",
    ),
    path(
        "applications/<int:pk>/reject/",
        views.ApplicationDecideView.as_view(approve=False),
        name="application_reject",
    ),
    path("settings/", views.PoolSettingsView.as_view(), name="settings"),
    path("settings/pools/new/", views.PoolFormView.as_view(), name="pool_create"),
    path("settings/pools/<int:pk>/edit/", views.PoolFormView.as_view(), name="pool_edit"),
    path("settings/pools/<int:pk>/delete/", views.PoolRemoveView.as_view(), name="pool_delete"),
    path("settings/recycle/new/", recycle_views.RecycleRuleFormView.as_view(), name="recycle_create"),
    path("settings/recycle/run/", recycle_views.RecycleRunView.as_view(), name="recycle_run_all"),
    path("settings/recycle/<int:pk>/edit/", recycle_views.RecycleRuleFormView.as_view(), name="recycle_edit"),
    path(
        "settings/recycle/<int:pk>/toggle/",
        recycle_views.RecycleRuleToggleView.as_view(),
        name="recycle_toggle",
    ),
    path(
        "settings/recycle/<int:pk>/delete/",
        recycle_views.RecycleRuleDeleteView.as_view(),
        name="recycle_delete",
    ),
    path(
        "settings/recycle/<int:pk>/preview/",
        recycle_views.RecycleRulePreviewView.as_view(),
        name="recycle_preview",
    ),
    path("settings/recycle/<int:pk>/run/", recycle_views.RecycleRunView.as_view(), name="recycle_run"),
]
