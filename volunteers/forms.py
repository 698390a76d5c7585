"""Forms of volunteer intake. They shape and label input; the checks that matter are in volunteers.services."""
from django import forms
from django.utils.translation import gettext_lazy as _

from volunteers.models import Application, DayPart, Mode, Qualification, Weekday


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ChineseForm(forms.Form):
    """Labels without Django's half-width ":" suffix (Chinese labels read better bare)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AccountForm(ChineseForm):
    """A new account in the apply flow: phone and password (e-mail optional)."""

    real_name = forms.CharField(label=_("Full name"), max_length=60)
    phone = forms.CharField(label=_("Mobile phone"), max_length=32,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}))
    password = forms.CharField(label=_("Password"), max_length=128,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 8 characters, not only digits."))
    email = forms.EmailField(label=_("E-mail (optional)"), required=False, max_length=254)


class ApplyForm(ChineseForm):
    """The application, built for one campaign (its categories and screening questions)."""

    full_name = forms.CharField(label=_("Full name"), max_length=60, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}))
    email = forms.CharField(label=_("E-mail (optional)"), max_length=254, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    district = forms.CharField(label=_("District"), max_length=40, required=False,
                               help_text=_("For example 江汉区."))
    community = forms.CharField(label=_("Community"), max_length=80, required=False,
                                help_text=_("The community (社区) where you live or can serve."))
    need_ids = forms.MultipleChoiceField(label=_("Categories"), required=False, widget=forms.CheckboxSelectMultiple)
    qualifications = forms.MultipleChoiceField(label=_("Qualifications"), choices=Qualification.choices,
                                               required=False, widget=forms.CheckboxSelectMultiple)
    qualification_note = forms.CharField(label=_("Other qualifications and experience"), max_length=1000,
                                         required=False, widget=forms.Textarea(attrs={"rows": 3}))
    proofs = MultipleFileField(label=_("Proof of qualification (optional)"), required=False,
                               help_text=_("PDF or photo, at most 5 MB each, at most 3 files. Only reviewers can open them."))
    days = forms.MultipleChoiceField(label=_("Days available"), choices=Weekday.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)
    day_parts = forms.MultipleChoiceField(label=_("Times available"), choices=DayPart.choices, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    mode = forms.ChoiceField(label=_("On site or online"), choices=[("", "—")] + list(Mode.choices), required=False,
                             widget=forms.RadioSelect)

    def __init__(self, *args, campaign, needs, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["need_ids"].choices = [
            (str(item["need"].pk), item["category"].name) for item in needs
        ]
        self.fields["mode"].choices = list(Mode.choices)
        self.questions = campaign.question_list()
        for question in self.questions:
            name = f"q_{question['id']}"
            label = question["text"]
            if question["kind"] == "text":
                field = forms.CharField(label=label, max_length=500, required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))
            elif question["kind"] == "single":
                field = forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect,
                                          choices=[(c, c) for c in question["choices"]])
            elif question["kind"] == "multiple":
                field = forms.MultipleChoiceField(label=label, required=False, widget=forms.CheckboxSelectMultiple,
                                                  choices=[(c, c) for c in question["choices"]])
            else:
                field = forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect,
                                          choices=[(str(i), str(i)) for i in range(1, 6)],
                                          help_text=_("1 = not at all, 5 = very much"))
            field.question_required = question["required"]
            self.fields[name] = field
        self.fields["consent"] = forms.BooleanField(
            label=_("I have read the privacy notice above and agree to it."), required=False)

    def question_fields(self):
        return [self[f"q_{q['id']}"] for q in self.questions]

    def answers(self) -> dict:
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"q_{question['id']}")
            if question["kind"] == "scale" and value:
                value = int(value)
            answers[question["id"]] = value
        return answers

    @classmethod
    def initial_from(cls, application: Application | None, user) -> dict:
        if application is None:
            return {"full_name": user.real_name, "phone": user.phone, "email": user.email}
        initial = {
            "full_name": application.full_name, "phone": application.phone, "email": application.email,
            "district": application.district, "community": application.community,
            "need_ids": [str(pk) for pk in application.categories.values_list("pk", flat=True)],
            "qualifications": application.qualifications, "qualification_note": application.qualification_note,
            "days": application.days, "day_parts": application.day_parts, "mode": application.mode,
            "consent": application.consented_at is not None,
        }
        for key, value in (application.answers or {}).items():
            initial[f"q_{key}"] = str(value) if isinstance(value, int) else value
        return initial


class ReviewFilterForm(ChineseForm):
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label=_("State"), required=False)
    area = forms.CharField(label=_("District or community"), required=False, max_length=40)
    qualification = forms.ChoiceField(label=_("Qualification"), required=False,
                                      choices=[("", _("Any"))] + list(Qualification.choices))

    def __init__(self, *args, campaigns, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", _("Any"))] + [(c.pk, c.title) for c in campaigns]
        self.fields["category"].choices = [("", _("Any"))] + [(c.pk, c.name) for c in categories]
        self.fields["state"].choices = [("", _("Any"))] + [
            c for c in Application.State.choices if c[0] != Application.State.DRAFT
        ]


class TeamForm(ChineseForm):
    name = forms.CharField(label=_("Team name"), max_length=60)
    community = forms.CharField(label=_("Community"), max_length=80)
    lead = forms.TypedChoiceField(label=_("Team lead"), required=False, coerce=int, empty_value=None,
                                  help_text=_("Any approved volunteer may lead, for example a resident leader (居民骨干)."))
