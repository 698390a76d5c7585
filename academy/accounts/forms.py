from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from academy.text import text_clean

from .models import TYPED_TEXT_FIELDS, User

PROFILE_FIELDS = ["real_name", "phone", "email", "role", "volunteer_category", "organisation", "city"]


class TypedTextMixin:
    """The free text people type about themselves is cleaned by academy/text.py's one rule (control and bidi
    characters removed; a required field that is blank once invisible characters are set aside is refused)."""

    def clean(self):
        cleaned = super().clean()
        for name in TYPED_TEXT_FIELDS:
            if name in self.fields and cleaned.get(name):
                try:
                    cleaned[name] = text_clean(cleaned[name], required=self.fields[name].required)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned


class SignupForm(TypedTextMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", *PROFILE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Organisers are appointed by staff, not self-declared.
        self.fields["role"].choices = [
            (value, label) for value, label in User.Role.choices if value != User.Role.ORGANISER
        ]
        self.fields["real_name"].required = True

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            raise forms.ValidationError(_("Give a phone number or an e-mail address so that organisers can reach you."))
        return cleaned


class ProfileForm(TypedTextMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = PROFILE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.role != User.Role.ORGANISER:
            self.fields["role"].choices = [
                (value, label) for value, label in User.Role.choices if value != User.Role.ORGANISER
            ]


class LoginForm(AuthenticationForm):
    """Django's form; named here so templates and views have one place to change it."""
