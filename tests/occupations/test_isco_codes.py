"""ISCO-08 groups for postings, from their O*NET-SOC probabilities."""

import doctest

import numpy as np
import pytest

from exposure.occupations import isco_codes
from exposure.occupations.isco_codes import IscoGroups, isco_groups, isco_titles, soc_to_isco08


def test_doctests():
    assert doctest.testmod(isco_codes).failed == 0


def test_every_soc_code_splits_one_whole():
    table = soc_to_isco08()
    assert len(table) > 800
    for groups in table.values():
        assert sum(share for _, share in groups) == pytest.approx(1.0)
        assert all(len(g) == 4 and g in isco_titles() for g, _ in groups)


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
