from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self):
        from handbook.signals import chapter_read

        from courses.receivers import on_chapter_read

        chapter_read.connect(on_chapter_read, dispatch_uid="courses.on_chapter_read")
