from django.urls import include, path
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.permissions import register_permission_policy

from . import admin_views
from .models import Certificate

register_permission_policy(Certificate, admin_views.ManageCertificatesPolicy(Certificate))


@hooks.register("register_admin_viewset")
def register_certificate_viewset():
    return admin_views.CertificateViewSet()


@hooks.register("register_admin_urls")
def register_certificate_action_urls():
    urls = [
        path("bulk-issue/", admin_views.BulkIssueView.as_view(), name="bulk_issue"),
        path("<int:pk>/revoke/", admin_views.RevokeView.as_view(), name="revoke"),
        path("<int:pk>/reissue/", admin_views.ReissueView.as_view(), name="reissue"),
    ]
    return [path("certificate-actions/", include((urls, "certificate_actions")))]


class CertificatesPanel(Component):
    """Dashboard: certificates issued lately, and completions waiting for a certificate (an organiser's to-do)."""

    name = "certificates"
    template_name = "certificates/admin/panels/certificates.html"
    order = 130
    LIMIT = 5

    def get_context_data(self, parent_context):
        from .selectors import completions_without_certificate

        context = super().get_context_data(parent_context)
        context["recent"] = list(Certificate.objects.select_related("course").order_by("-issued_at")[: self.LIMIT])
        context["waiting"] = completions_without_certificate().count()
        return context


@hooks.register("construct_homepage_panels")
def add_certificates_panel(request, panels):
    if admin_views.can_manage(request.user):
        panels.append(CertificatesPanel())
