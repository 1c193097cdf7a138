"""Clustering verified edges into stories without chaining.

Plain union-find over every "duplicate" edge lets one wrong edge fuse two large stories.
Here edges are applied strongest first, and the groups of an edge (x, y) are joined only
when

* no cannot-link pair (an operator "never merge"/"split", or a verified "conflict") would
  end up in one group, and
* the groups agree as wholes *without the edge's own endpoints*: ``coherent(A - {x}, B)``
  and ``coherent(A, B - {y})`` (the caller decides what agreeing means; cluster_merge uses
  the containment of one side's combined shingles in the other's). A composite article that
  borrows a paragraph of story T can link story S to T, but S's other members do not
  agree with T's, so the edge is refused. A lone article joining a group must agree with
  the group's other members, not only with its neighbour.

Operator "merge" pairs are applied first and unconditionally. ``refine`` then moves an
article that verified edges tie to several groups into the group that covers most of it,
and ``prune`` holds every story to its evidence: each member linked to the canonical, or to
half of the others, by a verified duplicate edge of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class UnionFind:
    def __init__(self, items: Iterable[int] = ()):
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        for i in items:
            self.add(i)

    def add(self, i: int) -> None:
        if i not in self.parent:
            self.parent[i] = i
            self.members[i] = {i}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        # smaller id stays root so the result does not depend on edge order ties
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        return ra

    def groups(self) -> list[list[int]]:
        return sorted(sorted(m) for m in self.members.values())


def by_component(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pairs ordered by connected component (its smallest id first), then by (a, b):
    consecutive pairs share their articles, so cut into chunks they touch fewer articles
    per chunk than pairs ordered by (a, b) alone, and each article's features are built
    in fewer chunks."""
    pairs = list(pairs)
    uf = UnionFind()
    for a, b in pairs:
        uf.add(a)
        uf.add(b)
        uf.union(a, b)
    return sorted(pairs, key=lambda p: (uf.find(p[0]), p))


def cluster(
    nodes: Iterable[int],
    edges: Iterable[tuple[int, int, float]],
    *,
    cannot_link: Iterable[tuple[int, int]] = (),
    must_link: Iterable[tuple[int, int]] = (),
    coherent: Callable[[set[int], set[int]], bool] | None = None,
) -> list[list[int]]:
    """Groups of node ids. ``edges`` are (a, b, strength) duplicate decisions."""
    uf = UnionFind(nodes)
    banned: dict[int, set[int]] = {}
    for a, b in cannot_link:
        banned.setdefault(a, set()).add(b)
        banned.setdefault(b, set()).add(a)

    def conflict(ra: int, rb: int) -> bool:
        small, big = uf.members[ra], uf.members[rb]
        if len(small) > len(big):
            small, big = big, small
        return any(banned.get(x, set()) & big for x in small)

    for a, b in must_link:
        uf.add(a)
        uf.add(b)
        uf.union(a, b)
    ordered = sorted(edges, key=lambda e: (-e[2], e[0], e[1]))
    for a, b, _ in ordered:
        if a not in uf.parent or b not in uf.parent:
            continue
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or conflict(ra, rb):
            continue
        ma, mb = uf.members[ra], uf.members[rb]
        if coherent is not None:
            rest_a, rest_b = ma - {a}, mb - {b}
            if rest_a and not coherent(rest_a, mb):
                continue
            if rest_b and not coherent(ma, rest_b):
                continue
        uf.union(ra, rb)
    return uf.groups()


def refine(
    groups: list[list[int]],
    edges: Iterable[tuple[int, int, float]],
    coverage: Callable[[int, set[int]], float],
    *,
    cannot_link: Iterable[tuple[int, int]] = (),
    margin: float = 0.1,
) -> list[list[int]]:
    """Move each article whose edges reach several groups into the group covering most of
    it (``coverage(node, other members)``), when that beats its own group by ``margin``."""
    where = {n: gi for gi, g in enumerate(groups) for n in g}
    members = [set(g) for g in groups]
    banned: dict[int, set[int]] = {}
    for a, b in cannot_link:
        banned.setdefault(a, set()).add(b)
        banned.setdefault(b, set()).add(a)
    reach: dict[int, set[int]] = {}
    for a, b, _ in edges:
        if a in where and b in where and where[a] != where[b]:
            reach.setdefault(a, set()).add(where[b])
            reach.setdefault(b, set()).add(where[a])
    for n in sorted(reach):
        own = where[n]
        if len(members[own]) == 1:
            continue  # a lone article is not pulled out of anywhere; its edge was refused
        best, best_cov = own, coverage(n, members[own] - {n})
        for gi in sorted(reach[n]):
            if banned.get(n, set()) & members[gi]:
                continue
            cov = coverage(n, members[gi])
            if cov > best_cov + margin:
                best, best_cov = gi, cov
        if best != own:
            members[own].discard(n)
            members[best].add(n)
            where[n] = best
    return sorted(sorted(m) for m in members if m)


