import sys
import threading

from academy.notifications.sms import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Writes each message to a stream (stdout by default), like Django's console e-mail backend."""

    _lock = threading.Lock()

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, messages) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()
        return len(messages)
