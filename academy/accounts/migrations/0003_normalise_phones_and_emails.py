"""Before the constraints of 0004: phone numbers to E.164 and e-mail addresses unique whatever their case.

Deterministic: accounts are visited by id; the first account keeps a phone number or an e-mail address, a later
duplicate has it blanked, and so has an invalid phone number. Each blanked value is logged (warning) with the
account's id and username, so that organisers can ask those members for it again.
"""
import logging

from django.db import migrations

logger = logging.getLogger("academy.accounts.migrations")


def normalise(apps, schema_editor):
    from academy.accounts.phones import phone_or_none

    User = apps.get_model("accounts", "User")
    phones: set[str] = set()
    emails: set[str] = set()
    new_phones: dict[int, str] = {}
    for user in User.objects.order_by("pk").only("pk", "username", "phone", "email").iterator():
        if user.phone:
            phone = phone_or_none(user.phone)
            if phone is None or phone in phones:
                reason = "invalid" if phone is None else "a duplicate of an earlier account's"
                logger.warning("accounts: blanked the %s phone number of user %s (%s)", reason, user.pk, user.username)
                phone = ""
            else:
                phones.add(phone)
            if phone != user.phone:
                new_phones[user.pk] = phone
        if user.email:
            key = user.email.strip().lower()
            if key in emails:
                logger.warning("accounts: blanked the e-mail address of user %s (%s), a duplicate of an earlier "
                               "account's", user.pk, user.username)
                User.objects.filter(pk=user.pk).update(email="")
            else:
                emails.add(key)
    # Blank every changed phone first, then write the new ones: no step can collide with a row not yet rewritten.
    User.objects.filter(pk__in=list(new_phones)).update(phone="")
    for pk, phone in new_phones.items():
        if phone:
            User.objects.filter(pk=pk).update(phone=phone)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_groups")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
