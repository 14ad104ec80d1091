from django.urls import path

from crm.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.LeadListView.as_view(), name="list"),
    path("bulk/", views.LeadBulkView.as_view(), name="bulk"),
    path("new/", views.LeadFormView.as_view(), name="create"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.LeadFormView.as_view(), name="edit"),
    path("<int:pk>/convert/", views.LeadConvertView.as_view(), name="convert"),
    path("<int:pk>/followups/", views.LeadFollowUpCreateView.as_view(), name="followup_create"),
]
