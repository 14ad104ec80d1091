from django.urls import path

from crm.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.ExportJobListView.as_view(), name="list"),
    path("new/", views.ExportCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ExportJobDetailView.as_view(), name="detail"),
    path("<int:pk>/download/", views.ExportDownloadView.as_view(), name="download"),
]
