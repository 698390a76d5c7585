from academy.notifications import sms
from academy.notifications.sms import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Keeps messages in `academy.notifications.sms.outbox` (for tests)."""

    def send_messages(self, messages) -> int:
        sms.outbox.extend(messages)
        return len(messages)
