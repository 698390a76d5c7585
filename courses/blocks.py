"""StreamField blocks of the courses app: quiz questions.

A question's `correct` flags and explanation are the answer key. Templates never render a QuestionBlock directly
before submission: the quiz form is built by courses.quiz from the attempt's layout and carries only the question
text and the choice texts (see templates/courses/includes/quiz_form.html).
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError


class ChoiceBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("choice"), max_length=300)
    correct = blocks.BooleanBlock(label=_("correct"), required=False)

    class Meta:
        icon = "tick"
        label = _("choice")


class QuestionBlock(blocks.StructBlock):
    SINGLE = "single"
    MULTIPLE = "multiple"

    text = blocks.TextBlock(label=_("question"), max_length=1000)
    kind = blocks.ChoiceBlock(
        label=_("kind"), choices=[(SINGLE, _("Single choice")), (MULTIPLE, _("Multiple choice"))], default=SINGLE
    )
    choices = blocks.ListBlock(ChoiceBlock(), label=_("choices"), min_num=2, max_num=8)
    explanation = blocks.TextBlock(label=_("explanation"), required=False, help_text=_("Shown after submission."))

    class Meta:
        icon = "help"
        label = _("question")
        template = "courses/blocks/question_preview.html"
        preview_value = {
            "text": "在三社联动中，通常由哪一方运用专业方法评估居民需求？",
            "kind": "single",
            "choices": [{"text": "社会工作者", "correct": True}, {"text": "物业公司", "correct": False}],
            "explanation": "社会工作者的专业优势在于需求评估和方案设计。",
        }

    def clean(self, value):
        value = super().clean(value)
        correct = sum(1 for choice in value["choices"] if choice["correct"])
        if correct == 0:
            raise StructBlockValidationError(
                block_errors={"choices": ValidationError(_("Mark at least one choice as correct."))}
            )
        if value["kind"] == self.SINGLE and correct != 1:
            raise StructBlockValidationError(
                block_errors={"choices": ValidationError(_("A single-choice question has exactly one correct choice."))}
            )
        return value
