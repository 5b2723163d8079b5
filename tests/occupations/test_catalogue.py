"""exposure.occupations.catalogue: the shipped O*NET tasks, occupations and crosswalk, rebuilt from the sources; code
normalisation and SOC major groups."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest

from exposure.occupations import (SOC_MAJOR_GROUPS, load_occupations, load_tasks, major_group, major_groups,
                                  normalize_codes)

from helpers import ROOT, SHARED_DATA, needs_shared_data

DATA = SHARED_DATA
PACKAGE_DATA = ROOT / "exposure" / "data"


@pytest.mark.parametrize("release, n_tasks, n_occ", [("27", 19265, 923), ("29.1", 18796, 923)])
def test_task_catalogue(release, n_tasks, n_occ):
    t = load_tasks(release)
    assert t.column_names == ["soc_code", "occupation_title", "task_id", "task_type", "weight", "task"]
    assert t.num_rows == n_tasks and len(set(t["soc_code"].to_pylist())) == n_occ
    assert t.schema.field("soc_code").type == pa.string()  # dictionary-decoded for callers
    core = pc.equal(t["task_type"], "Core")
    assert pc.all(pc.equal(t["weight"], pc.if_else(core, 2, 1).cast(pa.int8()))).as_py()
    assert set(t["task_type"].to_pylist()) == {"Core", "Supplemental", "Unrated"}
    assert t.column("task").null_count == 0 and t.column("occupation_title").null_count == 0


def test_occupations_keep_those_without_tasks():
    occ = load_occupations("29.1")
    assert occ.num_rows == 1016 and occ.column_names == ["soc_code", "title", "description"]
    with_tasks = set(load_tasks("29.1")["soc_code"].to_pylist())
    assert sum(c not in with_tasks for c in occ["soc_code"].to_pylist()) == 93
    occ27 = load_occupations("27")
    assert occ27.num_rows == 923 and occ27.column_names == ["soc_code", "title"]
    assert occ27.slice(0, 1).to_pylist() == [{"soc_code": "11-1011.00", "title": "Chief Executives"}]


def test_unknown_release_lists_the_shipped_ones():
    with pytest.raises(ValueError, match=r"unknown O\*NET release '28'; shipped releases are: 27, 29.1"):
        load_tasks("28")
    assert load_occupations(29.1).num_rows == 1016  # a number is accepted


def test_shipped_files_are_small_and_labels_are_not_shipped():
    files = sorted(p.name for p in PACKAGE_DATA.iterdir() if p.suffix in (".parquet", ".csv"))
    assert {"onet27_tasks.parquet", "onet29_1_occupations.parquet", "onet29_1_tasks.parquet",
            "soc_2010_to_2018.csv"} <= set(files)
    assert not [f for f in files if "label" in f or "rating" in f]
    assert all((PACKAGE_DATA / f).stat().st_size < 5_000_000 for f in files)
    readme = (PACKAGE_DATA / "README.md").read_text()
    for release in ("27", "29.1"):
        assert (f"This product includes information from the O*NET {release} Database by the U.S.\n"
                "  Department of Labor") in readme
    assert "public domain" in readme


@pytest.mark.slow
@needs_shared_data
def test_catalogue_rebuilds_byte_for_byte(tmp_path):
    from exposure.data.build import build

    for path in build(DATA, tmp_path):
        assert path.read_bytes() == (PACKAGE_DATA / path.name).read_bytes(), path.name


@needs_shared_data
def test_tasks_match_the_source_row_for_row():
    src = pcsv.read_csv(DATA / "onet_tasks.tsv", parse_options=pcsv.ParseOptions(delimiter="\t"),
                        convert_options=pcsv.ConvertOptions(column_types={"soc_code": pa.string()}))
    t = load_tasks("27")
    for c in ("soc_code", "occupation_title", "task_type", "task"):
        assert t[c].to_pylist() == src[c].to_pylist(), c
    assert t["task_id"].to_pylist() == src["task_id"].to_pylist()
    assert 'Conduct "head counts" to help predict the outcome of upcoming votes.' in t["task"].to_pylist()


@pytest.mark.parametrize("code, system, expected", [
    ("11-1011.00", "soc2018", "11-1011"), (" 111011 ", "soc2018", "11-1011"), (111011, "soc2010", "11-1011"),
    ("11-1011", "onet", "11-1011.00"), ("111011.03", "onet", "11-1011.03"), ("11-1011.1", "onet", "11-1011.10"),
    ("11-101", "soc2018", None), ("Chief Executives", "onet", None), (None, "onet", None),
])
def test_normalize_codes(code, system, expected):
    assert normalize_codes([code], system) == [expected]


def test_normalize_codes_unknown_system():
    with pytest.raises(ValueError, match="unknown code system 'isco'; use one of: onet, soc2018, soc2010"):
        normalize_codes(["11-1011"], "isco")


def test_major_groups():
    assert len(SOC_MAJOR_GROUPS) == 23 and "55" in SOC_MAJOR_GROUPS
    assert major_group("15-1252.00") == "Computer and Mathematical" and major_group("99-0000") is None
    groups = major_groups(load_occupations("29.1")["soc_code"])
    assert None not in groups and len(set(groups)) == 23
    assert len(set(major_groups(load_tasks("27")["soc_code"]))) == 22
