"""The bot's comment: Markdown built from a :class:`~failgraph.assistant.models.Diagnosis`.

Everything that comes from text (the knowledge base's labels, fixes and titles were written from issue threads too)
goes through :func:`md_text`: HTML characters become entities, Markdown punctuation is backslash-escaped (so no link,
image, heading or table can be injected, and bare URLs are not autolinked), ``@mentions`` and ``#123`` references are
broken with a zero-width space, newlines are folded. The only links are github.com issue URLs of similar past
failures. A hidden :data:`MARKER` first line lets the bot find its comment again.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from ...assistant.models import Diagnosis
from .config import BotConfig

MARKER = "<!-- failgraph:diagnosis -->"
#: GitHub labels are at most 50 characters.
MAX_LABEL = 50
ZWSP = "\u200b"
_ISSUE_URL = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})/issues/(\d+)$")
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:=^$\"'])")
_MENTION = re.compile(r"([@#＠])(?=\w)")
FALLBACK_ASK = ("the versions of the libraries involved (`pip list` or `python -m torch.utils.collect_env` "
                "output), the GPU and CUDA version, the exact command, and the full error message")


class Rendered(BaseModel):
    """What to post: the comment body (None: stay silent), the label to add (None: none), and whether the first
    cause cleared the threshold."""

    body: str | None
    label: str | None = None
    confident: bool = False
    score: float = 0.0


def md_text(text: str, limit: int = 300) -> str:
    """``text`` safe to put inside Markdown: one line, no HTML, no Markdown syntax, no mentions, at most ``limit``
    characters (before escaping).

    >>> md_text("<b>hi</b> @alice see [x](http://evil) #12\\nnext")
    '&lt;b&gt;hi&lt;/b&gt; @\u200balice see \\\\[x\\\\]\\\\(http\\\\://evil\\\\) \\\\#\u200b12 next'
    """
    one = " ".join(text.split())
    if len(one) > limit:
        one = one[: limit - 1].rstrip() + "…"
    one = one.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    one = _MENTION.sub(lambda m: m[1] + ZWSP, one)
    return _PUNCT.sub(r"\\\1", one)


def issue_link(url: str, title: str, score: float) -> str | None:
    """``[owner/name#n: title](url) (similarity 0.68)`` for a github.com issue URL; None for anything else."""
    m = _ISSUE_URL.match(url)
    if not m:
        return None
    owner, name, number = m.groups()
    text = md_text(f"{owner}/{name}#{number}" + (f": {title}" if title else ""), 120)
    return f"[{text}]({url}) (similarity {score:.2f})"


def _fixes(d: Diagnosis, n: int) -> list[str]:
    """The first ``n`` fixes: the ranked structured fixes when there are some, else the first cause's."""
    if d.fixes:
        out = []
        for f in d.fixes[:n]:
            line = md_text(f.text)
            if f.fixed_in:
                line += f" (shipped in {md_text(f.fixed_in, 40)})"
            if f.confirmed:
                line += " (confirmed in a past thread)"
            out.append(line)
        return out
    return [md_text(t) for t in (d.root_causes[0].fixes if d.root_causes else [])[:n]]


def label_for(d: Diagnosis, cfg: BotConfig) -> str | None:
    """The taxonomy label: the prefix and the first cause's category (50 characters at most)."""
    if not d.root_causes or not d.root_causes[0].category:
        return None
    return (cfg.label_prefix + d.root_causes[0].category)[:MAX_LABEL].strip() or None


FOOTER = ("<sub>Automatic diagnosis by failgraph from the issue text; the score is the first cause's (the bot comments "
          "at {threshold:.2f} or more). The issue's author or a maintainer can reply <code>/failgraph explain</code> "
          "to refresh it, or <code>/failgraph ignore</code> to remove it and stop the bot on this issue.</sub>")


def _confident(d: Diagnosis, cfg: BotConfig, score: float) -> list[str]:
    top = d.root_causes[0]
    lines = [MARKER, "### failgraph: likely cause", "",
             f"**{md_text(top.label)}** (category: {md_text(top.category)}): score **{score:.2f}**", ""]
    fixes = _fixes(d, cfg.max_fixes)
    if fixes:
        lines += ["**Fixes to try**", "", *[f"{i}. {f}" for i, f in enumerate(fixes, 1)], ""]
    links = [x for s in d.similar[: cfg.max_similar] if (x := issue_link(s.url, s.title, s.score))]
    if links:
        lines += ["**Similar past failures**", "", *[f"- {x}" for x in links], ""]
    return lines


def _ask(d: Diagnosis, cfg: BotConfig, score: float) -> list[str]:
    lines = [MARKER, "### failgraph: more information needed", "",
             f"No confident match yet (best score {score:.2f}, below {cfg.min_score:.2f}). "
             "These would help tell the likely causes apart:", ""]
    asks = [md_text(q.text) for q in d.questions[:3]]
    return lines + [f"- {q}" for q in (asks or [FALLBACK_ASK])] + [""]


def render(d: Diagnosis, cfg: BotConfig, *, force: bool = False, keep: bool = False) -> Rendered:
    """The comment for ``d``: the cause, fixes and similar failures at or above ``cfg.min_score`` (or when
    ``force``: someone asked with ``/failgraph explain``); below it the diagnosis's questions when
    ``cfg.ask_when_unsure`` or when a comment exists already (``keep``: an edit made the report less clear, the old
    answer must not stay), else nothing."""
    score = d.root_causes[0].score if d.root_causes else 0.0
    confident = bool(d.root_causes) and score >= cfg.min_score
    if confident or (force and d.root_causes):
        lines = _confident(d, cfg, score)
    elif cfg.ask_when_unsure or force or keep:
        lines = _ask(d, cfg, score)
    else:
        return Rendered(body=None, score=score)
    lines.append(FOOTER.format(threshold=cfg.min_score))
    return Rendered(body="\n".join(lines), label=label_for(d, cfg) if confident else None, confident=confident,
                    score=score)


__all__ = ["MARKER", "Rendered", "issue_link", "label_for", "md_text", "render"]
