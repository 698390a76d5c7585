"""Wagtail admin views: how many readers have read each chapter (aggregate counts; no reader is named), and the
import of a manual file (upload -> preview -> chapter drafts)."""
import secrets
import tempfile
import time
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from handbook.importing import ImportFailed, SourceError, handbook_import, import_plan
from handbook.importing.sources import MAX_BYTES
from handbook.models import ChapterPage, HandbookPage
from handbook.selectors import chapter_read_counts
from handbook.services import EditionError, edition_publish

REPORTS_PERMISSION = "accounts.view_reports"


def reading_report(request):
    if not (request.user.is_active and request.user.has_perm(REPORTS_PERMISSION)):
        raise PermissionDenied
    rows = chapter_read_counts()
    top = max([row["readers"] for row in rows] or [0]) or 1
    for row in rows:
        row["percent"] = round(100 * row["readers"] / top)
    return TemplateResponse(request, "handbook/admin/reading_report.html", {
        "page_title": _("Work manual reading"), "header_icon": "doc-full-inverse", "rows": rows,
    })


# --- Import a manual (upload -> preview -> create drafts) -----------------------------------------------------

IMPORT_SESSION_KEY = "handbook-import"
IMPORT_DIR_NAME = "academy-handbook-imports"
IMPORT_NOT_ALLOWED = gettext_lazy("You may not add chapters to this manual.")
IMPORT_EXPIRED = gettext_lazy("The uploaded file is no longer here: upload it again.")
IMPORT_NO_MANUAL = gettext_lazy("There is no work manual yet: create the manual page first.")


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Manual file (.docx, .html, .md)"))
    handbook = forms.ModelChoiceField(queryset=HandbookPage.objects.none(), label=gettext_lazy("Import into"),
                                      empty_label=None)

    def __init__(self, *args, manuals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handbook"].queryset = manuals


def _manuals_for(user):
    manuals = [manual for manual in HandbookPage.objects.order_by("path")
               if manual.permissions_for_user(user).can_add_subpage()]
    return HandbookPage.objects.filter(pk__in=[manual.pk for manual in manuals]).order_by("path")


def _block_label(kind: str) -> str:
    block = ChapterPage._meta.get_field("body").stream_block.child_blocks.get(kind)
    return str(block.label) if block is not None else kind


def can_import(user) -> bool:
    return user.is_active and _manuals_for(user).exists()


def _import_dir() -> Path:
    path = Path(tempfile.gettempdir()) / IMPORT_DIR_NAME
    path.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - 24 * 3600  # uploads left behind after a day are removed
    for old in path.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    return path


def import_manual(request):
    """Upload a manual file; see the chapters it will create and what it drops; then create them as drafts."""
    manuals = _manuals_for(request.user)
    if not request.user.is_active or not manuals.exists():
        if not HandbookPage.objects.exists() and request.user.is_active:
            messages.error(request, str(IMPORT_NO_MANUAL))
            return redirect("wagtailadmin_home")
        raise PermissionDenied
    context = {"page_title": _("Import the work manual"), "header_icon": "upload"}
    if request.method == "POST" and request.POST.get("action") == "create":
        return _import_create(request, manuals)
    form = ImportUploadForm(request.POST or None, request.FILES or None, manuals=manuals,
                            initial={"handbook": manuals.first()})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = Path(upload.name).name
        data = upload.read(MAX_BYTES + 1)
        try:
            plan = import_plan(file_name=name, data=data)
        except (SourceError, ImportFailed) as error:
            form.add_error("file", str(error))
        else:
            token = secrets.token_urlsafe(24)
            (_import_dir() / token).write_bytes(data)
            manual = form.cleaned_data["handbook"]
            request.session[IMPORT_SESSION_KEY] = {"token": token, "name": name, "handbook": manual.pk}
            existing = set(ChapterPage.objects.child_of(manual).values_list("number", flat=True))
            rows = [{"chapter": chapter, "exists": chapter.number in existing,
                     "counts": [(_block_label(kind), count) for kind, count in sorted(chapter.block_counts().items())]}
                    for chapter in plan.chapters]
            return TemplateResponse(request, "handbook/admin/import_preview.html", {
                **context, "plan": plan, "rows": rows, "manual": manual, "file_name": name,
            })
    return TemplateResponse(request, "handbook/admin/import_upload.html", {**context, "form": form})


def _import_create(request, manuals):
    pending = request.session.get(IMPORT_SESSION_KEY) or {}
    token = str(pending.get("token", ""))
    manual = manuals.filter(pk=pending.get("handbook")).first()
    path = _import_dir() / token if token and token.replace("-", "").replace("_", "").isalnum() else None
    if manual is None or path is None or not path.is_file():
        messages.error(request, str(IMPORT_EXPIRED))
        return redirect("handbook_import")
    try:
        plan = import_plan(file_name=pending["name"], data=path.read_bytes())
        result = handbook_import(plan=plan, handbook=manual, user=request.user)
    except (SourceError, ImportFailed) as error:
        messages.error(request, str(error))
        return redirect("handbook_import")
    finally:
        path.unlink(missing_ok=True)
        request.session.pop(IMPORT_SESSION_KEY, None)
    return TemplateResponse(request, "handbook/admin/import_done.html", {
        "page_title": _("Import the work manual"), "header_icon": "upload", "result": result, "manual": manual,
    })


# --- Publish a new edition -----------------------------------------------------------------------------------


class EditionForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Name of the new edition"), max_length=60,
                            help_text=gettext_lazy("For example 第二版."))
    published_date = forms.DateField(label=gettext_lazy("Date of the edition"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))


def publish_edition(request, pk):
    """Publish the manual as a new edition together with every chapter draft (after an import, say)."""
    manual = HandbookPage.objects.filter(pk=pk).first()
    if manual is None or not request.user.is_active or not manual.permissions_for_user(request.user).can_publish():
        raise PermissionDenied
    drafts = list(ChapterPage.objects.child_of(manual).filter(has_unpublished_changes=True).order_by("number"))
    form = EditionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            edition, published = edition_publish(handbook=manual, label=form.cleaned_data["label"],
                                                 published_date=form.cleaned_data["published_date"],
                                                 user=request.user)
        except EditionError as error:
            form.add_error("label", str(error))
        else:
            messages.success(request, _("%(edition)s is published with %(count)s chapter drafts.")
                             % {"edition": edition.label, "count": len(published)})
            return redirect("wagtailadmin_explore", manual.pk)
    return TemplateResponse(request, "handbook/admin/publish_edition.html", {
        "page_title": _("Publish a new edition"), "header_icon": "upload", "form": form, "manual": manual,
        "drafts": drafts, "editions": list(manual.editions.order_by("-started_at")),
    })
