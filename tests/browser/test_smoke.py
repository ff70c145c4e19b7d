"""The login page renders in a real browser in both languages, with CJK glyphs available."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db(transaction=True)
def test_login_page_in_english_and_chinese(live_server: Any, new_page: Any, tmp_path: Any) -> None:
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.title().startswith("Sign in")
    page.select_option("#language-select", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.screenshot(path=str(tmp_path / "login-zh.png"))
