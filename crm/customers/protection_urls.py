"""Customer protection endpoints (POST only): /customers/protection/<id>/protect/ and /unprotect/."""

from django.urls import path

from crm.customers import dup_views

app_name = "customer_protection"

urlpatterns = [
    path("<int:pk>/protect/", dup_views.CustomerProtectView.as_view(), name="protect"),
    path("<int:pk>/unprotect/", dup_views.CustomerUnprotectView.as_view(), name="unprotect"),
]
