from django.urls import include, path
from wagtail import hooks
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
