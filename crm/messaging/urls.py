from django.urls import path

from crm.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.notification_badge, name="bell"),
    path("read-all/", views.notification_mark_all_read, name="read_all"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("reminders/", views.reminder_list, name="reminders"),
    path("reminders/<int:pk>/delete/", views.reminder_delete, name="reminder_delete"),
]
