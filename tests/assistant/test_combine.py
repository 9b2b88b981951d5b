"""Unit tests of the evidence combination, the symptom classification and the ranking, on real taxonomy labels and
the real labeled dataset's statistics, with the tuning weights passed in (no global constants)."""

import pytest

from failgraph.assistant.probability import noisy_or, normalise
from failgraph.assistant.rank import cause_distribution, ranked_leaves, roll_up
from failgraph.assistant.retrieve import Neighbour
from failgraph.assistant.statistics import LabelStatistics
from failgraph.assistant.symptoms import classify_symptoms, neighbour_votes
from failgraph.assistant.walk import CauseEvidence, walk
from failgraph.assistant.weights import DiagnosisWeights
from failgraph.kg.corpus import LabeledRecord, PastFailure
from failgraph.ontology import Level, load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def stats(full_records):
    return LabelStatistics.from_records([LabeledRecord(key=r.issue.key, symptom=r.symptom, root_cause=r.root_cause)
                                         for r in full_records])


def neighbour(url: str, similarity: float, symptom: str, cause: str) -> Neighbour:
    return Neighbour(failure=PastFailure(key=url.lower(), url=url, text="x", symptoms=[symptom], root_causes=[cause]),
                     similarity=similarity, fused=similarity)


def test_noisy_or_is_order_free_and_stays_a_probability():
    assert noisy_or(0.2, 0.5) == pytest.approx(noisy_or(0.5, 0.2)) == pytest.approx(0.6)
    assert noisy_or(noisy_or(0.2, 0.5), 0.3) == noisy_or(0.2, 0.5, 0.3)
    assert noisy_or(1.0, 0.3) == 1.0 and noisy_or(0.0) == 0.0 and noisy_or() == 0.0


def test_normalise_clips_negatives_and_falls_back_to_uniform():
    assert normalise({"a": 2.0, "b": 2.0, "c": -1.0}) == {"a": 0.5, "b": 0.5, "c": 0.0}
    assert normalise({"a": 0.0, "b": 0.0}) == {"a": 0.5, "b": 0.5}
    assert normalise({}) == {}


def test_score_follows_the_weights_passed_in():
    e = CauseEvidence(cause="c", walk=0.2, neighbours=0.5, rules=1.0, text=0.1, category_text=0.25)
    base = DiagnosisWeights()
    no_rules = DiagnosisWeights(cause_rules=0.0)
    assert e.score(base) - e.score(no_rules) == pytest.approx(base.cause_rules * 1.0 * 0.25 ** base.category_text_power)
    assert e.score(DiagnosisWeights(category_text_power=0.0)) > e.score(base)  # 0.25^0 = 1 > 0.25^0.5
    with pytest.raises(ValueError):
        DiagnosisWeights(cause_rules=-1)
    with pytest.raises(ValueError):  # frozen: one configuration, never changed in place
        base.cause_rules = 0.5  # type: ignore[misc]


def test_neighbour_votes_weigh_close_neighbours_far_more(tax):
    s = [c.label for c in tax.leaves("symptom")][:2]
    c = [c.label for c in tax.leaves("root_cause")][:2]
    ns = [neighbour("https://github.com/o/r/issues/1", 0.9, s[0], c[0]),
          neighbour("https://github.com/o/r/issues/2", 0.6, s[1], c[1])]
    flat = neighbour_votes(ns, "root_causes", 1.0)
    sharp = neighbour_votes(ns, "root_causes", DiagnosisWeights().vote_power)
    assert flat[c[0]] == pytest.approx(0.9 / 1.5)
    assert sharp[c[0]] > flat[c[0]] and sum(sharp.values()) == pytest.approx(1.0)
    assert neighbour_votes([], "root_causes", 4.0) == {}


def test_symptoms_without_neighbours_or_rules_follow_the_prior(stats):
    prior = stats.symptom_prior()
    dist = classify_symptoms("something odd happened", [], prior)
    leaf_prior = {s: prior[s] for s in dist}
    assert sum(dist.values()) == pytest.approx(1.0)
    assert max(dist, key=dist.get) == max(leaf_prior, key=leaf_prior.get)


def test_symptoms_follow_a_close_neighbour(stats, tax):
    rare = min(stats.symptom_leaves, key=lambda s: stats.symptom_prior()[s])
    cause = stats.cause_leaves[0]
    dist = classify_symptoms("something odd happened", [neighbour("https://github.com/o/r/issues/1", 0.95, rare,
                                                                  cause)], stats.symptom_prior())
    assert max(dist, key=dist.get) == rare


def test_walk_combines_statistics_neighbours_and_rules(stats, tax):
    oom = next(c.label for c in tax.leaves("root_cause") if "GPU Memory" in c.label)
    crash = max(stats.symptom_leaves, key=lambda s: stats.symptom_prior()[s])
    ev = walk("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", {crash: 1.0}, [], stats)
    assert ev[oom].rules_fired, "the out-of-memory cause rule fires"
    assert ev[oom].rules > 0 and sum(e.rules for e in ev.values()) == pytest.approx(1.0)
    assert ev[oom].via_symptoms == [(crash, 1.0, stats.cause_given_symptom(crash)[oom])]
    dist = cause_distribution(ev, stats.cause_prior())
    assert sum(dist.values()) == pytest.approx(1.0)
    assert max(dist, key=dist.get) == oom
    # without the rules' weight the statistics alone decide, and the rule's cause loses its lead
    no_rules = cause_distribution(ev, stats.cause_prior(), DiagnosisWeights(cause_rules=0.0))
    assert no_rules[oom] < dist[oom]


def test_prior_correction_evens_out_common_causes(stats):
    ev = {c: CauseEvidence(cause=c, walk=stats.cause_prior()[c]) for c in stats.cause_leaves}
    plain = cause_distribution(ev, stats.cause_prior(), DiagnosisWeights(prior_correction=0.0))
    corrected = cause_distribution(ev, stats.cause_prior())
    common = max(plain, key=plain.get)
    assert corrected[common] < plain[common]


def test_ranked_leaves_start_with_the_best_leaf_of_the_best_category(tax, stats):
    dist = normalise({c: stats.cause_prior()[c] for c in stats.cause_leaves})
    first, _ = ranked_leaves(dist, "root_cause")[0]
    cats = roll_up(dist, "root_cause", Level.category)
    assert tax.label_at("root_cause", first, Level.category) == max(cats, key=cats.get)
    assert sorted(p for _, p in ranked_leaves(dist, "root_cause")[1:])[::-1] == \
        [p for _, p in ranked_leaves(dist, "root_cause")[1:]]
