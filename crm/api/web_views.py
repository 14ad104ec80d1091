"""The user's own API tokens in the profile: list, create (secret shown once), revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.api import services
from crm.api.forms import TokenCreateForm
from crm.api.models import APIToken
from crm.core.mixins import client_ip


def _page(request, form, secret=None, created=None, status=200):
    tokens = APIToken.objects.filter(user=request.user).order_by("-created_at", "-id")[:200]
    context = {"tokens": tokens, "form": form, "secret": secret, "created": created}
    return render(request, "api/tokens.html", context, status=status)


@login_required
def tokens(request):
    if request.method != "POST":
        return _page(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        token, secret = services.token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_at=form.expires_at(),
            ip=client_ip(request),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                field = {"expires_at": "expires_on"}.get(field, field)
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return _page(request, form, status=400)
    # Rendered, not redirected: the secret is shown this once and never stored anywhere.
    return _page(request, TokenCreateForm(), secret=secret, created=token)


@login_required
@require_POST
def token_revoke(request, pk):
    token = services.token_revoke(user=request.user, token_id=pk, ip=client_ip(request))
    messages.success(
        request, _("令牌“%(name)s”已撤销，使用它的程序将无法再访问 API。") % {"name": token.name}
    )
    return redirect("apitokens:list")
