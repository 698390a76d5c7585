from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("certificates/", views.my_certificates, name="mine"),
    path("certificates/verify/<str:code>/", views.verify, name="verify"),
    path("certificates/<str:number>/certificate.pdf", views.download_pdf, name="pdf"),
    path("certificates/<str:number>/credential.jwt", views.download_credential, name="credential"),
    path("certificates/status/<int:number>", views.status_list, name="status_list"),
    path("certificates/keys/<str:kid>", views.signing_key_jwk, name="key"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
]
