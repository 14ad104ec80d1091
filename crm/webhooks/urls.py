from django.urls import path

from crm.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.EndpointListView.as_view(), name="list"),
    path("new/", views.EndpointFormView.as_view(), name="create"),
    path("allowed-hosts/", views.AllowedHostListView.as_view(), name="allowed_hosts"),
    path("allowed-hosts/<int:pk>/delete/", views.AllowedHostDeleteView.as_view(), name="allowed_host_delete"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery"),
    path("deliveries/<int:pk>/replay/", views.DeliveryReplayView.as_view(), name="replay"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EndpointFormView.as_view(), name="edit"),
    path("<int:pk>/action/", views.EndpointActionView.as_view(), name="action"),
]
