"""Audit of logins (ORG-6, FUP-5): every login, failed login and lock-out goes to the log."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from crm.audit.services import client_ip, log_action


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    log_action(actor=user, action="auth.login", target=user, ip_address=client_ip(request))


@receiver(user_logged_out)
def log_logout(sender, request, user, **kwargs):
    if user is not None:
        log_action(actor=user, action="auth.logout", target=user, ip_address=client_ip(request))


@receiver(user_login_failed)
def log_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    log_action(actor=None, action="auth.login_failed", message=username, ip_address=client_ip(request))


@receiver(user_locked_out)
def log_locked_out(sender, request, username, ip_address, **kwargs):
    log_action(actor=None, action="auth.locked_out", message=str(username or "")[:150], ip_address=ip_address)
