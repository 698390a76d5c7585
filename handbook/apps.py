from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandbookConfig(AppConfig):
    name = "handbook"
    verbose_name = _("Work manual")

    def ready(self):
        from handbook import receivers
        from handbook.caching import connect_signals

        connect_signals()
        receivers.connect()
