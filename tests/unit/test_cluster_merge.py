from datetime import UTC, datetime, timedelta

from pipeline.config import DedupConfig
from pipeline.dedup.cluster import assign_ids, by_component, cluster, prune
from pipeline.merge.canonical import choose, role
from pipeline.model import Member

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_cluster_unions_and_respects_cannot_link():
    edges = [(1, 2, 0.9), (2, 3, 0.8), (4, 5, 0.7)]
    assert cluster(range(1, 7), edges) == [[1, 2, 3], [4, 5], [6]]
    assert cluster(range(1, 7), edges, cannot_link=[(1, 3)]) == [[1, 2], [3], [4, 5], [6]]
    assert cluster(range(1, 7), edges, must_link=[(3, 6)]) == [[1, 2, 3, 6], [4, 5]]


def test_one_weak_edge_does_not_fuse_two_stories():
    a = [(1, 2, 0.9), (2, 3, 0.9)]
    b = [(4, 5, 0.9), (5, 6, 0.9)]
    bridge = [(3, 4, 0.55)]
    story = {1: "A", 2: "A", 3: "A", 4: "B", 5: "B", 6: "B"}

    def coherent(ga, gb):  # groups agree only when they are about the same story
        return {story[x] for x in ga} == {story[x] for x in gb}

    groups = cluster(range(1, 7), a + b + bridge, coherent=coherent)
    assert groups == [[1, 2, 3], [4, 5, 6]]
    assert cluster(range(1, 7), a + b + bridge) == [[1, 2, 3, 4, 5, 6]]


def test_assign_ids_keeps_old_ids_and_reports_absorbed():
    previous = {1: 10, 2: 10, 3: 11, 4: 12}
    ids, absorbed = assign_ids([[1, 2, 3], [4], [5]], previous, {10: 1, 11: 3, 12: 4})
    assert ids == [10, 12, None]
    assert absorbed == {11: 0}
    # a split keeps the id with the part holding the old canonical
    ids, absorbed = assign_ids([[1], [2, 3]], {1: 10, 2: 10, 3: 10}, {10: 1})
    assert ids == [10, None] and absorbed == {}


def _m(aid, source, *, killed=False, created=0, version=None, words=300, tag="", headline="H"):
    return Member(
        article_id=aid,
        key=f"{source}:{aid}",
        source=source,
        headline=headline,
        headline_tag=tag,
        killed=killed,
        first_created=T0 + timedelta(hours=created),
        version_created=T0 + timedelta(hours=version if version is not None else created),
        word_count=words,
    )


RULES = ("not_killed", "original_source", "complete", "latest_version", "earliest_first_created")


def test_killed_never_canonical_and_correction_wins():
    original = _m(1, "reuters", created=0, version=2, tag="UPDATE 1")
    corrected = _m(2, "reuters", created=3, tag="CORRECTED")
    rewrite = _m(3, "xinhua", created=1, words=310)
    abridged = _m(4, "reuters", created=4, words=80)
    assert choose([original, corrected, rewrite, abridged], RULES).article_id == 2
    killed = _m(5, "reuters", killed=True, created=5)
    assert choose([original, killed], RULES).article_id == 1
    assert choose([killed], RULES) is None
    assert role(corrected, original) == "version"
    assert role(rewrite, original) == "duplicate"


def test_composite_bridge_is_refused_and_refined():
    """Story S = {1, 2, 3}; story T = {4, 5}; article 6 is mostly S and borrows T's text."""
    text = {
        1: {"s1", "s2", "s3"},
        2: {"s1", "s2", "s3"},
        3: {"s1", "s2"},
        4: {"t1", "t2"},
        5: {"t1", "t2"},
        6: {"s1", "s2", "t1"},
    }

    def union(g):
        return set().union(*(text[x] for x in g))

    def coherent(ga, gb):
        ua, ub = union(ga), union(gb)
        return len(ua & ub) / min(len(ua), len(ub)) >= 0.5

    edges = [(1, 2, 0.95), (1, 3, 0.9), (4, 5, 0.95), (4, 6, 0.91), (1, 6, 0.7)]
    groups = cluster(range(1, 7), edges, coherent=coherent)
    assert [1, 2, 3] in [g[:3] for g in groups] and all(not ({1, 4} <= set(g)) for g in groups)

    def coverage(n, g):
        return len(text[n] & union(g)) / len(text[n])

    from pipeline.dedup.cluster import refine

    assert refine(groups, edges, coverage) == [[1, 2, 3, 6], [4, 5]]


def test_prune_sends_away_a_member_joined_through_a_chain():
    # 1 is the canonical; 2 and 3 copy it; 4 is linked only to 3 (a round-up that lent
    # a paragraph, a chain through a third item)
    links = {frozenset(p) for p in [(1, 2), (1, 3), (2, 3), (3, 4)]}

    def linked(x, y):
        return frozenset((x, y)) in links

    def regroup(nodes):
        return [[n] for n in nodes]

    groups = prune([[1, 2, 3, 4]], linked, lambda g: min(g), regroup)
    assert groups == [[1, 2, 3], [4]]
    # linked to most of the others, a member stays without an edge to the canonical
    links |= {frozenset((2, 4))}
    assert prune([[1, 2, 3, 4]], linked, lambda g: min(g), regroup) == [[1, 2, 3, 4]]
    # an operator's merge is kept whatever the edges say
    assert prune([[1, 5]], linked, lambda g: 1, regroup, keep=[(1, 5)]) == [[1, 5]]
    assert prune([[1, 2, 5]], linked, lambda g: 1, regroup) == [[1, 2], [5]]


def test_a_shorter_correction_is_canonical_over_the_item_it_corrects():
    original = _m(1, "reuters", created=0, words=300)
    correction = _m(2, "reuters", created=20, words=120, tag="CORRECTED")
    assert choose([original, correction], DedupConfig().canonical_rules).article_id == 2


def test_pairs_by_component_keep_each_component_together():
    pairs = [(1, 9), (2, 3), (3, 8), (4, 9), (5, 6), (8, 10)]
    got = by_component(pairs)
    assert sorted(got) == sorted(pairs)
    # {1, 4, 9}, {2, 3, 8, 10}, {5, 6}: by smallest id, then (a, b) within
    assert got == [(1, 9), (4, 9), (2, 3), (3, 8), (8, 10), (5, 6)]
    chunks = [got[i : i + 2] for i in range(0, len(got), 2)]
    touched = sum(len({x for p in c for x in p}) for c in chunks)
    assert touched < sum(len({x for p in pairs[i : i + 2] for x in p}) for i in range(0, 6, 2))
