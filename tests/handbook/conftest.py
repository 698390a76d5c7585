import pytest

from tests.factories.handbook import make_chapter, make_handbook


@pytest.fixture
def handbook(home):
    return make_handbook()


@pytest.fixture
def chapters(handbook):
    return [make_chapter(handbook, number=n, slug=f"c{n}", title=f"第{n}章 标题{n}") for n in (1, 2, 3)]
