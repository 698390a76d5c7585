"""`manage.py check --deploy` says when no key would sign the portable credentials."""
from django.conf import settings
from django.core.checks import Warning, register


@register("certificates", deploy=True)
def signing_key_configured(app_configs, **kwargs):
    if settings.CERTIFICATE_SIGNING_KEYS or settings.CERTIFICATE_SIGNING_KEY_FILE:
        return []
    return [Warning(
        "No certificate signing key is configured: credential downloads will fail.",
        hint="Set CERTIFICATE_SIGNING_KEYS or CERTIFICATE_SIGNING_KEY_FILE (manage.py certificate_keys generate).",
        id="certificates.W001",
    )]
