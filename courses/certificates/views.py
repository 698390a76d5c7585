"""Public verification, the learner's list, downloads (holder and organisers only) and the JWKS."""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from academy import ratelimit

from . import credentials, keys, selectors, status
from .models import Certificate
from .pdf import certificate_pdf

logger = logging.getLogger(__name__)

RATE_LIMITED = gettext_lazy("Too many verification requests from your network. Please wait a minute and try again.")


def wants_json(request) -> bool:
    if request.GET.get("format") == "json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _status_label(status: str) -> str:
    return {
        Certificate.Status.VALID: _("Valid"),
        Certificate.Status.REVOKED: _("Revoked"),
        Certificate.Status.SUPERSEDED: _("Superseded"),
    }[status]


def verification_answer(certificate: Certificate) -> dict:
    """What verification tells anyone: the status, and only the name, course, hours and dates."""
    answer = {
        "status": certificate.status,
        "status_label": _status_label(certificate.status),
        "number": certificate.number,
        "name": certificate.holder_name,
        "course": certificate.course_title,
        "hours": format(certificate.hours.normalize(), "f"),
        "completed_on": timezone.localdate(certificate.completed_at).isoformat(),
        "issued_on": timezone.localdate(certificate.issued_at).isoformat(),
        "issuer": certificate.issuer_name,
        "verify_url": credentials.verify_url(certificate),
    }
    if certificate.status == Certificate.Status.REVOKED:
        answer["revoked_on"] = timezone.localdate(certificate.revoked_at).isoformat()
        answer["revocation_reason"] = certificate.revocation_reason
    if certificate.status == Certificate.Status.SUPERSEDED:
        current = selectors.certificate_current_successor(certificate=certificate)
        if current is not None:
            answer["superseded_by"] = {"number": current.number, "verify_url": credentials.verify_url(current)}
    return answer


@require_GET
@never_cache
def verify(request, code: str):
    as_json = wants_json(request)
    key = f"verify:ip:{ratelimit.client_ip(request)}"
    if not ratelimit.hit(key, limit=settings.CERTIFICATE_VERIFY_RATE_LIMIT, window=settings.CERTIFICATE_VERIFY_RATE_WINDOW):
        retry = str(settings.CERTIFICATE_VERIFY_RATE_WINDOW)
        if as_json:
            response = JsonResponse({"status": "rate_limited", "message": str(RATE_LIMITED)}, status=429)
        else:
            response = render(request, "certificates/rate_limited.html", {"message": RATE_LIMITED}, status=429)
        response["Retry-After"] = retry
        return response
    certificate = selectors.certificate_by_code(code=code)
    if certificate is None:
        if as_json:
            return JsonResponse(
                {"status": "not_found", "message": _("No certificate has this verification code.")}, status=404
            )
        return render(request, "certificates/not_found.html", status=404)
    answer = verification_answer(certificate)
    if as_json:
        response = JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "certificates/verify.html", {"certificate": certificate, "answer": answer})
    response["Vary"] = "Accept"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
def my_certificates(request):
    certificates = selectors.certificate_list_for_holder(user=request.user)
    return render(request, "certificates/my_certificates.html", {"certificates": certificates})


def _downloadable(request, number: str) -> Certificate:
    """The certificate, if the user may download it; 404 otherwise (others must not learn that it exists)."""
    certificate = Certificate.objects.select_related("holder").filter(number=number).first()
    if certificate is None or not selectors.certificate_can_download(certificate=certificate, user=request.user):
        raise Http404
    return certificate


@login_required
@never_cache
def download_pdf(request, number: str):
    certificate = _downloadable(request, number)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response


@login_required
@never_cache
def download_credential(request, number: str):
    certificate = _downloadable(request, number)
    if not certificate.is_valid:
        return render(request, "certificates/credential_unavailable.html", {"certificate": certificate}, status=410)
    issuer = selectors.issuer_settings()
    try:
        token = credentials.credential_jwt(certificate, issuer_url=issuer.issuer_url)
    except keys.SigningKeyError:
        logger.exception("Cannot sign the credential of certificate %s", certificate.number)
        return render(request, "certificates/credential_unavailable.html",
                      {"certificate": certificate, "no_key": True}, status=503)
    response = HttpResponse(token, content_type=credentials.MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.jwt"'
    return response


@require_GET
def jwks(request):
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _public(response, max_age: int = 300):
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def signing_key_jwk(request, kid: str):
    """What a credential's `kid` URI dereferences to: the public JWK (never a private member)."""
    jwk = keys.public_jwk(kid) if len(kid) <= 64 else None
    if jwk is None:
        raise Http404
    return _public(JsonResponse(jwk))


@require_GET
def status_list(request, number: int):
    """The Bitstring Status List credential `number`, signed (application/vc+jwt)."""
    if not status.list_number_exists(number):
        raise Http404
    issuer = selectors.issuer_settings()
    try:
        token = credentials.status_list_jwt(number, issuer_url=issuer.issuer_url, issuer_name=issuer.issuer_name)
    except keys.SigningKeyError:
        logger.exception("Cannot sign status list %s", number)
        return JsonResponse({"status": "unavailable"}, status=503)
    return _public(HttpResponse(token, content_type=credentials.MEDIA_TYPE), status.STATUS_MAX_AGE)
