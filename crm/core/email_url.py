"""Turn EMAIL_URL into Django's e-mail settings, so one variable configures delivery."""

from urllib.parse import parse_qs, unquote, urlparse

BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def email_settings_from_url(url: str) -> dict:
    parsed = urlparse(url)
    scheme = parsed.scheme or "console"
    if scheme not in BACKENDS:
        raise ValueError(f"EMAIL_URL scheme {scheme!r} is not one of {sorted(BACKENDS)}")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    result = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme in {"smtp", "smtps"}:
        result.update(
            EMAIL_HOST=parsed.hostname or "localhost",
            EMAIL_PORT=parsed.port or (465 if scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parsed.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parsed.password or ""),
            EMAIL_USE_SSL=scheme == "smtps" or query.get("ssl") in {"1", "true"},
            EMAIL_USE_TLS=query.get("tls") in {"1", "true"},
            EMAIL_TIMEOUT=10,
        )
    return result
