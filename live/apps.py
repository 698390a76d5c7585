from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from wagtail.signals import page_published, page_unpublished

        from live import admission, rights
        from live.links import forget_session
        from live.models import LiveSessionPage

        rights.connect_signals()
        admission.connect_signals()
        for signal in (page_published, page_unpublished, post_save, post_delete):
            signal.connect(forget_session, sender=LiveSessionPage, dispatch_uid=f"live.links.{id(signal)}")
