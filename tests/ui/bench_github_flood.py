"""Bench: time from the first delivery of an issue to its comment, under a flood of signed deliveries from
concurrent senders to ``failgraph serve``'s webhook on 127.0.0.1 (fake GitHub in process).

    python tests/ui/bench_github_flood.py [--issues 100] [--per-issue 5] [--senders 16] [--real-kb]

``--real-kb`` diagnoses with the small knowledge base of the tests (MiniLM; slow on a small machine) instead of the
stand-in. Prints p50/p99 time-to-comment and POST latency; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from api_helpers import UvicornThread  # noqa: E402
from github_fake import FakeGitHub, ScoredByText, flood_deliveries, make_cfg, send_all, wait_until  # noqa: E402

from failgraph.ui.github.bot import GitHubBot  # noqa: E402
from failgraph.ui.httpapi import create_app  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=100)
    ap.add_argument("--per-issue", type=int, default=5)
    ap.add_argument("--senders", type=int, default=16)
    ap.add_argument("--real-kb", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    fake = FakeGitHub()
    if a.real_kb:
        from api_helpers import small_kb

        class Factory:
            def mktemp(self, name):
                p = tmp / name
                p.mkdir()
                return p

        kb = small_kb(Factory(), HERE.parents[1].parent / "shared" / "data" / "open-llm-failures")
        app = create_app(kb, None, github=lambda d: GitHubBot.create(make_cfg(min_score=0.0), tmp / "gh", d,
                                                                     transport=fake.transport))
    else:
        diag = ScoredByText()
        app = create_app(None, None, github=lambda _d: GitHubBot.create(make_cfg(), tmp / "gh", diag,
                                                                        transport=fake.transport))
    deliveries = flood_deliveries(a.issues, a.per_issue)
    with UvicornThread(app) as srv:
        t0 = time.monotonic()
        sent = send_all(srv.url + "/github/webhook", deliveries, senders=a.senders)
        t_sent = time.monotonic() - t0
        bot = app.state.github
        wait_until(lambda: bot.worker.done + bot.worker.failed == len(deliveries), timeout=3600)
        t_done = time.monotonic() - t0
    ttc = [fake.created_at[("acme/llm", n)] - sent["first_sent"][n] for n in range(1, a.issues + 1)
           if ("acme/llm", n) in fake.created_at]
    dup = sum(max(len(fake.bot_comments("acme/llm", n)) - 1, 0) for n in range(1, a.issues + 1))
    print(f"{len(deliveries)} deliveries, {a.senders} senders, {'real KB' if a.real_kb else 'stand-in diagnosis'}: "
          f"statuses {sent['statuses']}; all sent in {t_sent:.2f} s, all handled in {t_done:.2f} s")
    print(f"POST latency p50 {statistics.median(sent['latencies']) * 1000:.1f} ms, "
          f"p99 {pct(sent['latencies'], 99) * 1000:.1f} ms")
    print(f"time to comment p50 {statistics.median(ttc) * 1000:.0f} ms, p99 {pct(ttc, 99) * 1000:.0f} ms; "
          f"issues commented {len(ttc)}/{a.issues}, duplicate comments {dup}, failed jobs {bot.worker.failed}")


if __name__ == "__main__":
    main()
