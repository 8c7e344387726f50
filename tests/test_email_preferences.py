"""A person's e-mail preference (immediately / daily digest / off) through the library
and the command line; the digest itself is tested with a real SMTP server in test_mail."""

from __future__ import annotations

import pytest
from conftest import CliRun, Org

from planflow.app import Planflow
from planflow.errors import NotFound, ValidationError
from planflow.services.email_preferences import EMAIL_PREFERENCES


def test_each_choice_is_stored_and_read_back(pf: Planflow, org: Org) -> None:
    assert pf.inbox.email_preference("reviewer") == "immediately"  # the default
    for choice in EMAIL_PREFERENCES:
        assert pf.inbox.set_email_preference("reviewer", choice) == choice
        assert pf.inbox.email_preference("reviewer") == choice
    assert pf.inbox.email_preference("reviewer2") == "immediately"  # nobody else's


@pytest.mark.parametrize("bad", ["weekly", "", "OFF", "immediately ", "x" * 500])
def test_an_unknown_choice_is_refused_with_its_code(pf: Planflow, org: Org, bad: str) -> None:
    pf.inbox.set_email_preference("reviewer", "digest")
    with pytest.raises(ValidationError) as refused:
        pf.inbox.set_email_preference("reviewer", bad)
    assert refused.value.code == "unknown_email_preference"
    assert refused.value.params["choices"] == ["immediately", "digest", "off"]
    assert len(refused.value.params["given"]) <= 40
    assert pf.inbox.email_preference("reviewer") == "digest"  # nothing changed


def test_an_unknown_user_is_not_found(pf: Planflow, org: Org) -> None:
    with pytest.raises(NotFound):
        pf.inbox.set_email_preference("nobody", "off")
    with pytest.raises(NotFound):
        pf.inbox.email_preference("nobody")


def test_the_command_line_shows_and_sets_it(
    pf: Planflow, org: Org, database_url: str, cli: CliRun
) -> None:
    db = ("--database-url", database_url)
    code, out, err = cli(*db, "email-preference", "reviewer")
    assert (code, out.strip()) == (0, "reviewer: e-mail immediately"), err
    code, out, err = cli(*db, "email-preference", "reviewer", "digest")
    assert (code, out.strip()) == (0, "reviewer: e-mail digest"), err
    assert pf.inbox.email_preference("reviewer") == "digest"
    code, _, err = cli(*db, "email-preference", "reviewer", "weekly")
    assert code == 2 and "weekly" in err
    assert pf.inbox.email_preference("reviewer") == "digest"
