from django.urls import path

from crm.contracts import export_views, order_views, views

app_name = "contracts"

urlpatterns = [
    path("", views.ContractListView.as_view(), name="list"),
    path("new/", views.ContractFormView.as_view(), name="create"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("line-row/", views.LineRowView.as_view(), name="line_row"),
    path("options/<str:what>/", views.CustomerOptionsView.as_view(), name="options"),
    path("from-quote/<int:quote_pk>/", views.FromQuoteView.as_view(), name="from_quote"),
    path("transfer/", views.ContractTransferView.as_view(), name="transfer"),
    path("export/", export_views.ContractExportView.as_view(), name="export"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="detail"),
    path("<int:pk>/followups/", views.ContractFollowUpCreateView.as_view(), name="followup_create"),
    path("<int:pk>/edit/", views.ContractFormView.as_view(), name="edit"),
    path("<int:pk>/action/", views.ContractActionView.as_view(), name="action"),
    path("<int:pk>/print/", views.PrintView.as_view(), name="print"),
    path("<int:pk>/attachments/", views.AttachmentUploadView.as_view(), name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.AttachmentDownloadView.as_view(),
        name="attachment_download",
    ),
    path("<int:pk>/order/<str:step>/", order_views.OrderStepView.as_view(), name="order_step"),
]
