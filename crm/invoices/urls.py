from django.urls import path

from crm.invoices import views

app_name = "invoices"

urlpatterns = [
    path("", views.InvoiceListView.as_view(), name="list"),
    path("contract/<int:contract_id>/new/", views.InvoiceRequestView.as_view(), name="request"),
    path("<int:pk>/", views.InvoiceDetailView.as_view(), name="detail"),
    path("<int:pk>/action/", views.InvoiceActionView.as_view(), name="action"),
    path("<int:pk>/print/", views.InvoicePrintView.as_view(), name="print"),
]
