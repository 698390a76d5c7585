"""`manage.py check --deploy` says when no key would sign the portable credentials."""
from django.conf import settings
from django.core.checks import Info, register


@register("certificates", deploy=True)
def signing_key_configured(app_configs, **kwargs):
    if settings.CERTIFICATE_SIGNING_KEYS or settings.CERTIFICATE_SIGNING_KEY_FILE:
        return []
    # Info, not Warning: the site runs without it; only the credential download answers 503 until a key is set.
    return [Info(
        "No certificate signing key is configured: credential downloads answer 503 until one is.",
        hint="Set CERTIFICATE_SIGNING_KEYS or CERTIFICATE_SIGNING_KEY_FILE (manage.py certificate_keys generate).",
        id="certificates.I001",
    )]
