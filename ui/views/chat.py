"""The chat page: paste a report, get ranked root causes with fixes, similar past failures and the explanation path;
follow-ups (a ``pip freeze``, a longer traceback) are appended to the report and the diagnosis is refined."""

from __future__ import annotations

from typing import Literal

import streamlit as st
from pydantic import BaseModel

from ...assistant.followup import refine
from ...assistant.knowledge import KnowledgeBase
from ...assistant.models import Diagnosis
from . import state
from .render import clip_paste, md_escape, md_link, md_with_links, path_dot

TURNS = "fg_turns"
REPORT = "fg_report"
PLACEHOLDER = "Paste the error, the log tail or your versions (pip freeze); follow-ups refine the diagnosis"
TOP_K = 3
#: The longest message read; a longer paste is kept by its head and tail, with a note (the chat box itself has no
#: limit: a browser-side limit drops a longer paste without a word).
MAX_PASTE = 60_000


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    text: str = ""
    diagnosis: Diagnosis | None = None
    error: str | None = None
    note: str | None = None


def answer(kb: KnowledgeBase, previous_report: str | None, message: str,
           previous: Diagnosis | None) -> tuple[str | None, Turn]:
    """Diagnose ``message`` (appended to the previous report, if any); returns the new report text and the answer."""
    r = refine(kb, previous_report, message, previous, TOP_K)
    return r.report, Turn(role="assistant", diagnosis=r.diagnosis, error=r.error, note=r.note)


def render_diagnosis(d: Diagnosis, note: str | None = None, key: str = "") -> None:
    if note:
        st.caption(md_escape(note))
    if d.novel:
        st.warning("Nothing similar is known: no past failure is close to this report and no rule fired, so the "
                   "ranking below rests on the study's overall statistics. Add the full error and your versions.")
    findings = getattr(d, "environment", None) or []  # known-broken or risky version combinations
    if findings:
        st.markdown("#### Environment check")
        for f in findings:
            box = st.error if f.severity == "error" else st.warning
            box(f"{md_escape(f.message)}  \n**Fix:** {md_with_links(f.fix)}")
    if d.fixes:
        st.markdown("#### Try first")
        lines = []
        for n, f in enumerate(d.fixes[:5], 1):
            tags = []
            if f.fixed_in:
                tags.append(md_escape(f"fixed in {f.target} {f.fixed_in}"))
            if f.confirmed:
                tags.append("confirmed in the thread")
            if f.generic:
                tags.append("general step")
            where = md_link(f.source_ref, f.source_ref) if f.source_ref else md_escape(f.source)
            lines.append(f"{n}. {md_with_links(f.text)}  \n   _{'; '.join(tags) + ' · ' if tags else ''}from_ {where}")
        st.markdown("\n".join(lines))
    if d.questions:
        st.info("**Not sure yet.** Answering these in your next message would tell the likely causes apart:\n"
                + "\n".join(f"- {md_escape(q.text)}" for q in d.questions))
    st.markdown("#### Most likely root causes")
    for i, c in enumerate(d.root_causes, 1):
        with st.container(border=True):
            st.markdown(f"**{i}\\. {md_escape(c.label)}** — score {c.score:.2f}")
            st.caption(md_escape(f"{c.category} › {c.group}"))
            st.progress(min(max(float(c.score), 0.0), 1.0))
            if c.fixes:
                st.markdown("**Fix steps**\n\n" + "\n".join(f"{n}. {md_with_links(f)}" for n, f in
                                                             enumerate(c.fixes, 1)))
            if c.path:
                with st.expander("Why: the explanation path in the graph", expanded=i == 1):
                    st.graphviz_chart(path_dot(c.path), width="stretch")
    if d.similar:
        st.markdown("#### Similar past failures")
        lines = []
        for s in d.similar:
            labels = ", ".join(s.labels) if s.labels else "unlabeled"
            lines.append(f"- {md_link(s.title or s.url, s.url)} — similarity {s.score:.2f}  \n"
                         f"  {md_escape(labels)}")
        st.markdown("\n".join(lines))
    if d.symptoms:
        st.caption("Symptoms: " + md_escape("; ".join(f"{s.label} ({s.score:.2f})" for s in d.symptoms)))
    facts = d.facts.model_dump(exclude_defaults=True)
    if facts:
        with st.expander("What I read in your report"):
            st.json(facts)
    for n in d.notes:
        st.caption(md_escape(n))


def render_turn(t: Turn, key: str) -> None:
    with st.chat_message(t.role):
        if t.role == "user":
            st.code(t.text, language=None, wrap_lines=True)
            if t.note:
                st.info(md_escape(t.note))
        elif t.error:
            st.error(md_escape(t.error))
        elif t.diagnosis is not None:
            render_diagnosis(t.diagnosis, t.note, key)


def page(home: str) -> None:
    st.title("failgraph troubleshooting chat")
    st.caption("Describe a failure while fine-tuning or serving an open-source LLM. Answers rank root causes from "
               "the knowledge graph of 700+ labeled failures, with fixes and the similar past failures behind them. "
               f"Messages over {MAX_PASTE:,} characters are cut to their head and tail.")
    turns: list[Turn] = st.session_state.setdefault(TURNS, [])
    kb = state.knowledge_base(home)
    for n, t in enumerate(turns):
        render_turn(t, str(n))
    message = st.chat_input(PLACEHOLDER)
    if message and message.strip():
        message, clipped = clip_paste(message, MAX_PASTE)
        previous = next((t.diagnosis for t in reversed(turns) if t.diagnosis is not None), None)
        user = Turn(role="user", text=message, note=clipped)
        render_turn(user, str(len(turns)))
        with st.spinner("Diagnosing…"):
            report, reply = answer(kb, st.session_state.get(REPORT), message, previous)
        st.session_state[REPORT] = report
        turns.extend([user, reply])
        render_turn(reply, str(len(turns)))
    st.sidebar.button("New diagnosis", help="Forget the current report and start over", disabled=not turns,
                      on_click=reset)


def reset() -> None:
    st.session_state[TURNS] = []
    st.session_state[REPORT] = None


__all__ = ["Turn", "answer", "page", "render_diagnosis"]
