"""The demo site: which builders `load_demo` runs, in order (top floor: it knows every app)."""
import importlib

# Each module may define load_demo(*, users, log); a module that does not exist yet is skipped.
DEMO_STEPS = [
    "tests.factories.home",
    "tests.factories.handbook",
    "tests.factories.live",
    "tests.factories.live_room",
    "tests.factories.courses",
    "tests.factories.certificates",
    "volunteers.demo",
]


def demo_steps():
    for name in DEMO_STEPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if hasattr(module, "load_demo"):
            yield name.rsplit(".", 1)[-1], module.load_demo
