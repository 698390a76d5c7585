"""Replace Wagtail's welcome page with our home page and point the default site at it."""
from django.db import migrations


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    Locale = apps.get_model("wagtailcore.Locale")
    HomePage = apps.get_model("academy.HomePage")

    if HomePage.objects.exists():
        return
    Page.objects.filter(depth=2, slug="home").delete()
    locale = Locale.objects.first() or Locale.objects.create(language_code="zh-hans")
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="academy")
    home = HomePage.objects.create(
        title="联动学堂",
        draft_title="联动学堂",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        tagline="三社联动线上培训平台",
    )
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home, "site_name": "联动学堂"}
    )


class Migration(migrations.Migration):
    dependencies = [("academy", "0001_initial"), ("wagtailcore", "0098_apitoken")]
    operations = [migrations.RunPython(create_homepage, migrations.RunPython.noop)]
