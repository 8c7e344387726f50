"""The web forms refuse bidirectional controls with the library's rule, keeping what was typed."""

from __future__ import annotations

from webui_support import AuthActions, Plans, WebClient, text


def test_a_comment_with_an_override_is_refused_and_kept(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    typed = "Looks fine \u202edesrever"
    response = client.post_form(f"/plans/{plan_id}/comments", {"body": typed})
    assert response.status_code == 422
    page = text(response)
    assert "control character" in page
    assert typed in response.get_data(as_text=True)  # what was typed is still in the form
    assert "Looks fine" not in text(client.get(f"/plans/{plan_id}/timeline"))
