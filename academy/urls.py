from django.conf import settings
from django.templatetags.static import static
from django.utils.functional import lazy
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from academy import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (nginx serves it directly, deploy/nginx-site.conf).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("academy/favicon.ico"), permanent=False)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("academy.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("search/", views.search, name="search"),
    path("", include("courses.certificates.urls")),  # /certificates/… and /.well-known/jwks.json
    path("", include("volunteers.urls")),  # /volunteers/<slug>/apply/, my/, review/, roster.csv …
]

if settings.SERVE_FILES:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

# Wagtail's page tree serves everything else: /, /handbook/, /courses/, /live/ (with live's file-like routes first).
urlpatterns += [path("", include("live.urls")), path("", include(wagtail_urls))]
