"""htmx helpers: one view renders the whole page or only the partial that htmx asked for."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_partial(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Render `template`, or only its `{% partialdef partial %}` when the request comes from htmx."""
    htmx = getattr(request, "htmx", None)
    is_htmx = bool(htmx) and not getattr(htmx, "boosted", False)
    name = f"{template}#{partial}" if is_htmx else template
    return render(request, name, context, status=status)
