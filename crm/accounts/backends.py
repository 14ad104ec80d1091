from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the e-mail address (ORG-6), case-insensitively."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        login = username.strip()
        field = "email__iexact" if "@" in login else "username__iexact"
        try:
            user = user_model.objects.get(**{field: login})
        except (user_model.DoesNotExist, user_model.MultipleObjectsReturned):
            user_model().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_username(request, credentials) -> str:
    """The name django-axes counts failures under: case-insensitive, and an e-mail maps to its
    account, so "Sales1", "sales1" and "sales1@example.com" share one counter of 5 attempts."""
    login = str((credentials or {}).get("username") or request.POST.get("username", "")).strip().lower()
    if "@" in login:
        username = (
            get_user_model().objects.filter(email__iexact=login).values_list("username", flat=True).first()
        )
        if username:
            return username.lower()
    return login
