"""Issue-template text in a report or an issue body — the headings, prompts, placeholders and checklists of the bug
templates that the LLM repositories ship (GitHub's default, vLLM, transformers, Qwen, LLaMA-Factory, ollama,
llama.cpp, DeepSpeed) — found and dropped before matching.

Real opening posts keep the template around what the user wrote: "### Your current environment", "**Expected
behavior**", "A clear and concise description of what you expected to happen.", "- [x] I have searched the existing
issues", empty fields such as "- Transformers:". Every report of a tracker shares that text, so matched as text it pulls
reports toward each other whatever went wrong; it says nothing about the failure, so it is dropped, not kept for the
extractors (a placeholder such as "- OS: [e.g. iOS]" would only mislead them). Code-fence lines and screenshot links go
the same way: the code between fences stays.

A heading counts as template text when its words, without markup, emoji and trailing punctuation, are one of the
known template headings (each side of a bilingual "当前行为 | Current Behavior" heading is tried); a user's own heading
("## Qwen2-7B answers in Chinese") stays.
"""

from __future__ import annotations

import re

from ._text import split_lines

#: Template headings, compared lower-cased without markup or trailing "?:." (see :func:`_heading_key`).
_HEADINGS = frozenset({
    # GitHub's default bug template and DeepSpeed's
    "describe the bug", "to reproduce", "expected behavior", "expected behaviour", "screenshots",
    "additional context", "desktop (please complete the following information)",
    "smartphone (please complete the following information)", "ds_report output",
    "system info (please complete the following information)", "launcher context", "docker context",
    # vLLM
    "your current environment", "your current environment (if you think it is necessary)",
    "before submitting a new issue", "model input dumps",
    "how would you like to use vllm", "proposal to improve performance", "report of performance regression",
    "misc discussion on performance", "the feature, motivation and pitch", "alternatives", "motivation",
    "proposed change", "feedback period", "cc list", "any other things", "how you are installing vllm",
    "anything you want to discuss about vllm", "the model to consider", "the closest model vllm already supports",
    "what's your difficulty of supporting the model you want",
    # transformers, LLaMA-Factory
    "system info", "who can help", "information", "tasks", "reproduction", "others", "reminder",
    "feature request", "your contribution", "model description", "open source status",
    "provide useful links for the implementation",
    # Qwen
    "model series", "what are the models used", "what is the scenario where the problem happened",
    "is this a known issue", "information about environment", "log output", "description", "steps to reproduce",
    "expected results", "attempts to fix", "anything else helpful for investigation", "current behavior",
    "environment", "anything else", "checklist", "is there an existing issue / discussion for this",
    "is there an existing answer for this in faq",
    "is there an existing issue for this", "是否已有关于该错误的issue", "steps to reproduce the behaviour",
    # ollama
    "what is the issue", "os", "gpu", "cpu", "ollama version", "relevant log output",
    # llama.cpp
    "name and version", "operating systems", "which llama.cpp modules do you know to be affected", "command line",
    "problem description & steps to reproduce", "first bad commit", "ggml backends", "what happened", "prerequisites",
    "bug description", "additional information", "logs", "details",
    # the Chinese halves of Qwen's bilingual headings
    "是否已有关于该错误的issue或讨论", "该问题是否在faq中有解答", "当前行为", "期望行为", "复现方法", "运行环境", "备注",
})

#: Template sentences: prompts and placeholders that the user leaves in (compared like headings).
_PROMPTS = frozenset({
    "a clear and concise description of what the bug is",
    "a clear and concise description of what you expected to happen",
    "steps to reproduce the behavior", "if applicable, add screenshots to help explain your problem",
    "add any other context about the problem here", "go to '...'", "click on '....'", "scroll down to '....'",
    "see error", "the output of `python collect_env.py`", "your output of `python collect_env.py` here",
    "please run `ds_report` to give us details about your setup",
    "are you launching your experiment with the `deepspeed` launcher, mpi, or something else",
    "are you using a specific docker image that you can share", "simple inference script to reproduce",
    "what packages are required and their versions", "how to run the script",
    "please provide a clear and concise description of what the bug is",
    "please include the code that can reproduce the issue", "please provide the environment information",
    "a clear and concise description of what happened", "the output of python collect_env.py", "python version",
    "any other relevant info about your setup", "_no response_", "no response",
})

