from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import User

PROFILE_FIELDS = ["real_name", "phone", "email", "role", "volunteer_category", "organisation", "city"]


class SignupForm(UserCreationForm):
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


class ProfileForm(forms.ModelForm):
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
