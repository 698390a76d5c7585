import factory
from django.contrib.auth.models import Group

from academy.accounts.builders import ensure_groups
from academy.accounts.models import User
from academy.demo import DEMO_USERS, ensure_demo_users  # noqa: F401  (re-exported: tests import them from here)

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
