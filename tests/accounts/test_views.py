"""Account pages: sign-in, preferences (time zone, language), the language switch, personal API tokens."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client
from django.urls import reverse

from pledge.accounts.models import ApiToken
from pledge.accounts.services import api_token_authenticate, api_token_create
from tests.conftest import PASSWORD, World

PREFS = reverse("accounts:preferences")


def test_sign_in_page_explains_the_product(client: Client, world: World) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in" in html and "Pledge is where our customers and our service team meet" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_customer_signs_in_and_lands_in_the_portal(client: Client, world: World) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": "customer_a", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("portal:ticket_list")


def test_wrong_password_is_refused(client: Client, world: World) -> None:
    response = client.post(reverse("accounts:login"), {"username": "customer_a", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_preferences_save_a_valid_time_zone(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(PREFS, {"timezone": "Europe/Berlin", "language": "en"})
    assert response.status_code == 302
    world.customer_a.refresh_from_db()
    assert (world.customer_a.timezone, world.customer_a.language) == ("Europe/Berlin", "en")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Your preferences are saved." in client.get(PREFS).content.decode()


def test_preferences_refuse_an_unknown_time_zone(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd"):
        response = client.post(PREFS, {"timezone": bad, "language": ""})
        assert response.status_code == 200
        assert response.context["form"].errors["timezone"] == ["Unknown time zone."]
        assert "Unknown time zone." in response.content.decode()
    response = client.post(PREFS, {"timezone": "", "language": ""})
    assert "timezone" in response.context["form"].errors
    world.customer_a.refresh_from_db()
    assert world.customer_a.timezone == "Asia/Shanghai"


def test_preferences_refuse_an_unknown_language(client: Client, world: World) -> None:
    client.force_login(world.agent)
    response = client.post(PREFS, {"timezone": "UTC", "language": "klingon"})
    assert "language" in response.context["form"].errors
    world.agent.refresh_from_db()
    assert world.agent.timezone == "Asia/Shanghai"


def test_times_are_shown_in_the_users_time_zone(client: Client, world: World) -> None:
    token, _secret = api_token_create(user=world.customer_a, name="tz check")
    client.force_login(world.customer_a)
    client.post(PREFS, {"timezone": "America/New_York", "language": ""})
    html = client.get(PREFS).content.decode()
    from zoneinfo import ZoneInfo

    local = token.created_at.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M")
    assert local in html


def test_language_switch_to_chinese_is_saved_and_rendered(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(
        reverse("accounts:set_language"), {"language": "zh-hans", "next": reverse("portal:ticket_list")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:ticket_list")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    world.customer_a.refresh_from_db()
    assert world.customer_a.language == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("portal:ticket_list")).content.decode()


def test_saved_language_applies_in_a_new_session(world: World) -> None:
    first = Client()
    first.force_login(world.customer_a)
    first.post(reverse("accounts:set_language"), {"language": "zh-hans", "next": "/"})
    fresh = Client()  # no cookie: the language comes from the user
    fresh.force_login(world.customer_a)
    assert '<html lang="zh-hans">' in fresh.get(PREFS).content.decode()


def test_language_switch_for_visitors_and_bad_input(client: Client, world: World) -> None:
    response = client.post(
        reverse("accounts:set_language"), {"language": "zh-hans", "next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/"
    assert '<html lang="zh-hans">' in client.get(reverse("accounts:login")).content.decode()
    client.force_login(world.customer_a)
    client.post(reverse("accounts:set_language"), {"language": "xx", "next": "/"})
    world.customer_a.refresh_from_db()
    assert world.customer_a.language == ""


def test_language_switch_needs_post(client: Client, world: World) -> None:
    assert client.get(reverse("accounts:set_language")).status_code == 405


def test_token_created_once_listed_and_usable(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(reverse("accounts:token_create"), {"name": "ERP integration"})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert re.fullmatch(r"plg_[0-9a-f]{12}_[\w-]{40,}", secret)
    html = response.content.decode()
    assert secret in html and "shown only this once" in html
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=world.customer_a)
    assert token.name == "ERP integration" and token.digest != secret and secret not in token.digest
    assert api_token_authenticate(secret) == world.customer_a
    listing = client.get(PREFS).content.decode()
    assert secret not in listing
    assert "ERP integration" in listing and f"plg_{token.prefix}_" in listing and "Active" in listing


def test_token_needs_a_name(client: Client, world: World) -> None:
    client.force_login(world.customer_a)
    response = client.post(reverse("accounts:token_create"), {"name": "   "})
    assert "name" in response.context["token_form"].errors
    assert not ApiToken.objects.exists()


def test_token_revoke_asks_then_revokes(client: Client, world: World) -> None:
    token, secret = api_token_create(user=world.agent, name="Nightly export")
    client.force_login(world.agent)
    url = reverse("accounts:token_revoke", args=[token.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Nightly export" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client.post(url, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = response.content.decode()
    assert "is revoked" in html and "Revoked" in html
    assert api_token_authenticate(secret) is None


def test_nobody_revokes_someone_elses_token(client: Client, world: World) -> None:
    token, secret = api_token_create(user=world.customer_b, name="B's script")
    client.force_login(world.admin)
    url = reverse("accounts:token_revoke", args=[token.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and api_token_authenticate(secret) == world.customer_b
    assert "B&#x27;s script" not in client.get(PREFS).content.decode()


def test_token_forms_need_csrf_and_sign_in(world: World) -> None:
    token, _secret = api_token_create(user=world.agent, name="Kept")
    anonymous = Client()
    assert anonymous.post(reverse("accounts:token_create"), {"name": "x"}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.agent)
    assert strict.post(reverse("accounts:token_create"), {"name": "x"}).status_code == 403
    assert strict.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.filter(user=world.agent).count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


def test_createsuperuser_makes_an_administrator(db) -> None:
    from pledge.accounts.models import User

    user = User.objects.create_superuser("root", "root@example.com", "x-long-password-1")
    assert (user.role, user.is_superuser) == ("admin", True)


def test_token_cache_remembers_a_verified_token_and_revocation_clears_it(
    world, settings, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    from pledge.accounts import services

    settings.API_TOKEN_CACHE_SECONDS = 30
    services.api_token_cache_clear()
    token, secret = services.api_token_create(user=world.agent, name="ERP")
    first = services.api_token_authenticate(secret)
    with django_assert_num_queries(0):
        second = services.api_token_authenticate(secret)
    assert first is not None and second is not None and second.pk == world.agent.pk and second is not first
    with django_capture_on_commit_callbacks(execute=True):
        services.api_token_revoke(user=world.agent, token_id=token.pk)
    assert services.api_token_authenticate(secret) is None
    assert services.api_token_authenticate(secret.replace("_", "-", 1)) is None
