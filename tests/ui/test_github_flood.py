"""A flood of 500 signed deliveries from 16 concurrent senders to a server on 127.0.0.1: every delivery accepted,
every issue commented, exactly one comment per issue. Timings are printed by ``bench_github_flood.py``, not
asserted here."""

from __future__ import annotations

import pytest
from api_helpers import UvicornThread
from github_fake import FakeGitHub, ScoredByText, flood_deliveries, make_cfg, send_all, wait_until

from failgraph.ui.github.bot import GitHubBot

ISSUES, PER_ISSUE, SENDERS = 100, 5, 16


@pytest.mark.slow
def test_a_flood_of_deliveries_loses_nothing_and_duplicates_nothing(tmp_path):
    from failgraph.ui.httpapi import create_app

    fake, diag = FakeGitHub(), ScoredByText()
    app = create_app(None, None, github=lambda _d: GitHubBot.create(make_cfg(), tmp_path, diag,
                                                                    transport=fake.transport))
    deliveries = flood_deliveries(ISSUES, PER_ISSUE)
    assert len(deliveries) == 500
    with UvicornThread(app) as srv:
        sent = send_all(srv.url + "/github/webhook", deliveries, senders=SENDERS)
        replay = send_all(srv.url + "/github/webhook", deliveries[:50], senders=SENDERS)  # GitHub redelivers
        bot = app.state.github
        assert wait_until(lambda: bot.worker.done == 500, timeout=120)
    assert sent["statuses"] == {202: 500} and replay["statuses"] == {200: 50}
    per_issue = {n: len(fake.bot_comments("acme/llm", n)) for n in range(1, ISSUES + 1)}
    assert set(per_issue.values()) == {1}  # 0 lost, 0 duplicated
    assert fake.count("POST", r"/comments$") == ISSUES and diag.calls == 500 and bot.worker.failed == 0
