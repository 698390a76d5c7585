import factory
from django.contrib.auth.models import Group

from academy.accounts.models import User

DEFAULT_PASSWORD = "secret-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"学员{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = User.Role.VOLUNTEER
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            ensure_groups()
            self.groups.add(*Group.objects.filter(name__in=extracted))
        if create:
            self.save()


def ensure_groups() -> None:
    """Organisers and Moderators exist with their permissions (a transactional test may have flushed them)."""
    from django.apps import apps
    from importlib import import_module

    if Group.objects.filter(name__in=["Organisers", "Moderators"]).count() == 2:
        return
    import_module("academy.accounts.migrations.0002_groups").create_groups(apps, None)


# username -> (real name, role, groups, extra fields). The README's table of demo accounts lists the same.
DEMO_USERS = {
    "demo-organiser": ("林组织", User.Role.ORGANISER, ["Organisers"], {"organisation": "联动学堂编辑部", "city": "北京", "is_staff": False}),
    "demo-moderator": ("莫主持", User.Role.SOCIAL_WORKER, ["Moderators"], {"organisation": "汉水桥社会工作服务中心", "city": "武汉"}),
    "demo-volunteer": ("文志愿", User.Role.VOLUNTEER, [], {"volunteer_category": User.VolunteerCategory.SUPPLIES, "city": "武汉", "phone": "13800000001"}),
    "demo-socialworker": ("石社工", User.Role.SOCIAL_WORKER, [], {"organisation": "青枫里社区", "city": "武汉"}),
}


def ensure_demo_users(password: str) -> dict[str, User]:
    """Create or update the demo accounts with `password`; returns them by username."""
    ensure_groups()
    users = {}
    for username, (real_name, role, groups, extra) in DEMO_USERS.items():
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={"real_name": real_name, "role": role, "email": f"{username}@example.org", **extra},
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.set(Group.objects.filter(name__in=groups))
        users[username] = user
    return users
