"""One way for views to declare what they need: `permission = "users.create"`."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views import View

from crm.access import policy


class PermissionMixin(LoginRequiredMixin):
    permission: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.permission and not policy.can(request.user, self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class ServiceFormView(PermissionMixin, View):
    """One page that creates (no pk) or edits (pk) a record through a service.

    GET shows the form. POST validates it and calls `save(form)`; a ValidationError raised by the
    service lands on the form and the page answers 400, having changed nothing (services are
    atomic). Subclasses name the permissions, the template and the context name of the record,
    and implement `load`, `get_form`, `save`, `success_message` and `success_url`.
    """

    template_name = ""
    create_permission = ""
    edit_permission = ""
    object_name = "object"

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.pk = pk
        self.permission = self.edit_permission if pk else self.create_permission
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        self.object = self.load(self.pk) if self.pk else None
        return self.render(self.get_form())

    def post(self, request):
        self.object = self.load(self.pk) if self.pk else None
        form = self.get_form()
        if form.is_valid():
            try:
                saved = self.save(form)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, self.success_message(saved))
                return redirect(self.success_url(saved))
        return self.render(form, status=400)

    def render(self, form, status=200):
        context = {"form": form, self.object_name: self.object, **self.extra_context(form)}
        return render(self.request, self.template_name, context, status=status)

    def extra_context(self, form) -> dict:
        return {}

    def load(self, pk):
        raise NotImplementedError

    def get_form(self):
        raise NotImplementedError

    def save(self, form):
        raise NotImplementedError

    def success_message(self, saved) -> str:
        raise NotImplementedError

    def success_url(self, saved) -> str:
        raise NotImplementedError
