"""Chinese first: the site speaks zh-hans unless the visitor chose another language with the switcher.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a phone set to English (common among
volunteers' in-app browsers) would get English pages. Here the language comes only from the visitor's explicit
choice (the language cookie set by /i18n/setlang/) and otherwise is LANGUAGE_CODE.
"""
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
