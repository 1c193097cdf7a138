from pipeline.evaluate import evaluate, misses, partition_scores


def test_partition_scores_on_hand_computed_case():
    # truth {1,2,3}{4,5,6}, pred {1,2}{3,4}{5,6}: 2 correct of 3 predicted pairs, 6 true
    s = partition_scores([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])
    assert abs(s.precision - 2 / 3) < 1e-12 and abs(s.recall - 1 / 3) < 1e-12
    assert abs(s.ari - 0.8 / 3.3) < 1e-12
    assert partition_scores(["x", "x", "y"], [7, 7, 8]).ari == 1.0


def test_evaluate_counts_captions_contributors_kills_and_negatives():
    truth = {
        "a": {"story": "S", "captions": [{"text": "A boat. /VCG Photo", "group": "c1"}]},
        "b": {"story": "S", "captions": [{"text": "File photo: a boat.", "group": "c1"}]},
        "c": {"story": "T", "contributors": ["S"]},
        "k": {"story": "T", "killed": True},
    }
    stories = [
        {
            "story_id": 1,
            "canonical": "a",
            "members": ["a", "b"],
            "captions": [
                {"text": "A boat. /VCG Photo", "group": "g1"},
                {"text": "File photo: a boat.", "group": "g1"},
            ],
        },
        {"story_id": 2, "canonical": "k", "members": ["c", "k"], "contributors": ["a"]},
    ]
    r = evaluate(truth, stories, [{"type": "templated", "stories": ["S", "T"]}])
    assert r.clustering.ari == 1.0 and r.caption_f1 == 1.0 and r.contributor_recall == 1.0
    assert r.killed_canonical == 1
    assert r.hard_negatives == {"templated": (0, 1)}
    assert misses(r) == ["1 killed item(s) canonical"]
