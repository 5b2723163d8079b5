"""ISCO-08 groups for postings, from their O*NET-SOC probabilities."""

import doctest
import zlib

import numpy as np
import pytest

from exposure.occupations import isco_codes
from exposure.occupations.isco_codes import IscoGroups, isco_group_titles, isco_groups, soc_to_isco08


def test_doctests():
    assert doctest.testmod(isco_codes).failed == 0


def test_every_soc_code_splits_one_whole():
    table = soc_to_isco08()
    assert len(table) > 800
    for groups in table.values():
        assert sum(share for _, share in groups) == pytest.approx(1.0)
        assert all(len(g) == 4 and g in isco_group_titles(4) for g, _ in groups)


def test_levels_sum_their_unit_groups_and_choose_each_level_apart():
    # 43-3031 (bookkeeping clerks) splits over its unit groups; 13-2011 (accountants) goes whole to 2411.
    split = soc_to_isco08()["43-3031"]
    out = isco_groups([["43-3031.00", "13-2011.00", None], ["", None, None], ["99-9999.00", None, None]],
                      [[0.5, 0.3, np.nan], [np.nan] * 3, [0.9, np.nan, np.nan]])
    votes = {g: 0.5 * s for g, s in split}
    votes["2411"] = votes.get("2411", 0.0) + 0.3
    best = max(votes.items(), key=lambda kv: (kv[1], -int(kv[0])))
    assert out.unit_codes[0, 0] == best[0] and out.unit_confidence[0, 0] == pytest.approx(best[1])
    majors = {}
    for g, p in votes.items():
        majors[g[0]] = majors.get(g[0], 0.0) + p
    top = max(majors.items(), key=lambda kv: kv[1])
    assert out.codes[1][0] == top[0] and out.confidence[1][0] == pytest.approx(top[1])
    assert sum(majors.values()) == pytest.approx(0.8) and top == ("2", pytest.approx(0.3))  # 3313, 4311 split
    # no code, or a code the crosswalk does not reach: no group
    assert list(out.unit_codes[1]) == [None] * 3 and out.codes[2][1] is None and np.isnan(out.confidence[3][2])


def test_empty_and_concat():
    a = isco_groups([["43-6014.00"]], [[0.7]])
    both = IscoGroups.concat([a, IscoGroups.empty(2)])
    assert both.unit_codes.shape == (3, 3) and both.codes[2] == ["41", None, None]
    assert np.isnan(both.unit_confidence[1:]).all()


class _Encoder:
    """Texts -> fixed random unit vectors (the same text, the same vector)."""

    name, dim = "toy", 16

    def encode(self, texts, show_progress=False, **_):
        out = []
        for t in texts:
            v = np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim)
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32)


def test_native_distribution_and_mix(tmp_path):
    from exposure.occupations.isco_codes import IscoIndex, isco_tasks, load_isco_groups

    enc = _Encoder()
    index = IscoIndex(enc, cache_dir=False)
    groups = load_isco_groups(4)
    at = index.codes.index("2512")
    title = index.titles[[at, at, at]]  # postings titled as software developers
    tasks = isco_tasks()
    task = enc.encode([t for c, t in zip(tasks["isco08"].to_pylist(), tasks["task"].to_pylist()) if c == "1111"][:3])
    dist = index.distribution(title, np.array([True, True, False]), np.r_[task, task[:1]],
                              np.array([0, 0, 0, 1]))
    assert dist.shape == (3, groups.num_rows) and np.allclose(dist.sum(axis=1), [1.0, 1.0, 0.0])  # 2: nothing
    # the duties weigh 0.7 against the title's 0.3: both postings go to the duties' group
    assert [index.codes[i] for i in dist[:2].argmax(axis=1)] == ["1111", "1111"]  # legislators' tasks
    title_only = index.distribution(title[:1], np.array([True]), np.zeros((0, 16), np.float32), np.zeros(0, np.int64))
    assert title_only[0].argmax() == at
    none = index.distribution(title[:1], np.array([False]), np.zeros((0, 16), np.float32), np.zeros(0, np.int64))
    assert not none.any()
    mixed = isco_groups([["43-6014.00"], [None]], [[0.9], [np.nan]], native=np.vstack([title_only, title_only]),
                        native_weight=0.2)
    share = title_only[0, index.codes.index("4120")]
    assert mixed.unit_codes[0, 0] == "4120" and mixed.unit_confidence[0, 0] == pytest.approx(0.72 + 0.2 * share)
    assert mixed.unit_codes[0, 1] == "2512"  # the title's own match comes second
    assert mixed.unit_codes[1, 0] is None  # no occupation: no group, whatever the native part says
