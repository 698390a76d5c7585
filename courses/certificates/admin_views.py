"""Wagtail admin: the certificates list (search, filters, CSV/XLSX export), the detail page with its audit trail,
and the actions organisers take: bulk issue, revoke, re-issue. Everything needs accounts.manage_certificates."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies.base import BasePermissionPolicy

from academy.exports import Table, csv_response, xlsx_response
from courses.models import CoursePage

from . import selectors, services
from .models import Certificate

MANAGE = selectors.MANAGE_PERMISSION


def can_manage(user) -> bool:
    return user.is_active and user.has_perm(MANAGE)


class ManageCertificatesPolicy(BasePermissionPolicy):
    """Organisers with accounts.manage_certificates may view certificates; nobody edits or deletes them in the
    generic views (changes go through the actions below, which record who did what)."""

    def user_has_permission(self, user, action):
        return action == "view" and can_manage(user)

    def users_with_any_permission(self, actions):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        if "view" not in actions:
            return User.objects.none()
        return User.objects.filter(is_active=True).filter(
            models_q_has_perm()
        ).distinct()


def models_q_has_perm():
    from django.db.models import Q

    app_label, codename = MANAGE.split(".")
    return (
        Q(is_superuser=True)
        | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    )


EXPORT_COLUMNS = [
    (gettext_lazy("Certificate number"), lambda c: c.number),
    (gettext_lazy("Name on the certificate"), lambda c: c.holder_name),
    (gettext_lazy("Username"), lambda c: c.holder.username),
    (gettext_lazy("Course"), lambda c: c.course_title),
    (gettext_lazy("Hours"), lambda c: c.hours),
    (gettext_lazy("Completed at"), lambda c: c.completed_at),
    (gettext_lazy("Issued at"), lambda c: c.issued_at),
    (gettext_lazy("Status"), lambda c: c.get_status_display()),
    (gettext_lazy("Revoked at"), lambda c: c.revoked_at),
    (gettext_lazy("Reason for revocation"), lambda c: c.revocation_reason),
    (gettext_lazy("Issuing organisation"), lambda c: c.issuer_name),
]


def certificates_table(queryset) -> Table:
    """The certificates listed (search and filters applied) as the one exporter writes them: local times without
    microseconds, statuses in words, formulas neutralised."""
    return Table(
        title=str(gettext_lazy("Certificates")),
        headers=[str(label) for label, _value in EXPORT_COLUMNS],
        rows=[[value(c) for _label, value in EXPORT_COLUMNS] for c in queryset.select_related("holder")],
    )


class CertificateIndexView(IndexView):
    @property
    def header_buttons(self):
        return [HeaderButton(_("Bulk issue"), url=reverse("certificate_actions:bulk_issue"), icon_name="plus")]

    def as_spreadsheet(self, queryset, spreadsheet_format):
        """Wagtail's "Download CSV/XLSX" buttons answer through the project's one exporter, not Wagtail's own."""
        table = certificates_table(queryset)
        if spreadsheet_format == self.FORMAT_XLSX:
            return xlsx_response(table, filename=self.get_filename())
        return csv_response(table, filename=self.get_filename())


class CertificateInspectView(InspectView):
    template_name = "certificates/admin/inspect.html"

    @property
    def header_buttons(self):
        buttons = [HeaderButton(_("Download PDF"), url=reverse("certificates:pdf", args=[self.object.number]), icon_name="download")]
        if self.object.is_valid:
            buttons += [
                HeaderButton(_("Re-issue"), url=reverse("certificate_actions:reissue", args=[self.object.pk]), icon_name="repeat"),
                HeaderButton(_("Revoke"), url=reverse("certificate_actions:revoke", args=[self.object.pk]), icon_name="warning"),
            ]
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["events"] = self.object.events.select_related("actor")
        context["verify_path"] = reverse("certificates:verify", args=[self.object.code])
        return context


