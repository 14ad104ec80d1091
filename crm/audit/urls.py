from django.urls import path

from crm.audit import views

app_name = "audit"

urlpatterns = [path("", views.OperationLogListView.as_view(), name="list")]
