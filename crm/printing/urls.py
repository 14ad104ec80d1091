from django.urls import path

from crm.printing import views

app_name = "printing"
urlpatterns = [
    path("customers/<int:pk>/", views.CustomerPrintView.as_view(), name="customer"),
    path("customers/", views.CustomerListPrintView.as_view(), name="customers"),
    path("envelopes/print/", views.EnvelopePrintView.as_view(), name="envelopes"),
    path("envelopes/", views.EnvelopeTemplateListView.as_view(), name="envelope_templates"),
    path("envelopes/new/", views.EnvelopeTemplateFormView.as_view(), name="envelope_template_create"),
    path("envelopes/preview/", views.EnvelopeTemplatePreviewView.as_view(), name="envelope_template_preview"),
    path("envelopes/<int:pk>/edit/", views.EnvelopeTemplateFormView.as_view(), name="envelope_template_edit"),
    path(
        "envelopes/<int:pk>/delete/",
        views.EnvelopeTemplateDeleteView.as_view(),
        name="envelope_template_delete",
    ),
]
