"""The one DRF permission class: it asks the access policy, like the UI's PermissionMixin."""

from rest_framework.permissions import BasePermission

from crm.access import policy

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "edit",
    "PATCH": "edit",
    "DELETE": "delete",
}


class HasModulePermission(BasePermission):
    """A view sets `module = "users"` (HTTP method picks the action) or `permission = "users.edit"`.

    A view with neither needs only an authenticated user.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if not self.method_is_handled(request, view):
            return True  # the view answers 405 Method Not Allowed, not a misleading 403
        required = self.required_permission(request, view)
        return required is None or policy.can(request.user, required)

    @staticmethod
    def method_is_handled(request, view) -> bool:
        method = request.method.lower()
        return method in view.http_method_names and hasattr(view, method)

    @staticmethod
    def required_permission(request, view) -> str | None:
        action_permissions = getattr(view, "action_permissions", {})
        action = getattr(view, "action", None)
        if action in action_permissions:
            return action_permissions[action]
        if getattr(view, "permission", None):
            return view.permission
        module = getattr(view, "module", None)
        if module:
            return f"{module}.{METHOD_ACTIONS.get(request.method, 'view')}"
        return None
