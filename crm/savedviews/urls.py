from django.urls import path

from crm.savedviews import views

app_name = "savedviews"

urlpatterns = [
    path("", views.SavedViewCreateView.as_view(), name="create"),
    path("<int:pk>/<slug:action>/", views.SavedViewActionView.as_view(), name="action"),
]
