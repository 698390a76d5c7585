from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self):
        from live.rights import connect_signals

        connect_signals()
