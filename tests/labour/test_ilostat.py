"""Any country's employment from the shipped ILOSTAT table, and workforce --country."""

import doctest

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exposure.cli import main
from exposure.labour import ilostat, isco_workforce
from exposure.labour.ilostat import ilostat_countries, ilostat_employment, ilostat_table

OURS = pa.table({"isco08": ["2511", "2512", "4110", "5223", "9629"], "exposure": [0.6, 0.8, 0.7, 0.3, 0.1]})


def _file(rows):
    names = ["country_code", "country", "source", "sex", "year", "isco08_2digit", "employment_thousands"]
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


# Two sexes, two sources in 2019 (the larger one wins), an ISCO-88 row left out, X not classified.
BY_SEX = _file([("XYZ", "Xland", "LFS", s, 2019, c, v) for s, rows in
                (("T", (("TOTAL", 10.0), ("25", 4.0), ("41", 5.0), ("X", 1.0))),
                 ("M", (("TOTAL", 6.0), ("25", 3.0), ("41", 2.0), ("X", 1.0))),
                 ("F", (("TOTAL", 4.0), ("25", 1.0), ("41", 3.0)))) for c, v in rows]
               + [("XYZ", "Xland", "small survey", "T", 2019, "25", 1.0),
                  ("XYZ", "Xland", "LFS", "T", 2018, "25", 2.0),
                  ("XYZ", "Xland", "LFS", "T", 2019, "OC2_ISCO88_21", 9.0)])


def test_doctests():
    assert doctest.testmod(ilostat).failed == 0


def test_shipped_table_is_isco08_only_and_sums_to_its_totals():
    table = ilostat_table()
    assert not pc.any(pc.starts_with(table["isco08"], "OC2")).as_py()
    countries = ilostat_countries()
    assert countries.num_rows == 97 and set(countries["sexes"].to_pylist()) == {"T"}
    emp, about = ilostat_employment("Germany", year=2018)
    assert about["country_code"] == "DEU" and about["sex"] == "T"
    assert emp.num_rows == 41 and all(len(c) == 2 for c in emp["isco08"].to_pylist())
    # the groups and the not-classified add up to the published total (to rounding in the source)
    assert pc.sum(emp["employment"]).as_py() + about["not_classified"] == pytest.approx(about["workers"], rel=1e-4)


def test_latest_year_largest_survey_and_sexes():
    emp, about = ilostat_employment("xyz", source=BY_SEX)
    assert (about["year"], about["survey"], about["workers"]) == (2019, "LFS", 10_000.0)
    assert dict(zip(*emp.to_pydict().values())) == {"25": 4000.0, "41": 5000.0}
    assert about["not_classified"] == 1000.0
    women, _ = ilostat_employment("XYZ", sex="f", source=BY_SEX)
    assert dict(zip(*women.to_pydict().values())) == {"25": 1000.0, "41": 3000.0}
    assert ilostat_employment("XYZ", year=2018, source=BY_SEX)[1]["workers"] == 2000.0  # no TOTAL: the sum
    assert ilostat_countries(BY_SEX).to_pylist() == [
        {"country_code": "XYZ", "country": "Xland", "years": "2018-2019", "sexes": "TMF"}]


@pytest.mark.parametrize("kwargs, message", [
    ({"country": "HKG"}, "no ILOSTAT employment for country 'HKG'.*Hong Kong and mainland China are not"),
    ({"country": " "}, "ISO 3166 alpha-3"),
    ({"country": "DEU", "sex": "W"}, "sex must be one of T, M, F"),
    ({"country": "DEU", "sex": "F"}, "no employment of sex 'F' .* for Germany: the table holds T only .*shipped"),
    ({"country": "DEU", "year": 1999}, "no total employment for Germany in 1999: years 2014, 2015"),
])
def test_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ilostat_employment(**kwargs)


def test_missing_columns_named():
    with pytest.raises(ValueError, match="has no column 'sex'"):
        ilostat_table(BY_SEX.drop_columns(["sex"]))


def test_workforce_by_sex_weighs_each_sex():
    emp, _ = ilostat_employment("XYZ", source=BY_SEX)
    by_sex = {s: ilostat_employment("XYZ", sex=s, source=BY_SEX)[0] for s in "TMF"}
    r = isco_workforce(OURS, emp, by_sex=by_sex, employment_name="Xland")
    rows = {(x["sex"], x["major_group"]): x for x in r.by_sex.to_pylist()}
    # sub-major groups 25 (0.7, the mean of 2511 and 2512) and 41 (0.7): every sex the same
    assert rows[("F", "all")]["exposure"] == pytest.approx(0.7) and rows[("M", "2")]["workers"] == 3000.0
    assert rows[("T", "all")]["workers"] == 9000.0
    assert "by_sex" in r.tables() and "## By sex" in r.summary() and "Xland" in r.summary()
    assert isco_workforce(OURS, emp).by_sex is None


def test_cli_country(tmp_path, capsys, monkeypatch):
    scores = tmp_path / "isco.csv"
    import pyarrow.csv as pcsv

    pcsv.write_csv(OURS, scores)
    src = tmp_path / "ilostat.csv"
    pcsv.write_csv(BY_SEX, src)
    out = tmp_path / "wf"
    assert main(["workforce", "--taxonomy", "isco08", "--country", "XYZ", "--ilostat", str(src), "--sex", "all",
                 "--scores", str(scores), "-o", str(out), "--no-plots", "-q"]) == 0
    assert "9,000 workers in 2 ISCO-08 sub-major groups" in capsys.readouterr().out
    by_sex = pcsv.read_csv(out / "by_sex.csv")
    assert sorted(set(by_sex["sex"].to_pylist())) == ["F", "M", "T"]
    assert main(["workforce", "--list-countries"]) == 0
    assert "DEU\tGermany\t2014-2018\tT" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--country", "DEU"], "--country take(s) --taxonomy isco08"),
    (["--taxonomy", "isco08"], "or --country CODE, one of them"),
    (["--taxonomy", "isco08", "--employment", "e.csv", "--sex", "F"], "give --country"),
    (["--taxonomy", "isco08", "--country", "Atlantis"], "no ILOSTAT employment for country 'Atlantis'"),
])
def test_cli_country_errors(tmp_path, capsys, argv, message):
    assert main(["workforce", "-o", str(tmp_path / "x"), *argv]) == 2
    assert message in capsys.readouterr().err
