"""Pure helpers of the app: escaping untrusted text for Markdown and DOT, issue links and explanation-path pictures.
No Streamlit here, so all of it is testable alone.

Everything shown from a report or from the graph (issue titles and texts can come from ingested GitHub threads) goes
through :func:`md_escape` or :func:`md_with_links`; the app never uses ``unsafe_allow_html``.
"""

from __future__ import annotations

import re
import textwrap

from ...assistant.models import PathStep

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")
#: U+2060 WORD JOINER: invisible, and neither a space nor punctuation, so GFM's autolink literals do not start after it.
WORD_JOINER = "\u2060"
#: Where GFM (remark-gfm in Streamlit's markdown, which also runs over escaped text) would start an autolink literal:
#: ``http://``, ``https://``, ``www.`` and ``name@domain``; a word joiner goes in there.
_AUTOLINK_START = re.compile(r"(?i)(?<=h)(?=ttps?:)|(?<=w)(?=ww\.)|(?=@)")
GITHUB_ISSUE = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/(?:issues|pull|discussions)/\d+")
_URL = re.compile(r"https?://[^\s()<>\"']+")


def md_escape(text: str) -> str:
    """Text that Markdown (and Streamlit's ``:emoji:``/``:color[…]``/``$math$`` extensions) shows verbatim, on one
    paragraph: every special character is backslash-escaped, HTML cannot get through, and URLs, ``www.`` names and
    e-mail addresses never become links (an invisible word joiner breaks GFM's autolink literals).

    >>> md_escape("**bold** <script>alert(1)</script> [x](javascript:1)")
    '\\\\*\\\\*bold\\\\*\\\\* \\\\<script\\\\>alert\\\\(1\\\\)\\\\</script\\\\> \\\\[x\\\\]\\\\(javascript\\\\:1\\\\)'
    """
    flat = _AUTOLINK_START.sub(WORD_JOINER, " ".join(str(text).split()))
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_unescape(md: str) -> str:
    """Undo :func:`md_escape` (for tests and for reading rendered text back)."""
    return re.sub(r"\\(.)", r"\1", md).replace(WORD_JOINER, "")


def safe_issue_url(url: str | None) -> str | None:
    """The URL if it is a plain GitHub issue/PR/discussion URL, else None (never a link to anything else)."""
    return url if url and GITHUB_ISSUE.fullmatch(url) else None


def short_issue(url: str) -> str:
    """``owner/repo#123`` for a GitHub issue URL.

    >>> short_issue("https://github.com/QwenLM/Qwen/issues/15")
    'QwenLM/Qwen#15'
    """
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)/(?:issues|pull|discussions)/(\d+)", url or "")
    return f"{m[1]}/{m[2]}#{m[3]}" if m else url


def md_link(text: str, url: str | None) -> str:
    """A Markdown link with escaped text to a checked GitHub URL; escaped text alone otherwise."""
    safe = safe_issue_url(url)
    return f"[{md_escape(text)}]({safe})" if safe else md_escape(text)


_CODE_SPAN = re.compile(r"`([^`\n]{1,300})`")


def md_with_links(text: str) -> str:
    """Escaped text whose GitHub issue URLs become links and whose `code spans` stay code; other URLs stay inert.

    >>> md_with_links("fixed (see https://github.com/a/b/issues/1)")
    'fixed \\\\(see [a/b\\\\#1](https://github.com/a/b/issues/1)\\\\)'
    >>> md_with_links("run `pip install -U x` now")
    'run `pip install -U x` now'
    """
    text = " ".join(str(text).split())
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_linked(text[pos:m.start()]))
        out.append(f"`{m.group(1)}`")
        pos = m.end()
    out.append(_linked(text[pos:]))
    return "".join(out).strip()


def _escape_keeping_edges(part: str) -> str:
    """:func:`md_escape`, keeping one space at either edge where ``part`` has one (where a link or code meets it)."""
    if not part.strip():
        return " " if part else ""
    return (" " if part[0].isspace() else "") + md_escape(part) + (" " if part[-1].isspace() else "")


def _linked(text: str) -> str:
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(_escape_keeping_edges(text[pos:m.start()]))
        url = m.group(0).rstrip(".,;:")
        out.append(md_link(short_issue(url), url) if safe_issue_url(url) else md_escape(url))
        out.append(md_escape(m.group(0)[len(url):]))
        pos = m.end()
    out.append(_escape_keeping_edges(text[pos:]))
    return "".join(out)


def clip_paste(text: str, limit: int) -> tuple[str, str | None]:
    """A pasted message cut to ``limit`` characters, keeping its head and its tail, and a note saying so (None when it
    fits).

    >>> text, note = clip_paste("a" * 6 + "b" * 6, 8)
    >>> text, note[:65]
    ('aaaa\\n…\\nbbbb', 'Your message had 12 characters, more than the 8 read: the first 4')
    """
    if len(text) <= limit:
        return text, None
    half = limit // 2
    return text[:half] + "\n…\n" + text[-half:], (
        f"Your message had {len(text):,} characters, more than the {limit:,} read: the first {half:,} and the last "
        f"{half:,} were kept (the setup and versions at the head of a long log and the final error at its tail matter "
        "most).")


# ---------------------------------------------------------------------------------------------- explanation paths
def dot_string(text: str, width: int = 30) -> str:
    """A DOT double-quoted string of ``text``, wrapped for a node label (escapes quotes and backslashes)."""
    flat = " ".join(str(text).split())
    lines = textwrap.wrap(flat, width) or [""]
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines[:4]) + '"'


def path_dot(path: list[PathStep], report_label: str = "your report") -> str:
    """The explanation path as a Graphviz DOT digraph (left to right; the report is the first node).

    >>> print(path_dot([PathStep(source="report", edge="exhibits", target='a "b"', weight=0.5)]).splitlines()[3])
      n0 [label="your report", shape=box, style="rounded,filled", fillcolor="#e8f0fe"];
    """
    ids: dict[str, str] = {}
    lines = ["digraph explanation {", "  rankdir=LR;",
             '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];']
    for step in path:
        for name in (step.source, step.target):
            if name not in ids:
                ids[name] = f"n{len(ids)}"
                if name == "report":
                    lines.append(f'  {ids[name]} [label={dot_string(report_label)}, shape=box, '
                                 'style="rounded,filled", fillcolor="#e8f0fe"];')
                elif safe_issue_url(name):
                    lines.append(f"  {ids[name]} [label={dot_string(short_issue(name))}, shape=note];")
                else:
                    lines.append(f"  {ids[name]} [label={dot_string(name)}];")
    for step in path:
        label = step.edge if step.weight is None else f"{step.edge} ({step.weight:.2f})"
        lines.append(f"  {ids[step.source]} -> {ids[step.target]} [label={dot_string(label, 24)}, fontsize=9];")
    lines.append("}")
    return "\n".join(lines)


__all__ = ["WORD_JOINER", "clip_paste", "dot_string", "md_escape", "md_link",
           "md_unescape", "md_with_links", "path_dot", "safe_issue_url", "short_issue"]
