"""URLs of volunteer intake under /volunteers/ (the index and campaign pages themselves are Wagtail pages).

Included by academy/urls.py before Wagtail's catch-all; campaign slugs "my", "review" and "proofs" are refused.
"""
from django.urls import path

from volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("volunteers/my/", views.my_applications, name="my"),
    path("volunteers/my/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("volunteers/my/<int:pk>/delete/", views.delete, name="delete"),
    path("volunteers/review/", views.review_list, name="review"),
    path("volunteers/review/next/", views.review_next, name="review_next"),
    path("volunteers/review/<int:pk>/", views.review_detail, name="review_detail"),
    path("volunteers/proofs/<int:pk>/", views.proof, name="proof"),
    path("volunteers/<slug:slug>/apply/", views.apply, name="apply"),
    path("volunteers/<slug:slug>/roster.csv", views.roster, {"fmt": "csv"}, name="roster_csv"),
    path("volunteers/<slug:slug>/roster.xlsx", views.roster, {"fmt": "xlsx"}, name="roster_xlsx"),
    path("volunteers/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("volunteers/<slug:slug>/teams/", views.teams, name="teams"),
]
