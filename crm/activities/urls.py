from django.urls import path

from crm.activities import views

app_name = "activities"

urlpatterns = [
    path("", views.FollowUpListView.as_view(), name="list"),
    path("new/", views.FollowUpFormView.as_view(), name="create"),
    path("<int:pk>/", views.FollowUpDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.FollowUpFormView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.FollowUpDeleteView.as_view(), name="delete"),
    path("<int:pk>/comments/", views.CommentCreateView.as_view(), name="comment"),
    path("<int:pk>/attachments/", views.AttachmentUploadView.as_view(), name="attachment_upload"),
    path("attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment"),
    path("reminders/", views.ReminderListView.as_view(), name="reminders"),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("templates/new/", views.TemplateFormView.as_view(), name="template_create"),
    path("templates/<int:pk>/edit/", views.TemplateFormView.as_view(), name="template_edit"),
    path("templates/<int:pk>/delete/", views.TemplateDeleteView.as_view(), name="template_delete"),
]
