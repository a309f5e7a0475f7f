from django.urls import path

from articles import views

urlpatterns = [
    path("api/articles", views.articles),
    path("api/articles/<slug:slug>", views.article),
]
