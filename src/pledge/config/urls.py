"""URL map: pages, the API, admin, and (for benchmarks only) the bare-insert ceiling endpoint."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from pledge.config.api import api
from pledge.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("pledge.accounts.urls")),
    path("agent/", include("pledge.tickets.urls")),
    path("portal/", include("pledge.portal.urls")),
    path("standards/", include("pledge.standards.urls")),
    path("quality/", include("pledge.quality.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", core_views.api_not_found),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
]

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns.append(path("bench/bare-insert", core_views.bench_bare_insert))
