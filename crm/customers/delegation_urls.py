from django.urls import path

from crm.customers import delegation_views

app_name = "customers_delegations"

urlpatterns = [
    path("", delegation_views.DelegationListView.as_view(), name="list"),
    path("<int:pk>/revoke/", delegation_views.DelegationRevokeView.as_view(), name="revoke"),
]
