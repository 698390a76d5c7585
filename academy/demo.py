"""The demo site (academy's top floor: it knows every app).

- `DEMO_USERS` / `ensure_demo_users(password)`: the four demo accounts (the README's table lists the same).
- `DEMO_STEPS`: the apps' demo steps, in order. Each is a module with `load_demo(*, users, log)` that builds its
  app's demo content with the app's own builders (<app>/builders.py) from its texts (<app>/demo_content.py); a
  module that does not exist (an app not installed) is skipped. The first step, this module, builds the home page.
- `load_demo(*, users, log)`: the home page's step.

`python manage.py load_demo` runs them all in one transaction. Nothing here imports tests/.
"""
import importlib
from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group

from academy.accounts.builders import ensure_groups
from academy.accounts.models import User
from academy.builders import make_home

DEMO_STEPS = [
    "academy.demo",
    "handbook.demo",
    "live.demo",
    "courses.demo",
    "courses.certificates.demo",
    "volunteers.demo",
]

# username -> (real name, role, groups, extra fields). The README's table of demo accounts lists the same.
DEMO_USERS = {
    "demo-organiser": ("林组织", User.Role.ORGANISER, ["Organisers"], {"organisation": "联动学堂编辑部", "city": "北京", "is_staff": False}),
    "demo-moderator": ("莫主持", User.Role.SOCIAL_WORKER, ["Moderators"], {"organisation": "汉水桥社会工作服务中心", "city": "武汉"}),
    "demo-volunteer": ("文志愿", User.Role.VOLUNTEER, [], {"volunteer_category": User.VolunteerCategory.SUPPLIES, "city": "武汉", "phone": "13800000001"}),
    "demo-socialworker": ("石社工", User.Role.SOCIAL_WORKER, [], {"organisation": "青枫里社区", "city": "武汉"}),
}

HOME_TAGLINE = "社区 · 社会组织 · 社会工作者，联动学习，共同应对"
HOME_INTRO = (
    "<p>联动学堂是“三社联动”线上培训平台：社区、社会组织和社会工作者在这里共同学习、协同行动。</p>"
    "<p>在这里可以自学《三社联动线上抗疫工作手册》，参加实务课程并取得志愿者培训证书，"
    "也可以在手机上参加直播课和专家连线，提问、点赞、参与投票。</p>"
)


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


def demo_steps():
    """(label, load_demo) of each step in DEMO_STEPS whose module exists; the label is the app ("courses")."""
    for name in DEMO_STEPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise  # the step exists but something it imports is missing: that is an error, not an absent app
            continue
        if hasattr(module, "load_demo"):
            yield name.removesuffix(".demo"), module.load_demo


def load_demo(*, users, log):
    """The home page's tagline and introduction; Organisers' rights on the page tree and collections (granted by the
    groups' migration, which finds no root page on a flushed database: granted again here, idempotently)."""
    home = make_home()
    import_module("academy.accounts.migrations.0002_groups").create_groups(apps, None)
    if home.intro != HOME_INTRO:
        home.tagline = HOME_TAGLINE
        home.intro = HOME_INTRO
        home.save_revision().publish()
        log("home page updated")
