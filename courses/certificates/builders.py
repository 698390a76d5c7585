"""Certificate builders, used by the demo (courses/certificates/demo.py) and the tests.

- `set_issuer(**values)`: the issuer's site settings (DEMO_ISSUER unless overridden), changed only where they differ.
- `ensure_organiser_permissions()`: Organisers may edit the issuer settings.
"""
from importlib import import_module

from django.apps import apps

from academy.accounts.builders import ensure_groups
from academy.pages import site_root
from courses.certificates.models import CertificateSettings

DEMO_ISSUER = {
    "issuer_name": "联动学堂",
    "signatory_name": "林明远",
    "signatory_title": "联动学堂培训中心主任",
}


def ensure_organiser_permissions() -> None:
    """Organisers may edit the issuer settings (a transactional test may have flushed what the migration granted)."""
    ensure_groups()
    import_module("courses.certificates.migrations.0002_organiser_permissions").grant(apps, None)


def set_issuer(**values) -> CertificateSettings:
    issuer = CertificateSettings.for_site(site_root().get_site())
    changed = {k: v for k, v in {**DEMO_ISSUER, **values}.items() if getattr(issuer, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(issuer, name, value)
        issuer.save()
    return issuer
