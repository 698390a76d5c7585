from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "courses.certificates"
    label = "certificates"
