from django.urls import path

from crm.accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/profile/", views.profile, name="profile"),
    path("account/password/", views.password_change, name="password_change"),
    path("org/departments/", views.DepartmentsView.as_view(), name="departments"),
    path("org/departments/new/", views.DepartmentFormView.as_view(), name="department_create"),
    path("org/departments/<int:pk>/edit/", views.DepartmentFormView.as_view(), name="department_edit"),
    path("org/departments/<int:pk>/delete/", views.DepartmentDeleteView.as_view(), name="department_delete"),
    path("org/teams/new/", views.TeamFormView.as_view(), name="team_create"),
    path("org/teams/<int:pk>/edit/", views.TeamFormView.as_view(), name="team_edit"),
    path("org/teams/<int:pk>/delete/", views.TeamDeleteView.as_view(), name="team_delete"),
    path("org/users/", views.UserListView.as_view(), name="users"),
    path("org/users/pick/", views.user_picker, name="user_picker"),
    path("org/users/new/", views.UserFormView.as_view(), name="user_create"),
    path("org/users/import/", views.UserImportView.as_view(), name="user_import"),
    path(
        "org/users/import/template.xlsx", views.UserImportTemplateView.as_view(), name="user_import_template"
    ),
    path("org/users/<int:pk>/edit/", views.UserFormView.as_view(), name="user_edit"),
    path("org/users/<int:pk>/active/", views.UserActiveView.as_view(), name="user_active"),
    path("org/users/<int:pk>/disable/", views.UserDisableView.as_view(), name="user_disable"),
    path("org/users/<int:pk>/password/", views.UserPasswordResetView.as_view(), name="user_password"),
    path("org/roles/", views.RoleListView.as_view(), name="roles"),
    path("org/roles/new/", views.RoleFormView.as_view(), name="role_create"),
    path("org/roles/<int:pk>/edit/", views.RoleFormView.as_view(), name="role_edit"),
    path("org/roles/<int:pk>/delete/", views.RoleDeleteView.as_view(), name="role_delete"),
]
