"""Included once per target, e.g. `path("customers/settings/custom-fields/",
include("crm.customfields.urls"), {"target": "customers"})`."""

from django.urls import path

from crm.customfields import views

app_name = "customfields"

urlpatterns = [
    path("", views.CustomFieldListView.as_view(), name="list"),
    path("new/", views.CustomFieldFormView.as_view(), name="create"),
    path("<int:pk>/edit/", views.CustomFieldFormView.as_view(), name="edit"),
    path("<int:pk>/active/", views.CustomFieldActiveView.as_view(), name="active"),
    path("<int:pk>/move/", views.CustomFieldMoveView.as_view(), name="move"),
]
