from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self):
        from live import admission, rights

        rights.connect_signals()
        admission.connect_signals()
