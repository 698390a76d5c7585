from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "courses.certificates"
    label = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from courses.signals import course_completed

        from . import checks  # noqa: F401 (registers the deploy check)
        from .receivers import issue_on_completion

        course_completed.connect(issue_on_completion, dispatch_uid="certificates.issue_on_completion")
