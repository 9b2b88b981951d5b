"""The tuning weights of the diagnosis: one frozen object, built in one place and passed to every step.

Each value was chosen on the case base's leave-one-out run (``failgraph eval ingest/cases/cases.jsonl``); changing one
changes the published accuracy figures, so measure before and after.

>>> DiagnosisWeights().cause_neighbours
0.45
>>> DiagnosisWeights(cause_rules=0.3).cause_rules
0.3
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: The first-cause score a support bot needs by default before it comments (the GitHub bot's
#: ``FAILGRAPH_BOT_MIN_SCORE``); ``failgraph eval`` reports the precision of the answers at this threshold.
COMMENT_THRESHOLD = 0.6


class DiagnosisWeights(BaseModel):
    """How much each kind of evidence counts, at each step of report → retrieve → classify → walk → rank."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # retrieve
    neighbours: int = Field(10, ge=1, description="Past failures retrieved for a report (hybrid dense + BM25).")
    similar_shown: int = Field(5, ge=0, description="Similar past failures listed in an answer.")
    novelty_similarity: float = Field(
        0.45, ge=0, le=1, description="Below this cosine similarity a past failure is not 'similar'; with none above "
                                      "it and no rule firing, the answer says that nothing similar is known.")
    # classify the symptom
    symptom_neighbours: float = Field(0.55, ge=0, description="Weight of the neighbours' symptom votes.")
    symptom_rules: float = Field(0.45, ge=0, description="Weight of the symptom rules that match the report.")
    symptom_hang: float = Field(0.5, ge=0, description="Weight of hang evidence (no error, a watchdog or timeout, "
                                                       "stuck at a step) in a report with no crash evidence.")
    symptom_prior: float = Field(0.05, ge=0, description="Weight of the study's overall symptom distribution.")
    vote_power: float = Field(4.0, gt=0, description="A neighbour's vote is its similarity to this power: close "
                                                     "neighbours count far more than loose ones.")
    # walk symptom -> cause and combine the evidence for each cause
    top_symptoms: int = Field(5, ge=1, description="Symptom leaves the walk starts from (the most likely ones).")
    cause_walk: float = Field(0.35, ge=0, description="Weight of P(cause | symptom) from the study's statistics, "
                                                      "walked from the report's symptom distribution.")
    cause_neighbours: float = Field(0.45, ge=0, description="Weight of the neighbours' root-cause votes.")
    cause_rules: float = Field(0.20, ge=0, description="Weight of the cause and compatibility rules that fire "
                                                       "(noisy-or per cause, normalised over causes).")
    cause_text: float = Field(0.3, ge=0, description="Weight of the word naive-Bayes model's P(leaf | text).")
    normalise_rules: bool = Field(True, description="Normalise the rules' noisy-or scores to sum to 1 over causes.")
    text_temperature: float = Field(1.0, gt=0, description="Temperature of the word naive-Bayes posterior.")
    category_text_power: float = Field(
        0.5, ge=0, description="A leaf's linear score is multiplied by P(its category | text) to this power, from the "
                               "character n-gram model (0.5 beat 0 and 1; a group-level model added nothing).")
    group_vector_power: float = Field(
        0.15, ge=0, description="... and by P(its group | the report's vector) to this power, from the linear "
                                "discriminant over the MiniLM vectors (its probabilities are sharp: a small power).")
    use_environment: bool = Field(True, description="Check the report's stated environment against the "
                                                    "compatibility rules (failgraph doctor's knowledge base).")
    # rank
    prior_correction: float = Field(
        0.4, ge=0, description="Scores are divided by the cause's prior to this power: the statistics and the "
                               "neighbours both lean towards the commonest causes, and this evens out that double "
                               "counting.")
    # rank fixes (assistant/fixes.py): each source's scores are multiplied by its weight and summed per remedy
    fix_error: float = Field(1.0, ge=0, description="Weight of an error-knowledge entry that matches the report.")
    fix_environment: float = Field(0.6, ge=0, description="Weight of a compatibility rule that fires.")
    fix_similar: float = Field(1.0, ge=0, description="Weight of the similar past failures' fixes (similarity to "
                                                      "vote_power).")
    fix_cause: float = Field(1.0, ge=0, description="Weight of P(cause | report) · P(remedy | cause).")
    fix_playbook: float = Field(0.1, ge=0, description="Weight of the playbook's steps for the likely causes.")
    fix_learned: float = Field(1.0, ge=0, description="Weight of P(remedy | text), the word naive-Bayes model over "
                                                      "the past failures' fixes.")
    fix_action_text: float = Field(2.0, ge=0, description="Each candidate counts (1 + this · P(its action | text)) "
                                                          "times.")
    fix_text_temperature: float = Field(2.0, gt=0, description="Temperature of both fix text models.")
    fix_named: float = Field(1.0, ge=0, description="A fix whose target the report names (a parameter, a library) "
                                                    "counts (1 + this) times.")
    fix_vote_power: float = Field(4.0, gt=0, description="A past failure's fix votes with its similarity to this "
                                                         "power.")
    fix_misfit: float = Field(0.3, ge=0, le=1, description="Factor for each stated fact a fix's applicability "
                                                           "contradicts (model family, framework, GPU).")
    # ask back
    ask_below: float = Field(0.5, ge=0, le=1, description="Below this first-cause score the answer asks the "
                                                         "questions that would separate the top candidates.")


__all__ = ["COMMENT_THRESHOLD", "DiagnosisWeights"]
