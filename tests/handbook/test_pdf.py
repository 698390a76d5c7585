"""The whole manual as a PDF: embedded CJK font, contents with page numbers, rebuilt on publish, served."""
import io
import re

import pytest
from pypdf import PdfReader

from handbook.models import HandbookEdition
from tests.factories.handbook import make_chapter

pytestmark = pytest.mark.django_db


def test_publishing_rebuilds_the_pdf_with_contents_and_page_numbers(handbook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_chapter(handbook, number=1, slug="one", title="社区动员")
    with django_capture_on_commit_callbacks(execute=True):
        make_chapter(handbook, number=2, slug="two", title="志愿者上岗",
                     body=[("heading", "一、准备"), ("table", {"caption": "分工", "header_row": True,
                                                             "rows": [["角色", "负责"], ["社区", "统筹"]]}),
                           ("checklist", {"title": "出发前", "items": ["口罩", "工作证"]})])
    edition = HandbookEdition.objects.get()
    assert edition.pdf
    reader = PdfReader(io.BytesIO(edition.pdf.read()))
    contents = reader.pages[1].extract_text()
    assert "目录" in contents and "社区动员" in contents and "志愿者上岗" in contents
    assert re.search(r"\.\s*3\s", contents) and re.search(r"\.\s*4\s", contents)  # cover, contents, 1 page each
    assert "统筹" in reader.pages[3].extract_text()
    fonts = reader.pages[3]["/Resources"]["/Font"]
    descriptors = [font.get_object().get("/FontDescriptor") for font in fonts.values()]
    cjk = [d.get_object() for d in descriptors if d is not None and "WenQuanYi" in str(d.get_object()["/FontName"])]
    assert cjk and all("/FontFile2" in d for d in cjk)  # the project's CJK font, embedded (TrueType)


def test_the_pdf_is_served_and_linked_from_the_index_and_print_view(client, handbook, chapters):
    response = client.get("/handbook/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert 'href="/handbook/pdf/"' in client.get("/handbook/").content.decode()
    assert 'href="/handbook/pdf/"' in client.get("/handbook/print/").content.decode()


def test_a_publish_after_the_pdf_was_built_makes_the_view_rebuild_it(client, handbook, chapters):
    client.get("/handbook/pdf/")
    first = HandbookEdition.objects.get().pdf.name
    make_chapter(handbook, number=9, slug="late", title="后来发布的一章")  # on_commit does not run here
    response = client.get("/handbook/pdf/")
    edition = HandbookEdition.objects.get()
    assert edition.pdf.name != first
    assert "后来发布的一章" in PdfReader(io.BytesIO(b"".join(response.streaming_content))).pages[1].extract_text()
