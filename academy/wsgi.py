"""WSGI entry point, for management tools only: the site is served by Daphne through academy.asgi."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
application = get_wsgi_application()