class CertificateViewSet(ModelViewSet):
    model = Certificate
    icon = "doc-full"
    menu_label = gettext_lazy("Certificates")
    menu_order = 250
    add_to_admin_menu = True
    url_prefix = "certificates"
    name = "certificate_admin"
    index_view_class = CertificateIndexView
    inspect_view_class = CertificateInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = ["number", "holder_name", "course_title", "status", "issued_at"]
    list_filter = ["status", "course"]
    search_fields = ["number", "holder_name", "course_title", "holder__username", "holder__real_name"]
    list_export = ["number", "holder_name", "holder.username", "course_title", "hours", "completed_at", "issued_at",
                   "status", "revoked_at", "revocation_reason", "issuer_name"]
    export_headings = {"holder.username": gettext_lazy("username")}
    export_filename = "certificates"
    inspect_view_fields = ["number", "holder_name", "holder", "course_title", "hours", "completed_at", "issued_at",
                           "issuer_name", "signatory_name", "signatory_title", "status"]
    form_fields = ["holder_name"]  # never used: the policy allows no add or edit


# --- Actions ----------------------------------------------------------------------------------------------------

class ManageRequiredMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_manage(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AdminFormView(ManageRequiredMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "certificates/admin/form.html"
    header_icon = "doc-full"
    submit_label = gettext_lazy("Save")

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("certificate_admin:index"), "label": _("Certificates")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["submit_label"] = self.submit_label
        return context


class BulkIssueForm(forms.Form):
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"), queryset=CoursePage.objects.filter(certificate_enabled=True).order_by("title")
    )
    completed_since = forms.DateTimeField(
        label=gettext_lazy("Completed on or after"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("For example the start of a live class. Empty: every completion of the course."),
    )
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)


class BulkIssueView(AdminFormView):
    form_class = BulkIssueForm
    page_title = gettext_lazy("Bulk issue certificates")
    submit_label = gettext_lazy("Count learners")

    def form_valid(self, form):
        course, since = form.cleaned_data["course"], form.cleaned_data["completed_since"]
        pending = selectors.completions_for_bulk_issue(course=course, completed_since=since)
        if not form.cleaned_data["confirm"]:
            count = pending.count()
            data = form.data.copy()
            data["confirm"] = "True"
            confirm_form = BulkIssueForm(data)
            confirm_form.is_valid()
            return self.render_to_response(self.get_context_data(
                form=confirm_form, count=count,
                submit_label=_("Issue %(count)d certificates") % {"count": count},
            ))
        issued = services.certificate_issue_bulk(completions=pending, actor=self.request.user)
        messages.success(self.request, _("%(count)d certificates issued for “%(course)s”.") % {
            "count": len(issued), "course": course.title})
        return redirect("certificate_admin:index")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("submit_label", self.submit_label)
        if "submit_label" in kwargs:
            context["submit_label"] = kwargs["submit_label"]
        return context


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown on the public verification page."),
    )


class CertificateActionView(AdminFormView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.certificate = get_object_or_404(Certificate, pk=kwargs["pk"])

    def get_page_subtitle(self):
        return str(self.certificate)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["certificate"] = self.certificate
        return context

    def run(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.run(form)
        except ValidationError as exc:
            by_field = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for field, errors in by_field.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            return self.form_invalid(form)
        return redirect("certificate_admin:inspect", result.pk)


class RevokeView(CertificateActionView):
    form_class = RevokeForm
    page_title = gettext_lazy("Revoke certificate")
    submit_label = gettext_lazy("Revoke")

    def run(self, form):
        certificate = services.certificate_revoke(
            certificate=self.certificate, actor=self.request.user, reason=form.cleaned_data["reason"])
        messages.success(self.request, _("Certificate %(number)s revoked.") % {"number": certificate.number})
        return certificate


class ReissueForm(forms.Form):
    holder_name = forms.CharField(label=gettext_lazy("Name to print"), max_length=60)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


class ReissueView(CertificateActionView):
    form_class = ReissueForm
    page_title = gettext_lazy("Re-issue certificate")
    submit_label = gettext_lazy("Re-issue")

    def get_initial(self):
        return {"holder_name": self.certificate.holder.real_name or self.certificate.holder_name,
                "reason": _("Name corrected")}

    def run(self, form):
        new = services.certificate_reissue(
            certificate=self.certificate, actor=self.request.user,
            holder_name=form.cleaned_data["holder_name"], reason=form.cleaned_data["reason"])
        messages.success(self.request, _("Certificate %(old)s was replaced by %(new)s.") % {
            "old": self.certificate.number, "new": new.number})
        return new