def prune(
    groups: list[list[int]],
    linked: Callable[[int, int], bool],
    canonical: Callable[[list[int]], int | None],
    regroup: Callable[[list[int]], list[list[int]]],
    keep: Iterable[tuple[int, int]] = (),
) -> list[list[int]]:
    """Hold every story to its evidence: each member has a verified duplicate edge to the
    canonical, or to more than half of the other members (then the story cannot be two
    stories). A member that has neither joined through a chain of third items; it leaves,
    fewest links first, and the leavers are grouped again among themselves (``regroup``)
    under the same rule. Members an operator merged (``keep``) stay."""
    kept = {frozenset(p) for p in keep}
    out: list[list[int]] = []
    todo = [sorted(g) for g in groups]
    while todo:
        g = todo.pop()
        left: list[int] = []
        while len(g) > 2:
            c = canonical(g)
            counts = {m: sum(linked(m, o) for o in g if o != m) for m in g}
            bad = [
                m
                for m in g
                if m != c
                and not linked(m, c)
                and 2 * counts[m] <= len(g) - 1
                and not any(frozenset((m, o)) in kept for o in g)
            ]
            if not bad:
                break
            worst = min(bad, key=lambda m: (counts[m], m))
            g = [m for m in g if m != worst]
            left.append(worst)
        out.append(g)
        if left:
            todo.extend(sorted(x) for x in regroup(sorted(left)))
    return sorted(out)


def keep_together(groups: list[list[int]], must_link: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Operator merges hold after any later step that moves articles between groups
    (``refine``): groups holding the two ends of a must-link pair become one again."""
    uf = UnionFind(n for g in groups for n in g)
    for g in groups:
        for n in g[1:]:
            uf.union(g[0], n)
    for a, b in must_link:
        if a in uf.parent and b in uf.parent:
            uf.union(a, b)
    return uf.groups()


def assign_ids(
    groups: list[list[int]], previous: dict[int, int], canonical_of: dict[int, int]
) -> tuple[list[int | None], dict[int, int]]:
    """Keep story ids stable across runs.

    ``previous`` maps node -> its story id before this run; ``canonical_of`` maps story id
    -> its canonical node. Each group keeps the oldest (smallest) previous story id of its
    members, unless a larger group took it first, in which case the group that holds the
    old canonical wins. Returns one id (or None for a new story) per group, and for every
    previous story that no group kept, the index of the group that absorbed most of it.
    """
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i]), groups[i][0]))
    claimed: dict[int, int] = {}  # story id -> group index
    result: list[int | None] = [None] * len(groups)
    # first pass: a group holding a story's canonical has the strongest claim to its id
    for gi in order:
        olds = sorted({previous[n] for n in groups[gi] if n in previous})
        for sid in olds:
            if sid not in claimed and canonical_of.get(sid) in groups[gi]:
                claimed[sid] = gi
                result[gi] = sid
                break
    for gi in order:
        if result[gi] is not None:
            continue
        olds = sorted({previous[n] for n in groups[gi] if n in previous})
        for sid in olds:
            if sid not in claimed:
                claimed[sid] = gi
                result[gi] = sid
                break
    absorbed: dict[int, int] = {}
    all_prev = set(previous.values())
    for sid in sorted(all_prev - set(claimed)):
        counts: dict[int, int] = {}
        for gi, g in enumerate(groups):
            c = sum(1 for n in g if previous.get(n) == sid)
            if c:
                counts[gi] = c
        if counts:
            absorbed[sid] = max(counts, key=lambda gi: (counts[gi], -gi))
    return result, absorbed
