from django.urls import path

from crm.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.ImportHomeView.as_view(), name="home"),
    path("jobs/", views.JobListView.as_view(), name="jobs"),
    path("jobs/<int:pk>/", views.JobView.as_view(), name="job"),
    path("jobs/<int:pk>/mapping/", views.MappingView.as_view(), name="mapping"),
    path("jobs/<int:pk>/start/", views.StartView.as_view(), name="start"),
    path("jobs/<int:pk>/progress/", views.ProgressView.as_view(), name="progress"),
    path("jobs/<int:pk>/failed.xlsx", views.FailedRowsView.as_view(), name="failed_rows"),
    path("<slug:target>/", views.UploadView.as_view(), name="upload"),
    path("<slug:target>/template.xlsx", views.TemplateView.as_view(), name="template"),
]
