import pytest
from django.core.exceptions import ValidationError

from academy.accounts.phones import phone_normalise, phone_or_none
from academy.text import TEXT_BLANK, text_clean, text_is_blank


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                                 "+8613812345678", "0086 13812345678"])
def test_every_written_form_of_a_mainland_mobile_number_is_one_e164_number(raw):
    assert phone_normalise(raw) == "+8613812345678"


@pytest.mark.parametrize("raw", ["", "12345", "abc", "1" * 40, "+86 000", "volunteer01"])
def test_what_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(ValidationError):
        phone_normalise(raw)
    assert phone_or_none(raw) is None


def test_control_format_and_bidi_characters_are_removed():
    hostile = "a\x00b\x07c\x1bd\x85e\u202ef\u2066g\ufeffh\ud800i"
    assert text_clean(hostile) == "abcdefghi"


def test_newlines_are_kept_only_in_multiline_text():
    assert text_clean("第一行\r\n第二行") == "第一行 第二行"
    assert text_clean("第一行\r\n第二行\r第三行", multiline=True) == "第一行\n第二行\n第三行"
    assert text_clean("a\tb") == "a b"


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u200b", "\ufeff", "\u200d \u2060", "\x00\x01"])
def test_text_that_is_blank_once_invisible_characters_are_set_aside_is_refused(raw):
    with pytest.raises(ValidationError) as info:
        text_clean(raw)
    assert info.value.messages == [str(TEXT_BLANK)]
    assert text_clean(raw, required=False) == text_clean(raw, required=False).strip()


def test_visible_text_with_a_zero_width_joiner_is_kept():
    assert not text_is_blank("👩\u200d💻")
    assert text_clean("社工👩\u200d💻") == "社工👩\u200d💻"
