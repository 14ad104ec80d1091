"""Duplicate control (查重), the entry/protection policy page and the merge tool: /customers/duplicates/."""

from django.urls import path

from crm.customers import dup_views

app_name = "customer_duplicates"

urlpatterns = [
    path("check/", dup_views.DuplicateCheckView.as_view(), name="check"),
    path("settings/", dup_views.CustomerPolicyView.as_view(), name="settings"),
    path("merge/", dup_views.CustomerMergeView.as_view(), name="merge"),
]
