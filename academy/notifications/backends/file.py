import json
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from academy.notifications.sms import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Appends each message as one JSON line ({"to", "body", "at"}) to SMS_FILE_PATH."""

    _lock = threading.Lock()

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        path = file_path or getattr(settings, "SMS_FILE_PATH", "")
        if not path:
            raise ImproperlyConfigured("The file SMS backend needs SMS_FILE_PATH.")
        self.path = Path(path)

    def send_messages(self, messages) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as stream:
            for message in messages:
                stream.write(json.dumps(
                    {"to": message.to, "body": message.body, "at": timezone.now().isoformat()}, ensure_ascii=False
                ) + "\n")
        return len(messages)
