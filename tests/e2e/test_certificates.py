"""A holder finds the certificate on a phone, opens its verification page, and downloads the PDF."""
import pytest

from tests.e2e.conftest import PHONE, log_in
from tests.factories.accounts import DEFAULT_PASSWORD


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_holder_opens_verification_page_and_downloads_pdf_on_a_phone(asgi_server, browser):
    from courses.certificates import services
    from tests.factories import UserFactory, make_home
    from tests.factories.certificates import complete, set_issuer
    from tests.factories.courses import make_course

    make_home()
    set_issuer()
    holder = UserFactory(username="holder-e2e", real_name="欧阳喆")
    course = make_course(title="志愿者上岗培训", slug="onboarding-e2e")
    certificate = services.certificate_issue(completion=complete(holder, course))

    context = browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    log_in(page, asgi_server, "holder-e2e", DEFAULT_PASSWORD)
    page.goto(asgi_server + "/certificates/")
    assert page.get_by_role("heading", name="我的证书").is_visible()
    assert page.get_by_text(certificate.number).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename == f"{certificate.number}.pdf"
    page.get_by_role("link", name="验证页面").click()
    page.wait_for_url(f"**/certificates/verify/{certificate.code}/")
    assert page.get_by_text("有效", exact=True).is_visible()
    assert page.locator("main dd", has_text="欧阳喆").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
