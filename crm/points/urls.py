from django.urls import path

from crm.points import views

app_name = "points"

urlpatterns = [
    path("customers/<int:customer_id>/", views.PointsManageView.as_view(), name="manage"),
]