#: No heading or prompt line is longer than this, markup and emoji included (the rest skip the comparison).
_LONGEST = max(map(len, _HEADINGS | _PROMPTS)) + 24
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s*|>\s*)?(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*|__)?\s*|\s*(?:\*\*|__)?\s*$")
_NOT_WORD = re.compile(r"[^\w\s'`().&/|,\-~]+")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+\S.*|(?:\*\*|__)[^*_].*(?:\*\*|__):?)\s*$")
_BOILERPLATE = re.compile(
    r"^\s*(?:[-*]\s*\[[ xX]\]\s.*"                               # checklists ("- [x] I have searched ...")
    r"|.*I have (?:read|searched) (?:the above rules|the existing issues|FAQ).*|.*我已经(?:搜索|阅读)过.*"
    r"|.*\[e\.g\.?[^\]]*\].*"                                  # placeholders ("- OS: [e.g. iOS]")
    r"|[-*]\s*[\w .()/`'\-;]{1,80}:"                             # a field left empty ("- Transformers:")
    r"|```\s*[\w+\-]*"                                         # code fences, any language
    r"|!\[[^\]]*\]\([^)]*\)|<img\s[^>]*>"                      # screenshots: a link says nothing to match
    r"|</?details>|<summary>.*</summary>|<!--.*-->|(?:<br\s*/?>)+"
    r"|(?:@[\w\-]+[\s,]*)+"                                     # maintainers pinged
    r")\s*$")


def _heading_key(line: str) -> str:
    """The words of a heading or prompt line, lower-cased, without markup, emoji or trailing punctuation.

    >>> _heading_key("### 🐛 Describe the bug")
    'describe the bug'
    >>> _heading_key("**Expected behavior**")
    'expected behavior'
    """
    core = _MARKUP.sub("", line)
    core = _NOT_WORD.sub("", core).strip().rstrip("?:.？：").strip()
    return re.sub(r"\s+", " ", core).lower()


def is_template_line(line: str) -> bool:
    """Whether a line is issue-template text (a template heading, prompt, placeholder, checklist item, empty field,
    code fence, screenshot link or HTML wrapper).

    >>> [is_template_line(x) for x in ("### What is the issue?", "**To Reproduce**", "- [x] I have searched the "
    ...     "existing issues", "- Transformers:", "- Transformers: 4.32.0", "## Qwen2-7B answers in Chinese")]
    [True, True, True, True, False, False]
    """
    if not line.strip():
        return False
    if _BOILERPLATE.match(line):
        return True
    if len(line) > _LONGEST:
        return False
    key = _heading_key(line)
    if key in _PROMPTS:
        return True
    if _HEADING.match(line):
        return any(part.strip() in _HEADINGS for part in key.split("|"))  # each side of a bilingual heading
    return False


def split_template(text: str) -> tuple[str, str]:
    """(the text without its issue-template lines, those lines).

    >>> kept, dropped = split_template("**Describe the bug**\\nvLLM hangs at start-up with TP=2.\\n\\n"
    ...     "**Expected behavior**\\nA clear and concise description of what you expected to happen.")
    >>> kept.strip()
    'vLLM hangs at start-up with TP=2.'
    >>> dropped.splitlines()
    ['**Describe the bug**', '**Expected behavior**', 'A clear and concise description of what you expected to happen.']
    """
    lines = text.splitlines()
    return split_lines(lines, [is_template_line(line) for line in lines])


__all__ = ["is_template_line", "split_template"]
