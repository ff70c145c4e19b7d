from django.urls import path

from pledge.quality import views

app_name = "quality"

urlpatterns = [
    path("process/", views.process, name="process"),
]
