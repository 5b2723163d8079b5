"""exposure.labour.employment: the BLS tables as published, hybrid SOC codes, scores on BLS codes, employment
files (no model)."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exposure.labour import (hybrid_members, load_education, load_oews, load_projections, load_utilization_factors,
                             read_employment, to_bls_codes)


def test_oews_marks_and_levels():
    oews = load_oews()
    assert set(oews["o_group"].to_pylist()) == {"total", "major", "minor", "broad", "detailed"}
    rows = {(r["soc_code"], r["o_group"]): r for r in oews.to_pylist()}
    assert rows[("00-0000", "total")]["employment"] == 140886310
    # '#': top-coded median -> the $208,000 bound, flagged.
    ceo = rows[("29-1023", "detailed")]         # orthodontists
    assert ceo["annual_median_wage"] == 208000.0 and ceo["wage_top_coded"]
    # '*': annual wages not published for hourly-only occupations (actors) -> null, hourly kept.
    actors = rows[("27-2011", "detailed")]
    assert actors["annual_median_wage"] is None and actors["hourly_median_wage"] > 0
    # A code published at two levels keeps both rows, with the same numbers.
    assert rows[("31-1120", "broad")]["employment"] == rows[("31-1120", "detailed")]["employment"] == 3366480


def test_projections_in_people_and_marks():
    p = load_projections()
    rows = {r["soc_code"]: r for r in p.to_pylist()}
    assert rows["00-0000"]["employment_2022"] == 164482600       # 164,482.6 thousand
    assert rows["00-0000"]["education"] is None                  # '—'
    top = [r for r in rows.values() if r["wage_top_coded"]]
    assert top and all(r["median_wage_2022"] == 239200.0 for r in top)
    assert p.filter(pc.equal(p["occupation_type"], "Line item")).num_rows == 832


def test_education_and_factors():
    e = {r["soc_code"]: r for r in load_education().to_pylist()}
    assert e["11-1011"]["education"] == "Bachelor's degree"
    f = load_utilization_factors()
    assert set(f.column_names) == {"soc_code", "title", "industry", "industry_code", "factor"}
    assert f.filter(pc.equal(f["soc_code"], "11-1011"))["factor"][0].as_py().startswith("Productivity change")


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "oews.csv"
    path.write_text("OCC_CODE,OCC_TITLE,O_GROUP\n11-1011,Chief executives,detailed\n")
    with pytest.raises(ValueError, match=r"OEWS file .* has no column 'TOT_EMP', 'A_MEAN'.*its columns are: OCC_CODE"):
        load_oews(path)
    with pytest.raises(ValueError, match=r"Employment Projections \(Table 1.7\) file .* has no column"):
        load_projections(path)
    with pytest.raises(ValueError, match=r"OEWS file .*nope.csv' does not exist"):
        load_oews(tmp_path / "nope.csv")


def test_non_numeric_cell(tmp_path):
    path = tmp_path / "oews.csv"
    path.write_text("OCC_CODE,OCC_TITLE,O_GROUP,TOT_EMP,A_MEAN,A_MEDIAN,H_MEAN,H_MEDIAN\n"
                    "11-1011,CEO,detailed,lots,1,1,1,1\n")
    with pytest.raises(ValueError, match="cannot read 'lots' as a number"):
        load_oews(path)


def test_hybrid_members_from_code_structure():
    m = hybrid_members(["31-1120", "51-2090", "13-1020", "25-9045", "25-9044", "53-1047", "53-1041", "11-1011"])
    assert m["31-1120"] == ["31-1121", "31-1122"]
    assert m["51-2090"] == ["51-2092", "51-2099"]
    assert m["13-1020"] == ["13-1021", "13-1022", "13-1023"]
    assert m["25-9045"] == ["25-9042", "25-9043", "25-9049"]       # 25-9044 is published apart
    assert m["53-1047"] == ["53-1042", "53-1043", "53-1044", "53-1049"]
    assert m["11-1011"] == ["11-1011"]
    with pytest.raises(ValueError, match="not SOC codes: 'x'"):
        hybrid_members(["x"])


def test_to_bls_codes_means_and_match_kinds():
    scores = pa.table({"soc_code": ["31-1121.00", "31-1122.00", "51-2092.00", "21-1091.00", "21-1092.00",
                                    "15-1252.00", "15-1252.01"],
                       "exposure": [0.2, 0.4, 0.9, 0.1, 0.3, 0.6, 0.8]})
    t = to_bls_codes(scores, ["31-1120", "51-2090", "21-1099", "15-1252", "45-2099"]).to_pylist()
    got = {r["soc_code"]: r for r in t}
    assert got["31-1120"]["match"] == "hybrid" and got["31-1120"]["exposure"] == pytest.approx(0.3)
    assert got["31-1120"]["score_codes"] == "31-1121;31-1122"
    # Only members with a score count: 51-2099 has none here.
    assert got["51-2090"]["exposure"] == pytest.approx(0.9) and got["51-2090"]["score_codes"] == "51-2092"
    assert got["21-1099"]["match"] == "residual" and got["21-1099"]["exposure"] == pytest.approx(0.2)
    assert got["15-1252"]["match"] == "exact" and got["15-1252"]["exposure"] == pytest.approx(0.7)  # O*NET mean
    assert got["45-2099"]["match"] == "none" and got["45-2099"]["exposure"] is None
    no_res = to_bls_codes(scores, ["21-1099"], residuals=False).to_pylist()[0]
    assert no_res["match"] == "none"


def test_to_bls_codes_errors():
    with pytest.raises(ValueError, match="no column 'exposure_x'"):
        to_bls_codes(pa.table({"soc_code": ["11-1011"], "exposure": [0.1]}), ["11-1011"], columns=["exposure_x"])
    with pytest.raises(ValueError, match="no score column"):
        to_bls_codes(pa.table({"soc_code": ["11-1011"], "title": ["x"]}), ["11-1011"])
    with pytest.raises(ValueError, match="codes that are not O\\*NET-SOC or SOC 2018: 'abc'"):
        to_bls_codes(pa.table({"soc_code": ["abc"], "exposure": [0.1]}), ["11-1011"])


def test_read_employment(tmp_path):
    path = tmp_path / "emp.csv"
    path.write_text("SOC,workers\n151252,10\n15-1252,5\n31-1120,7\n")
    t = read_employment(path, "SOC", "workers")
    assert dict(zip(t["soc_code"].to_pylist(), t["employment"].to_pylist())) == {"15-1252": 15.0, "31-1120": 7.0}
    path.write_text("SOC,workers\n99-1234,1\nabc,2\n")
    with pytest.raises(ValueError, match=r"column 'SOC' holds 2 unknown SOC 2018 code\(s\): '99-1234', 'abc'"):
        read_employment(path, "SOC", "workers")
    path.write_text("SOC,workers\n11-1011,many\n")
    with pytest.raises(ValueError, match="column 'workers' is not numeric"):
        read_employment(path, "SOC", "workers")
    path.write_text("SOC,workers\n11-1011,-1\n")
    with pytest.raises(ValueError, match="column 'workers' has negative employment"):
        read_employment(path, "SOC", "workers")
    with pytest.raises(ValueError, match="has no column 'jobs'"):
        read_employment(path, "SOC", "jobs")
