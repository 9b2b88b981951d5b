"""The "Check my environment" page: paste pip freeze / collect_env / nvidia-smi output, get the doctor's findings."""

from __future__ import annotations

import streamlit as st

from ...assistant.doctor import DoctorError, DoctorReport, diagnose_environment, past_environments_from_store
from . import state
from .render import md_escape, safe_issue_url

SEVERITY = {"error": st.error, "warning": st.warning, "info": st.info}


def check(home: str, text: str, model: str | None, stage: str | None) -> DoctorReport | str:
    """The doctor's report, or an error message to show."""
    try:
        past = None
        try:
            past = past_environments_from_store(state.store(home))
        except Exception:
            past = None
        return diagnose_environment(text, model=model or None, stage=stage or None, past=past)
    except DoctorError as e:
        return str(e)


def show(report: DoctorReport) -> None:
    if not report.findings:
        st.success("No known-broken or risky combination found in what you pasted.")
    for f in report.findings:
        fixes = f"**Fix:** `{f.fix.replace('`', '')}`"
        links = [u for u in (safe_issue_url(x) for x in f.past_failures) if u]
        body = f"**{md_escape(f.title)}**  \n{md_escape(f.message)}  \n{fixes}"
        if links:
            body += "  \nPast failures like this: " + ", ".join(f"[{u.split('github.com/')[1]}]({u})" for u in links)
        SEVERITY.get(f.severity, st.info)(body)
    with st.expander("What I read"):
        st.json(report.environment.model_dump())


def page(home: str) -> None:
    st.title("Check my environment")
    st.caption("Paste `pip freeze`, `pip list`, `python -m torch.utils.collect_env`, `transformers env` or "
               "`nvidia-smi` output. failgraph checks it against known-incompatible combinations before anything "
               "fails.")
    text = st.text_area("Environment report", height=220, key="fg_env_text")
    col1, col2 = st.columns(2)
    model = col1.text_input("Model (optional)", placeholder="Qwen2.5-7B-Instruct", key="fg_env_model")
    stage = col2.selectbox("Stage", ["", "inference", "fine-tuning"], key="fg_env_stage")
    if not st.button("Check", type="primary", key="fg_env_check"):
        return
    result = check(home, text or "", model, stage)
    if isinstance(result, str):
        st.error(md_escape(result))
        return
    show(result)


__all__ = ["check", "page", "show"]
