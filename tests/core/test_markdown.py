"""Staff Markdown is rendered and sanitised."""

from pledge.core.markdown import render_markdown


def test_formatting_survives() -> None:
    html = render_markdown(
        "Ask for the **alarm code**.\n\n1. Read it\n2. Note it\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<strong>alarm code</strong>" in html
    assert "<ol>" in html and "<li>Read it</li>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_scripts_and_dangerous_links_are_removed() -> None:
    html = render_markdown("<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    # Raw HTML is shown as text, never as tags; the javascript: link is not a link.
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "href" not in html


def test_links_are_marked_nofollow() -> None:
    html = render_markdown("[manual](https://example.com/manual.pdf)")
    assert 'href="https://example.com/manual.pdf"' in html
    assert "noopener" in html and "nofollow" in html
