"""Generate synthetic job postings for speed benchmarks: id, title, description.

Two styles (``--style``):

``realistic`` (the default) aims at the statistics of real job-board postings:
about 50-60 units each (a unit is a bullet line or sentence as
``exposure.postings.segment`` cuts it), about a quarter of them duties, and a
unit cache hit rate of about 25-40 % over 100,000 postings (see
``benchmarks/corpus_stats.py`` and ``benchmarks/results/corpus.md``). The
occupation of a posting is drawn in proportion to its BLS annual openings
(2022-32); its duties come from the O*NET 29.1 task statements of that
occupation (all 18,796 can occur) and their Detailed Work Activities,
rewritten by paraphrase templates ("You will ...", "Responsible for
...ing", third person, gerunds, "Assist with ...", a lower-cased first word
after a lead-in, a clause cut or added, two tasks joined, several duties in
one prose sentence), so that the same task rarely appears twice word for
word. Titles are O*NET 29.1 titles (occupation, short, reported and alternate
titles) with seniority, level, shift, type and location variants. The rest is
boilerplate from 25,000 employers (a few post much of the volume), each with
its own blurb, benefits, legal text, application lines, headers and house
format (HTML, bullets, dashes, markdown, Indeed-style metadata blocks, prose
paragraphs), built at the sentence level from template pools with names,
numbers and cities filled in: it repeats across an employer's postings the way
it does on job boards, but not word for word every time. Some postings are
re-posts of an earlier posting of the same employer for another location. It
reads ``Tasks_to_DWAs.txt``, ``DWA_Reference_30_1.txt`` and the BLS
projections from the shared data folder (``$EXPOSURE_DATA``, default
``../shared/data``); without them it warns and uses the task statements only,
with Zipf occupation weights.

``templated`` is the earlier generator, kept unchanged (same output for a seed):
duties are verbatim O*NET 27 task statements of a random occupation (the title
is the occupation's O*NET title, sometimes with a seniority or shift tag); the
rest is boilerplate from 300 employers, each with one fixed blurb, benefits
list, legal paragraph and house format, so that most units repeat word for
word (unit cache hit rates of 80-98 %). Postings run about 2,000-5,000
characters and 40-80 units.

All names are invented; any resemblance to real employers is coincidental.

    python benchmarks/generate_postings.py 200000 -o postings.parquet --seed 0
    python benchmarks/generate_postings.py 200000 -o postings.parquet --seed 0 --style templated

Deterministic given the seed (and, for ``realistic``, the data files), and the
first rows do not depend on N: a run of N postings starts with the rows of any
run with fewer (every random draw for a row is made in row order). Rows are
written in chunks, so memory stays bounded. Formats: .parquet, .csv, .jsonl.
"""

from __future__ import annotations

import argparse
import csv
import functools
import html
import itertools
import json
import os
import random
import re
import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exposure.io import TableWriter  # noqa: E402
from exposure.occupations import load_tasks, load_titles  # noqa: E402

STYLES = ("realistic", "templated")

N_EMPLOYERS = 300
CHUNK = 20_000
SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("description", pa.string())])

_FIRST = ("Summit Ridge Cedar Harbor Northfield Blue Valley Iron Creek Maple Pioneer Granite Silver Lake "
          "Prairie Coastal Redwood Lakeside Meridian Keystone Evergreen Copper Hollow Beacon Riverside Highland "
          "Frontier Union Stonegate Willow Crescent Oakmont Bayview Clearwater").split()
_SECOND = ("Health Logistics Systems Foods Manufacturing Partners Services Builders Financial Solutions Labs "
           "Energy Retail Hospitality Analytics Medical Transport Industries Learning Technologies").split()
_SUFFIX = ("Inc.", "LLC", "Group", "Co.", "Corporation", "Holdings", "", "", "")
_CITIES = ("Columbus, OH", "Austin, TX", "Denver, CO", "Raleigh, NC", "Phoenix, AZ", "Portland, OR", "Tampa, FL",
           "Omaha, NE", "Nashville, TN", "Boise, ID", "Madison, WI", "Richmond, VA", "Tulsa, OK", "Fresno, CA",
           "Albany, NY", "Spokane, WA", "Louisville, KY", "Des Moines, IA", "Reno, NV", "Charleston, SC")
_INDUSTRIES = ("healthcare", "logistics", "manufacturing", "financial services", "software", "retail",
               "construction", "hospitality", "education", "energy", "food production", "transportation")
_BLURB = (
    "{name} is a leading {industry} company headquartered in {city}.",
    "Founded in {year}, we have grown to more than {staff:,} employees across {sites} locations.",
    "Our mission is to deliver dependable {industry} solutions to the communities we serve.",
    "We are proud to be recognized as a Top Workplace for {awards} years running.",
    "Our teams combine decades of experience with modern tools and a commitment to safety and quality.",
    "Customers in {states} states rely on us every day.",
    "We are family-owned and community-focused, and we invest in the people who make our work possible.",
    "At {name}, we believe great work starts with great people.",
    "We value integrity, teamwork and continuous improvement in everything we do.",
    "Our culture is built on respect, collaboration and opportunities to grow.",
)
_BENEFITS = (
    "Medical, dental and vision insurance", "401(k) retirement plan with company match",
    "Paid time off and paid holidays", "Life and disability insurance", "Employee assistance program",
    "Tuition reimbursement", "Paid training and certification", "Health savings account with employer contribution",
    "Flexible spending accounts", "Employee discounts", "Paid parental leave", "Wellness program",
    "Referral bonuses", "Opportunities for advancement", "Uniforms provided", "Weekly pay",
    "Company-paid short-term disability", "Annual performance bonus", "Profit sharing", "Free parking",
    "Commuter benefits", "Sign-on bonus for eligible candidates", "Overtime opportunities",
    "Pet insurance", "Free onsite fitness center", "Paid volunteer time",
)
_LEGAL = (
    "{name} is an equal opportunity employer. All qualified applicants will receive consideration for employment "
    "without regard to race, color, religion, sex, sexual orientation, gender identity, national origin, disability "
    "or protected veteran status.",
    "We participate in E-Verify to confirm the employment eligibility of all newly hired employees.",
    "Offers of employment are contingent upon successful completion of a background check and drug screen.",
    "If you need a reasonable accommodation during the application process, please contact our Human Resources team.",
    "We are unable to sponsor or take over sponsorship of employment visas for this position.",
    "{name} is a drug-free workplace.",
    "This job description is not intended to be an exhaustive list of all duties and responsibilities; "
    "management may assign other duties as needed.",
    "Employment with {name} is at will.",
    "We will consider qualified applicants with criminal histories in accordance with applicable law.",
    "{name} will never ask candidates for payment or bank details during the hiring process.",
)
_APPLY = (
    "To apply, submit your resume through our careers page.",
    "Click Apply to complete a short online application.",
    "Qualified candidates will be contacted for an interview.",
    "Please include a cover letter with your application.",
    "Questions? Contact our recruiting team at careers@{domain}.example.",
    "Applications are reviewed on a rolling basis until the position is filled.",
)
_REQUIREMENTS = (
    "{years}+ years of experience as a {title_lower} or in a related role",
    "High school diploma or GED required",
    "Bachelor's degree in a related field preferred",
    "Strong communication and teamwork skills",
    "Ability to work independently and manage time effectively",
    "Attention to detail and commitment to quality",
    "Valid driver's license and reliable transportation",
    "Ability to lift up to {lift} pounds",
    "Proficiency with Microsoft Office and basic computer skills",
    "Relevant state license or certification, or the ability to obtain one within {days} days",
    "Availability to work evenings, weekends or overtime as needed",
    "Knowledge of safety regulations and best practices",
    "Excellent customer service skills",
    "Bilingual in English and Spanish is a plus",
    "Experience with industry-standard tools and software",
)
_HEADERS = (
    {"company": "About Us", "duties": "Responsibilities", "req": "Qualifications", "benefits": "Benefits",
     "legal": "Equal Opportunity Employer", "apply": "How to Apply"},
    {"company": "Who We Are", "duties": "What You'll Do", "req": "What You'll Bring", "benefits": "What We Offer",
     "legal": "Legal Notice", "apply": "Next Steps"},
    {"company": "Company Overview", "duties": "Essential Duties and Responsibilities",
     "req": "Minimum Requirements", "benefits": "Compensation and Benefits", "legal": "EEO Statement",
     "apply": "Application Instructions"},
    {"company": "Our Story", "duties": "Key Responsibilities", "req": "Skills and Experience",
     "benefits": "Perks", "legal": "Disclaimer", "apply": "Ready to Apply?"},
)
_STYLES = ("html", "bullets", "dashes", "markdown", "prose")
_TAGS = ("", "", "", "Senior ", "Lead ", "Entry-Level ")
_SUFFIXES = ("", "", "", " - Day Shift", " - Night Shift", " (Full-Time)", " (Part-Time)", " - Remote", " I", " II")


def _employer(rng: random.Random, i: int) -> dict:
    name = " ".join(x for x in (rng.choice(_FIRST), rng.choice(_SECOND), rng.choice(_SUFFIX)) if x)
    fill = {"name": name, "industry": rng.choice(_INDUSTRIES), "city": rng.choice(_CITIES),
            "year": rng.randint(1920, 2018), "staff": rng.randint(40, 40_000), "sites": rng.randint(2, 300),
            "awards": rng.randint(2, 12), "states": rng.randint(3, 50),
            "domain": name.split()[0].lower() + str(i)}
    blurb = [_BLURB[0].format(**fill)] + [s.format(**fill) for s in rng.sample(_BLURB[1:], rng.randint(3, 5))]
    legal = [_LEGAL[0].format(**fill)] + [s.format(**fill) for s in rng.sample(_LEGAL[1:], rng.randint(2, 5))]
    return {"name": name, "city": fill["city"], "blurb": blurb, "legal": legal,
            "benefits": rng.sample(_BENEFITS, rng.randint(6, 10)),
            "apply": [s.format(**fill) for s in rng.sample(_APPLY, rng.randint(1, 3))],
            "headers": rng.choice(_HEADERS), "style": rng.choice(_STYLES)}


def _block(style: str, header: str, items: List[str], as_list: bool) -> str:
    """One section in the employer's house format."""
    if style == "html":
        body = ("<ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>") if as_list else \
            "<p>" + " ".join(items) + "</p>"
        return f"<h3>{header}</h3>{body}"
    if style == "markdown":
        body = "\n".join(f"* {x}" for x in items) if as_list else " ".join(items)
        return f"**{header}**\n{body}"
    if style == "prose" and as_list:
        return f"{header}:\n" + " ".join(x if x.endswith(".") else x + "." for x in items)
    marker = "\u2022 " if style == "bullets" else "- "
    body = "\n".join(marker + x for x in items) if as_list else " ".join(items)
    return f"{header}\n{body}"


def _job_title(onet_title: str) -> str:
    """ "Secretaries and Administrative Assistants, Except Legal" -> "Secretary" (O*NET titles are plural)."""
    head = onet_title.split(",")[0].strip()
    first = head.split(" and ")[0]
    if first != head and first.endswith("s"):  # "Secretaries and ..." but not "Mental Health and ..."
        head = first
    words = head.split()
    last = words[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join(words[:-1] + [last])


def _posting(rng: random.Random, employer: dict, occupation: tuple) -> tuple:
    title_base, tasks = occupation
    title = f"{rng.choice(_TAGS)}{title_base}{rng.choice(_SUFFIXES)}"
    h, style = employer["headers"], employer["style"]
    duties = rng.sample(tasks, min(len(tasks), rng.randint(8, 16)))
    fill = {"years": rng.randint(1, 8), "title_lower": title_base.lower(), "lift": rng.choice((25, 40, 50, 75)),
            "days": rng.choice((30, 60, 90))}
    reqs = [r.format(**fill) for r in rng.sample(_REQUIREMENTS, rng.randint(5, 9))]
    low = rng.randint(15, 60)
    pay = (f"Pay: ${low}.00 - ${low + rng.randint(3, 15)}.00 per hour" if rng.random() < 0.6
           else f"Salary range: ${low * 2:,}000 - ${low * 2 + rng.randint(8, 30):,}000 per year")
    meta = [f"Location: {employer['city']}", f"Job Type: {rng.choice(('Full-time', 'Part-time', 'Contract'))}"]
    article = "an" if title_base[:1].upper() in "AEIOU" else "a"
    intro = f"{employer['name']} is hiring {article} {title_base} to join our team in {employer['city'].split(',')[0]}."
    parts = [
        title if style != "html" else f"<h2>{title}</h2>",
        "\n".join(meta) if style != "html" else "<p>" + "<br>".join(meta) + "</p>",
        _block(style, h["company"], employer["blurb"], as_list=False),
        intro if style != "html" else f"<p>{intro}</p>",
        _block(style, h["duties"], duties, as_list=True),
        _block(style, h["req"], reqs, as_list=True),
        _block(style, h["benefits"], [pay] + employer["benefits"], as_list=True),
        _block(style, h["legal"], employer["legal"], as_list=False),
        _block(style, h["apply"], employer["apply"], as_list=False),
    ]
    return title, ("\n" if style == "html" else "\n\n").join(parts), duties


# =========================================================================== realistic style

N_EMPLOYERS_REALISTIC = 25_000
EMPLOYER_CACHE = 4_096  # employers kept built (memory); the others are rebuilt, identically, from their seed
REPOST_SHARE = 0.05  # share of postings that re-post one of the employer's recent postings elsewhere
VERBATIM_SHARE = 0.35  # share of "plain" duties written exactly as O*NET words them
SYNONYM_SHARE = 0.5  # share of the other duties with some words swapped for synonyms
FOCUS_SHARE = 0.5  # share of an employer's postings for one of its usual occupations


def data_dir() -> Path:
    """The shared data folder: ``$EXPOSURE_DATA``, else ``../shared/data`` beside the repository."""
    return Path(os.environ.get("EXPOSURE_DATA", ROOT.parent / "shared" / "data"))


# --------------------------------------------------------------------------- verb forms

_ING_IRREGULAR = {"be": "being", "see": "seeing", "lie": "lying", "tie": "tying", "die": "dying", "dye": "dyeing",
                  "hoe": "hoeing", "shoe": "shoeing", "age": "aging", "singe": "singeing", "eye": "eyeing"}
_S_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes", "radio": "radios", "video": "videos",
                "veto": "vetoes"}
_DOUBLE = frozenset("admit refer transfer control patrol submit permit equip commit confer defer prefer format "
                    "program remit compel dispel expel propel excel outfit unclog unplug regret occur recur incur "
                    "deter omit emit transmit acquit begin upset reset preset offset input retrofit typeset rewrap "
                    "unwrap unclip unpin refit rebut".split())
_CVC = re.compile(r"[^aeiouy]*[aeiou][^aeiouwxy]")


def _ing(verb: str) -> str:
    """ "prepare" -> "preparing", "plan" -> "planning", "tie" -> "tying" (lower-case input)."""
    if "-" in verb:
        head, _, last = verb.rpartition("-")
        return f"{head}-{_ing(last)}"
    if verb in _ING_IRREGULAR:
        return _ING_IRREGULAR[verb]
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and len(verb) > 2 and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    if verb in _DOUBLE or _CVC.fullmatch(verb):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _third(verb: str) -> str:
    """ "prepare" -> "prepares", "apply" -> "applies", "wash" -> "washes" (lower-case input)."""
    if "-" in verb:
        head, _, last = verb.rpartition("-")
        return f"{head}-{_third(last)}"
    if verb in _S_IRREGULAR:
        return _S_IRREGULAR[verb]
    if len(verb) > 1 and verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def _lower_first(text: str) -> str:
    """Lower-case the first word unless it is an acronym or a name-like token ("CAD", "iPhone")."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and not first[1:].replace("-", "").replace(",", "").islower():
        return text
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


# A statement: (original text, its words without the final stop, positions of its leading verbs).
Statement = Tuple[str, Tuple[str, ...], Tuple[int, ...]]


def _parse_statement(text: str, verbs: frozenset) -> Statement:
    """Find the leading verbs of an O*NET statement: "Plan, direct, or coordinate ..." -> positions 0, 1, 3."""
    base = text.strip()
    if base.endswith("."):
        base = base[:-1]
    words = tuple(base.split(" "))
    start = 1 if len(words) > 2 and words[0].lower().endswith("ly") else 0  # "Manually load ..."
    if words[start].rstrip(",").lower() not in verbs:
        return text, words, ()
    heads = [start]
    pending_comma = words[start].endswith(",")
    j = start + 1
    while j < len(words):
        conj = words[j] in ("or", "and", "and/or")
        k = j + 1 if conj else j
        if k >= len(words):
            break
        core = words[k].rstrip(",")
        if (conj or pending_comma) and core.islower() and core.replace("-", "").isalpha() and core in verbs:
            heads.append(k)
            pending_comma = words[k].endswith(",")
            j = k + 1
        else:
            break
    return text, words, tuple(heads)


def _phrase(stmt: Statement, form: str) -> str:
    """A statement without its final stop, its leading verbs in ``form``.

    ``base`` ("Prepare budgets"), ``lower`` ("prepare budgets"), ``ing`` ("preparing budgets"),
    ``Ing`` ("Preparing budgets"), ``s`` ("prepares budgets"), ``S`` ("Prepares budgets"). A
    statement without a leading verb keeps its words (lower-cased first for ``lower``, ``ing``, ``s``).
    """
    _, words, heads = stmt
    if form == "base" or not heads:
        text = " ".join(words)
        return text if form in ("base", "Ing", "S") else _lower_first(text)
    out = list(words)
    for k in heads:
        tok = out[k]
        core = tok.rstrip(",")
        low = core.lower()
        out[k] = (_ing(low) if form in ("ing", "Ing") else _third(low) if form in ("s", "S") else low) + tok[len(core):]
    if heads[0] != 0:
        out[0] = _lower_first(out[0])
    text = " ".join(out)
    return _upper_first(text) if form in ("Ing", "S") else text


_CUT_RE = re.compile(r", | to | using | such as | including | in order to | according to | by | for | through "
                     r"| within | with ")
_BAD_ENDS = ("and", "or", "the", "a", "an", "of", "as", "in", "to", "on", "at", "all", "any", "such")


def _cut(rng: random.Random, text: str) -> str:
    """Drop a trailing clause: "Confer with board members, officials, or staff to discuss issues" ->
    "Confer with board members"."""
    cands = []
    for m in _CUT_RE.finditer(text):
        head = text[:m.start()]
        words = head.split()
        if len(words) >= 4 and words[-1].lower() not in _BAD_ENDS:
            cands.append(m.start())
            if len(cands) == 3:
                break
    if not cands:
        return text
    return text[:rng.choice(cands)].rstrip(" ,;:")


# Synonyms for frequent words of task statements: a rewritten duty swaps some of them.
_SYNONYMS = {
    "equipment": ("machinery", "tools and equipment", "equipment and tools"), "information": ("data", "details"),
    "ensure": ("make sure", "verify", "confirm"), "determine": ("identify", "establish", "decide"),
    "procedures": ("processes", "protocols", "guidelines"), "activities": ("operations", "tasks", "work"),
    "products": ("goods", "items"), "records": ("logs", "files", "documentation"), "reports": ("summaries",),
    "problems": ("issues", "concerns"), "staff": ("team members", "employees", "personnel"),
    "customers": ("clients", "guests", "customers and clients"), "clients": ("customers", "clients and families"),
    "requirements": ("needs", "specifications"), "personnel": ("staff", "employees", "team members"),
    "workers": ("staff", "employees", "crew members"), "employees": ("staff", "team members", "associates"),
    "methods": ("techniques", "approaches"), "policies": ("guidelines", "rules"),
    "regulations": ("rules", "requirements", "codes"), "supplies": ("materials", "stock"),
    "necessary": ("needed", "required"), "appropriate": ("proper", "suitable", "relevant"),
    "issues": ("problems", "concerns"), "devices": ("equipment", "instruments"), "results": ("findings", "outcomes"),
    "items": ("products", "goods"), "orders": ("requests",), "projects": ("assignments", "initiatives"),
    "patients": ("clients", "residents", "patients and families"), "students": ("learners", "pupils"),
    "documents": ("paperwork", "files"), "instructions": ("directions", "guidance"), "meetings": ("sessions",),
    "schedules": ("timelines", "calendars"), "assist": ("help", "support"), "improve": ("enhance", "strengthen"),
    "verify": ("confirm", "check"), "obtain": ("get", "secure", "gather"), "proper": ("correct", "appropriate"),
    "specified": ("required", "designated"), "needed": ("necessary", "required"), "various": ("different", "multiple"),
    "facilities": ("sites", "buildings"), "tools": ("equipment", "hand tools"), "machines": ("machinery", "equipment"),
    "organization": ("company", "business"), "organizations": ("companies", "businesses"),
    "conduct": ("perform", "carry out"), "perform": ("carry out", "complete", "conduct"),
    "prepare": ("create", "draft"),
    "review": ("check", "examine"), "provide": ("give", "offer", "deliver"), "develop": ("create", "design", "build"),
}
# Leading verbs only (as nouns or adjectives elsewhere they would not fit), and one word each: they are inflected.
_HEAD_SYNONYMS = {k: tuple(x for x in v if " " not in x) for k, v in _SYNONYMS.items()}
_HEAD_SYNONYMS.update({
    "inspect": ("check", "examine"), "examine": ("inspect", "check"), "evaluate": ("assess", "review"),
    "analyze": ("assess", "evaluate", "study"), "coordinate": ("organize", "manage"), "direct": ("lead", "manage"),
    "supervise": ("oversee", "manage"), "confer": ("consult", "meet"), "collaborate": ("partner", "work"),
    "operate": ("run", "use"), "clean": ("sanitize", "wash"), "record": ("log", "document"),
    "collect": ("gather", "obtain"), "identify": ("find", "recognize"), "establish": ("create", "build"),
    "recommend": ("suggest", "propose"), "explain": ("describe", "clarify"), "instruct": ("teach", "train"),
    "advise": ("counsel", "guide"), "compile": ("gather", "assemble"), "select": ("choose", "pick"),
    "measure": ("gauge", "check"), "install": ("fit", "mount"), "repair": ("fix", "service"),
    "purchase": ("buy", "order"), "schedule": ("plan", "book"), "greet": ("welcome", "meet"),
})


def _vary(p: random.Random, stmt: Statement, share: float = 0.5) -> Statement:
    """Swap some frequent words of a statement for synonyms (each with probability ``share``)."""
    text, words, heads = stmt
    out = list(words)
    changed = False
    for k, tok in enumerate(words):
        core = tok.rstrip(",.;:")
        low = core.lower()
        options = (_HEAD_SYNONYMS if k in heads else _SYNONYMS).get(low)
        if options and p.random() < share:
            new = p.choice(options)
            out[k] = (_upper_first(new) if core[:1].isupper() else new) + tok[len(core):]
            changed = True
    return (text, tuple(out), heads) if changed else stmt


_ADDED = (
    " as needed", " as required", " as directed", " in a timely manner", " on a daily basis", " on a regular basis",
    " in accordance with company policies and procedures", " in accordance with established procedures",
    " following all safety guidelines", " while maintaining a safe work environment", " under general supervision",
    " with minimal supervision", " with accuracy and attention to detail", " to meet deadlines",
    " in a fast-paced environment", " according to department standards", " as assigned by the supervisor",
    " and report any issues to management", " and document results", " to ensure quality and compliance",
    " in collaboration with other team members", " for assigned accounts", " across multiple sites",
    " to support operational goals", " in compliance with federal, state and local regulations",
    " and escalate concerns as appropriate", " using company systems", " throughout the shift",
)
_TEAMS = ("the team", "managers", "supervisors", "colleagues", "other departments", "cross-functional teams",
          "clients", "leadership", "coworkers", "the operations team", "internal stakeholders")
_ASSIST = (("ing", "Assist with {}"), ("ing", "Assist in {}"), ("lower", "Help {}"), ("ing", "Support the team in {}"),
           ("lower", "Assist the team to {}"), ("ing", "Provide support in {}"), ("lower", "Work with {team} to {}"),
           ("lower", "Partner with {team} to {}"), ("lower", "Be ready to {}"), ("lower", "Learn to {}"))
# Duty templates: the form of the leading verbs, then the pattern ({} the phrase).
DUTY_TEMPLATES = {
    "plain": ("base", "{}"),
    "you_will": ("lower", "You will {}"),
    "youll": ("lower", "You'll {}"),
    "will": ("lower", "Will {}"),
    "responsible": ("ing", "Responsible for {}"),
    "be_responsible": ("ing", "Be responsible for {}"),
    "gerund": ("Ing", "{}"),
    "third": ("S", "{}"),
    "lower": ("lower", "{}"),
    "ability": ("lower", "Able to {}"),
    "expected": ("lower", "Expected to {}"),
    "duties_include": ("ing", "Duties include {}"),
    "assist": None,  # one of _ASSIST
}
# How often each template is a house style (an employer's usual form) and how often it is drawn at random.
_PRIMARY = (("plain", 42), ("third", 15), ("gerund", 11), ("you_will", 9), ("responsible", 8), ("lower", 5),
            ("youll", 3), ("will", 3), ("be_responsible", 2), ("expected", 2))
_SECONDARY = (("plain", 20), ("third", 8), ("gerund", 10), ("you_will", 8), ("responsible", 10), ("assist", 14),
              ("youll", 5), ("will", 4), ("be_responsible", 4), ("ability", 4), ("expected", 3),
              ("duties_include", 3), ("lower", 3))
_GENERIC_DUTIES = (
    "Perform other duties as assigned", "Other duties as assigned", "Perform other related duties as assigned",
    "Performs other duties as assigned by management", "Other duties and responsibilities as assigned",
    "Perform additional duties as needed", "Complete other tasks as assigned by your supervisor",
    "All other duties as assigned", "Performs other related duties as required", "Other projects as assigned",
    "Maintain a clean, safe and organized work area", "Follow all company safety policies and procedures",
    "Provide excellent customer service at all times", "Communicate effectively with team members and supervisors",
    "Maintain confidentiality of sensitive information", "Comply with all company policies and procedures",
    "Attend required trainings and staff meetings", "Report safety hazards and incidents to your supervisor",
    "Keep accurate records and complete required paperwork", "Adhere to all health and safety regulations",
    "Support continuous improvement initiatives", "Maintain a positive and professional attitude",
    "Work collaboratively with other departments", "Train and mentor new team members as needed",
    "Respond promptly to questions and requests from customers and coworkers",
    "Maintain regular and punctual attendance", "Uphold the company's values and standards of conduct",
)
_LEADINS = ("In this role, you will:", "The successful candidate will:", "Duties include, but are not limited to:",
            "Responsibilities include:", "You will:", "Your day-to-day will include:", "Key duties:",
            "As a member of our team, you will:", "What you'll be doing:", "The ideal candidate will:")
_PROSE_LEADS = (("lower", "You will {}."), ("lower", "You will also {}."), ("lower", "In this role, you will {}."),
                ("lower", "Additionally, you will {}."), ("base", "{}."), ("ing", "Other responsibilities include {}."),
                ("lower", "The {title} will {}."), ("lower", "Each day you will {}."), ("S", "{}."),
                ("lower", "You'll {}."), ("ing", "Your work will include {}."),
                ("lower", "We will count on you to {}."))

# --------------------------------------------------------------------------- boilerplate pools

_R_FIRST = ("Summit Ridge Cedar Harbor Northfield Blue Valley Iron Creek Maple Pioneer Granite Silver Lake Prairie "
            "Coastal Redwood Lakeside Meridian Keystone Evergreen Copper Hollow Beacon Riverside Highland Frontier "
            "Union Stonegate Willow Crescent Oakmont Bayview Clearwater Aspen Atlas Bright Canyon Cardinal Cascade "
            "Centennial Champion Compass Crown Delta Eagle Elm Falcon First Forest Foundry Fox Gateway Golden Great "
            "Green Hamilton Harbor Heritage Horizon Journey Juniper Kingston Landmark Legacy Liberty Lincoln Lone "
            "Magnolia Mesa Midland Mission Monarch Mountain North Northstar Oak Orchard Pacific Palmetto Patriot "
            "Peak Pine Pinnacle Quarry Rainier Raven Red Rock Sage Sequoia Sierra Solstice Spring Star Sterling "
            "Sunrise Tall Timber Trinity True Valley Vantage Vista West Wildflower Windward").split()
_R_SECOND = ("Health Logistics Systems Foods Manufacturing Partners Services Builders Financial Solutions Labs Energy "
             "Retail Hospitality Analytics Medical Transport Industries Learning Technologies Care Dental Clinic "
             "Freight Markets Brands Supply Home Living Senior Pharmacy Restaurants Hotels Construction Electric "
             "Plumbing Insurance Bank Credit Capital Software Networks Media Design Engineering Consulting Staffing "
             "Academy Schools Therapy Rehab Veterinary Auto Motors Aviation Metals Plastics Packaging Farms").split()
_R_SUFFIX = ("Inc.", "LLC", "Group", "Co.", "Corporation", "Holdings", "Company", "Partners", "", "", "", "", "")
_R_CITIES = (
    "Columbus, OH", "Austin, TX", "Denver, CO", "Raleigh, NC", "Phoenix, AZ", "Portland, OR", "Tampa, FL", "Omaha, NE",
    "Nashville, TN", "Boise, ID", "Madison, WI", "Richmond, VA", "Tulsa, OK", "Fresno, CA", "Albany, NY",
    "Spokane, WA", "Louisville, KY", "Des Moines, IA", "Reno, NV", "Charleston, SC", "Atlanta, GA", "Houston, TX",
    "Dallas, TX", "San Antonio, TX", "El Paso, TX", "Fort Worth, TX", "Chicago, IL", "Springfield, IL",
    "Peoria, IL", "Indianapolis, IN", "Fort Wayne, IN", "Detroit, MI", "Grand Rapids, MI", "Lansing, MI",
    "Cleveland, OH", "Cincinnati, OH", "Toledo, OH", "Dayton, OH", "Pittsburgh, PA", "Philadelphia, PA",
    "Allentown, PA", "Harrisburg, PA", "Newark, NJ", "Trenton, NJ", "Baltimore, MD", "Rockville, MD",
    "Wilmington, DE", "Hartford, CT", "Providence, RI", "Boston, MA", "Worcester, MA", "Manchester, NH",
    "Burlington, VT", "Portland, ME", "Buffalo, NY", "Rochester, NY", "Syracuse, NY", "Charlotte, NC",
    "Greensboro, NC", "Durham, NC", "Columbia, SC", "Greenville, SC", "Savannah, GA", "Augusta, GA",
    "Jacksonville, FL", "Orlando, FL", "Miami, FL", "Tallahassee, FL", "Pensacola, FL", "Birmingham, AL",
    "Huntsville, AL", "Mobile, AL", "Jackson, MS", "Memphis, TN", "Knoxville, TN", "Chattanooga, TN",
    "Lexington, KY", "Little Rock, AR", "Shreveport, LA", "Baton Rouge, LA", "New Orleans, LA", "Oklahoma City, OK",
    "Wichita, KS", "Kansas City, MO", "St. Louis, MO", "Springfield, MO", "Lincoln, NE", "Sioux Falls, SD",
    "Fargo, ND", "Minneapolis, MN", "Rochester, MN", "Duluth, MN", "Milwaukee, WI", "Green Bay, WI",
    "Cedar Rapids, IA", "Billings, MT", "Cheyenne, WY", "Salt Lake City, UT", "Provo, UT", "Albuquerque, NM",
    "Las Cruces, NM", "Tucson, AZ", "Mesa, AZ", "Las Vegas, NV", "Sacramento, CA", "San Diego, CA",
    "Bakersfield, CA", "Riverside, CA", "Stockton, CA", "San Jose, CA", "Oakland, CA", "Los Angeles, CA",
    "Long Beach, CA", "Seattle, WA", "Tacoma, WA", "Vancouver, WA", "Eugene, OR", "Salem, OR", "Anchorage, AK",
    "Honolulu, HI", "Colorado Springs, CO", "Fort Collins, CO", "Aurora, CO", "Arlington, VA", "Norfolk, VA",
    "Roanoke, VA", "Charleston, WV", "Morgantown, WV", "Akron, OH", "Erie, PA", "Scranton, PA", "Evansville, IN",
    "South Bend, IN", "Ann Arbor, MI", "Flint, MI", "Corpus Christi, TX", "Lubbock, TX", "Amarillo, TX",
    "Laredo, TX", "McAllen, TX", "Plano, TX", "Irvine, CA", "Modesto, CA", "Santa Rosa, CA", "Boulder, CO",
)
_R_INDUSTRIES = ("healthcare", "logistics", "manufacturing", "financial services", "software", "retail",
                 "construction", "hospitality", "education", "energy", "food production", "transportation",
                 "senior living", "home health", "insurance", "banking", "property management", "automotive",
                 "aerospace", "pharmaceutical", "telecommunications", "facilities services", "staffing",
                 "behavioral health", "veterinary care", "restaurant", "grocery", "utilities", "engineering",
                 "nonprofit", "public sector", "wholesale distribution", "environmental services", "security services")
_VALUES = ("integrity", "teamwork", "respect", "innovation", "excellence", "accountability", "compassion", "safety",
           "quality", "service", "collaboration", "diversity", "trust", "curiosity", "ownership", "community")
_R_BLURB = (
    "{name} is a leading {industry} company headquartered in {city}.",
    "{name} is a {adj} {industry} provider based in {city}.",
    "Headquartered in {city}, {name} serves customers in {states} states.",
    "Founded in {year}, we have grown to more than {staff:,} employees across {sites} locations.",
    "Since {year}, {name} has been committed to delivering outstanding {industry} services.",
    "For more than {age} years, {name} has helped {customers} {verb_serve} their goals.",
    "Our mission is to deliver dependable {industry} solutions to the communities we serve.",
    "Our mission is simple: to make {industry} better for everyone we serve.",
    "We are proud to be recognized as a Top Workplace for {awards} years running.",
    "We were named one of the best places to work in {state_name} in {award_year}.",
    "Our teams combine decades of experience with modern tools and a commitment to {value1} and {value2}.",
    "Customers in {states} states rely on us every day.",
    "We are family-owned and community-focused, and we invest in the people who make our work possible.",
    "At {name}, we believe great work starts with great people.",
    "At {short}, our people are our greatest asset.",
    "We value {value1}, {value2} and {value3} in everything we do.",
    "Our culture is built on {value1}, {value2} and opportunities to grow.",
    "We serve more than {clients:,} {customers} each year.",
    "With {sites} locations and more than {staff:,} team members, we are one of the fastest-growing {industry} "
    "companies in the region.",
    "We are an employee-owned company, which means every team member shares in our success.",
    "{name} is a certified Great Place to Work.",
    "Our {staff:,} employees share a passion for {value1} and a commitment to our {customers}.",
    "We offer a supportive environment where you can build a long-term career.",
    "Join a team that values your ideas and rewards your hard work.",
    "As a {size} organization, we combine the resources of a large company with the feel of a small one.",
    "We are a mission-driven organization dedicated to improving the lives of the people we serve.",
    "Our company has been a trusted partner to {customers} across the {region} for over {age} years.",
    "We are growing and looking for talented people to join us.",
    "{name} operates {sites} facilities across the {region}.",
    "We are a subsidiary of {parent}, a global leader in {industry}.",
    "Our work touches the lives of millions of people every day.",
    "We take pride in {value1}, and it shows in the work we do.",
    "We are committed to sustainability and to reducing our environmental footprint.",
    "Our leadership team has more than {age} years of combined experience in {industry}.",
    "We are an award-winning {industry} organization known for {value1} and {value2}.",
    "Every day, our team works to exceed the expectations of our {customers}.",
    "We believe in promoting from within, and many of our leaders started in entry-level roles.",
    "{name} is proud to be locally owned and operated.",
)
_ADJ = ("growing", "leading", "trusted", "regional", "national", "innovative", "award-winning", "family-owned",
        "fast-growing", "community-based", "independent", "nationally recognized")
_CUSTOMERS = ("customers", "clients", "patients", "residents", "families", "businesses", "partners", "members",
              "students", "communities", "guests", "homeowners")
_VERB_SERVE = ("reach", "achieve", "exceed", "meet")
_REGIONS = ("Southeast", "Midwest", "Northeast", "Southwest", "West Coast", "Mountain West", "Gulf Coast",
            "Mid-Atlantic", "Pacific Northwest", "Great Lakes region", "United States")
_SIZES = ("mid-sized", "growing", "national", "regional", "large")
_STATE_NAMES = ("Ohio", "Texas", "Colorado", "North Carolina", "Arizona", "Oregon", "Florida", "Nebraska",
                "Tennessee", "Idaho", "Wisconsin", "Virginia", "Oklahoma", "California", "New York", "Washington",
                "Kentucky", "Iowa", "Nevada", "South Carolina", "Georgia", "Michigan", "Pennsylvania", "Minnesota")
_PARENTS = ("Apex Global", "Northbridge International", "Consolidated Holdings", "Trident Group", "Vanguard Partners",
            "Omni Services Group", "Allied Enterprises", "United Brands", "Continental Industries")
# Benefits, long form (with figures) and Indeed's short vocabulary.
_R_BENEFITS = (
    "Medical, dental and vision insurance", "Medical, dental and vision coverage starting on day {day1}",
    "Comprehensive health benefits effective the first of the month after {days_wait} days",
    "401(k) retirement plan with company match", "401(k) with a {pct}% company match",
    "401(k) with {pct}% match, fully vested after {vest} years", "Paid time off and paid holidays",
    "{pto} days of paid time off plus {holidays} paid holidays", "Generous PTO that grows with your tenure",
    "{holidays} paid holidays per year", "Life and disability insurance", "Company-paid life insurance",
    "Short- and long-term disability insurance", "Employee assistance program", "Tuition reimbursement",
    "Tuition reimbursement up to ${tuition:,} per year", "Paid training and certification",
    "Health savings account with employer contribution", "HSA with up to ${hsa:,} employer contribution",
    "Flexible spending accounts", "Employee discounts", "Employee discount of {disc}%", "Paid parental leave",
    "{parental} weeks of paid parental leave", "Wellness program", "Referral bonuses",
    "Referral bonus of ${referral:,}", "Opportunities for advancement", "Career growth and promotion from within",
    "Uniforms provided", "Weekly pay", "Daily pay available", "Biweekly pay with direct deposit",
    "Annual performance bonus", "Quarterly bonus program", "Profit sharing", "Free parking", "Commuter benefits",
    "Sign-on bonus for eligible candidates", "${signon:,} sign-on bonus", "Overtime opportunities",
    "Pet insurance", "Free onsite fitness center", "Paid volunteer time", "Employee stock purchase plan",
    "Mileage reimbursement", "Cell phone stipend", "Remote work flexibility", "Hybrid work schedule",
    "Free meals during shifts", "Shift differentials for evenings and weekends", "Continuing education allowance",
    "Paid sick leave", "Birthday off with pay", "Dependent care FSA", "Adoption assistance", "Student loan assistance",
    "Legal and identity theft protection", "Company vehicle for business use", "Tool allowance",
    "Annual cost-of-living increases", "Employee recognition programs", "Paid lunch breaks",
)
_INDEED_BENEFITS = ("401(k)", "401(k) matching", "Dental insurance", "Health insurance", "Vision insurance",
                    "Paid time off", "Life insurance", "Employee discount", "Flexible schedule", "Referral program",
                    "Retirement plan", "Tuition reimbursement", "Disability insurance", "Health savings account",
                    "Paid training", "Professional development assistance", "Employee assistance program",
                    "Flexible spending account", "Parental leave", "Opportunities for advancement", "Paid sick time",
                    "Uniform allowance", "Mileage reimbursement", "Relocation assistance", "Food provided",
                    "Commuter assistance", "On-the-job training", "Wellness program")
_SCHEDULES = ("8 hour shift", "10 hour shift", "12 hour shift", "Day shift", "Night shift", "Evening shift",
              "Monday to Friday", "Weekends as needed", "Every weekend", "No weekends", "On call", "Overtime",
              "Holidays", "Rotating weekends", "Morning shift", "Afternoon shift", "Overnight shift",
              "Weekend availability", "Choose your own hours", "4x10", "Day shift, Monday to Friday")
_R_LEGAL_EEO = (
    "{name} is an equal opportunity employer. All qualified applicants will receive consideration for employment "
    "without regard to race, color, religion, sex, sexual orientation, gender identity, national origin, disability "
    "or protected veteran status.",
    "{name} is an Equal Opportunity Employer and does not discriminate on the basis of race, color, religion, sex, "
    "age, national origin, disability, veteran status or any other characteristic protected by law.",
    "We are an equal opportunity employer and value diversity at our company.",
    "We do not discriminate on the basis of race, religion, color, national origin, gender, sexual orientation, age, "
    "marital status, veteran status or disability status.",
    "{short} is proud to be an equal opportunity workplace and an affirmative action employer.",
    "{name} provides equal employment opportunities to all employees and applicants for employment.",
    "EOE/AA/M/F/Vets/Disabled.", "EOE, including disability and veterans.",
    "{name} is committed to creating a diverse environment and is proud to be an equal opportunity employer.",
    "All employment decisions are made without regard to any characteristic protected by federal, state or local law.",
)
_R_LEGAL = (
    "We participate in E-Verify to confirm the employment eligibility of all newly hired employees.",
    "{name} participates in E-Verify.",
    "Offers of employment are contingent upon successful completion of a background check and drug screen.",
    "All offers are contingent on a background check.",
    "If you need a reasonable accommodation during the application process, please contact our Human Resources "
    "team.",
    "Applicants who need a reasonable accommodation may contact us at {phone}.",
    "We are unable to sponsor or take over sponsorship of employment visas for this position.",
    "Candidates must be authorized to work in the United States.",
    "{name} is a drug-free workplace.", "We maintain a drug-free and tobacco-free workplace.",
    "This job description is not intended to be an exhaustive list of all duties and responsibilities; "
    "management may assign other duties as needed.",
    "The above statements describe the general nature and level of work being performed.",
    "This description is not intended to be an exhaustive list of all responsibilities, duties and skills required.",
    "Employment with {name} is at will.", "Employment is at will and may be terminated by either party at any time.",
    "We will consider qualified applicants with criminal histories in accordance with applicable law.",
    "Qualified applicants with arrest or conviction records will be considered in accordance with fair chance laws.",
    "{name} will never ask candidates for payment or bank details during the hiring process.",
    "Beware of recruiting scams: we only contact candidates from an @{domain}.example address.",
    "The pay range reflects the minimum and maximum target for new hires; actual pay depends on experience and "
    "location.",
    "Compensation will be determined based on skills, experience and internal equity.",
    "In compliance with pay transparency laws, the expected pay range for this role is listed above.",
    "We are committed to providing a workplace free of harassment and discrimination.",
    "Reasonable accommodations may be made to enable individuals with disabilities to perform the essential "
    "functions.",
    "This position is subject to a pre-employment physical.",
    "Some positions require a motor vehicle record check.",
    "California residents can review our applicant privacy notice on our careers page.",
    "{name} complies with all applicable federal, state and local laws regarding nondiscrimination.",
    "We do not accept unsolicited resumes from recruiters or employment agencies.",
    "Vaccination requirements may apply depending on the work location.",
)
_R_APPLY = (
    "To apply, submit your resume through our careers page.", "Click Apply to complete a short online application.",
    "Qualified candidates will be contacted for an interview.", "Please include a cover letter with your application.",
    "Questions? Contact our recruiting team at careers@{domain}.example.",
    "Applications are reviewed on a rolling basis until the position is filled.",
    "Apply today and a recruiter will contact you within {reply} business days.",
    "Apply online or visit our office at {street} in {city_only}.",
    "Text {keyword} to {short_code} to apply from your phone.",
    "Walk-in interviews are available {weekday}s from 9 to 11 a.m.",
    "Only candidates selected for an interview will be contacted.", "Apply now, we are hiring immediately!",
    "Send your resume to jobs@{domain}.example.", "Call {phone} to schedule an interview.",
    "Interviews are being scheduled now.", "Please apply through our website; we do not accept phone calls.",
    "The application takes less than {minutes} minutes to complete.", "We look forward to hearing from you!",
    "Not the right fit? Visit our careers page to see other openings.",
    "Start your application today.",
)
_R_CLOSING = ("Join our team and make a difference!", "Come grow with us!", "We can't wait to meet you.",
              "Build your career with {short}.", "Your next opportunity starts here.", "Be part of something great.",
              "Apply today and start your career with {short}!", "Make your next move with {short}.",
              "Bring your talent to a team that values you.", "Don't miss this opportunity!",
              "We are an Indeed top-rated employer.", "Now hiring in {city_only} and surrounding areas.")
_R_REQUIREMENTS = (
    "{years}+ years of experience as a {title_lower} or in a related role", "{years}+ years of related experience",
    "At least {years} years of experience in {field}", "Minimum of {years} years of {field} experience",
    "{years}-{years2} years of experience preferred", "Previous {field} experience preferred",
    "High school diploma or GED required", "High school diploma or equivalent",
    "Must have a high school diploma or GED",
    "Bachelor's degree in {major} or a related field", "Bachelor's degree in {major} preferred",
    "Associate degree or equivalent experience", "Master's degree in {major} preferred",
    "Strong communication and teamwork skills", "Excellent verbal and written communication skills",
    "Ability to work independently and manage time effectively", "Strong organizational and time-management skills",
    "Attention to detail and commitment to quality", "Excellent attention to detail",
    "Valid driver's license and reliable transportation",
    "Valid {state_abbr} driver's license with a clean driving record",
    "Ability to lift up to {lift} pounds", "Must be able to lift {lift} lbs. repeatedly",
    "Proficiency with Microsoft Office and basic computer skills", "Proficient in {software}",
    "Experience with {software} preferred", "Working knowledge of {software}",
    "Relevant state license or certification, or the ability to obtain one within {days} days",
    "Current {cert} certification", "{cert} certification preferred",
    "Must obtain {cert} certification within {days} days of hire",
    "Availability to work evenings, weekends or overtime as needed",
    "Flexible schedule, including weekends and holidays",
    "Knowledge of safety regulations and best practices", "Knowledge of OSHA safety standards",
    "Excellent customer service skills", "Customer service experience preferred",
    "Bilingual in English and Spanish is a plus", "Bilingual (English/Spanish) preferred",
    "Experience with industry-standard tools and software", "Strong problem-solving and critical-thinking skills",
    "Ability to multitask in a fast-paced environment", "Must be at least {age_min} years of age",
    "Must pass a background check and drug screen", "Ability to pass a pre-employment background check",
    "Must be able to stand for long periods of time", "Ability to work in a team environment",
    "Basic math skills", "Ability to read and follow written instructions", "Strong work ethic and a positive attitude",
    "Dependable and punctual", "Self-motivated with a willingness to learn",
    "Ability to handle confidential information with discretion",
    "Comfortable working outdoors in all weather conditions",
    "Ability to prioritize multiple tasks and meet deadlines", "Must have reliable transportation",
    "Willingness to travel up to {travel}% of the time", "Leadership or supervisory experience preferred",
)
_DWA_REQUIREMENTS = (("ing", "Experience {}"), ("lower", "Ability to {}"), ("ing", "Proven track record of {}"),
                     ("ing", "Skilled in {}"), ("ing", "Comfortable {}"), ("ing", "Prior experience {} preferred"),
                     ("lower", "Demonstrated ability to {}"), ("ing", "Knowledge of best practices for {}"))
_FIELDS = ("customer service", "retail", "healthcare", "warehouse", "manufacturing", "food service", "sales",
           "administrative", "maintenance", "construction", "logistics", "accounting", "IT", "hospitality",
           "the industry", "a similar role", "a fast-paced environment", "a clinical setting", "a supervisory role")
_MAJORS = ("business", "engineering", "computer science", "nursing", "finance", "accounting", "biology", "education",
           "communications", "marketing", "psychology", "public health", "information technology", "mathematics")
_SOFTWARE = ("Microsoft Office", "Excel", "Salesforce", "SAP", "QuickBooks", "Epic", "AutoCAD", "Python", "SQL",
             "Google Workspace", "Oracle", "Workday", "POS systems", "Microsoft Dynamics", "Cerner", "Tableau",
             "Adobe Creative Suite", "JIRA", "NetSuite", "ServiceNow")
_CERTS = ("CPR", "BLS", "ACLS", "First Aid", "forklift", "OSHA 10", "OSHA 30", "ServSafe", "CDL Class A",
          "CDL Class B", "CNA", "HVAC EPA 608", "ASE", "PMP", "CompTIA A+", "food handler", "Six Sigma Green Belt")
_PHYSICAL = (
    "While performing the duties of this job, the employee is regularly required to stand, walk and use hands.",
    "The employee must occasionally lift and/or move up to {lift} pounds.",
    "This position requires frequent bending, stooping and reaching.",
    "The work environment is generally {env}.", "The noise level in the work environment is usually {noise}.",
    "Must be able to sit or stand for extended periods.", "Work is performed {where}.",
    "Exposure to heat, cold, dust and noise may occur.", "Requires repetitive motion and manual dexterity.",
    "Specific vision abilities required include close vision and the ability to adjust focus.",
    "Personal protective equipment is required in designated areas.",
    "Occasional travel to other company locations may be required.",
)
_ENV = ("an office setting", "a warehouse environment", "a clinical setting", "a fast-paced retail environment",
        "a production floor", "outdoors and indoors", "a commercial kitchen")
_NOISE = ("moderate", "quiet", "loud")
_WHERE = ("indoors in a climate-controlled setting", "primarily outdoors", "in an office setting",
          "at customer sites", "in a manufacturing plant", "in patients' homes")
_INTROS = (
    "{name} is hiring {article} {title} to join our team in {city_only}.",
    "We are seeking {article_adj} {adj2} {title} to join our growing team.",
    "{name} is looking for {article} {title} who is passionate about {value1}.",
    "We are currently hiring {article} {title} for our {city_only} location.",
    "Our {dept} team is looking for {article} {title} to support our {customers}.",
    "Are you {article_adj} {adj2} professional looking for a rewarding career?",
    "This is a great opportunity for {article} {title} who wants to grow with a {adj} company.",
    "The {title} reports to the {boss} and works closely with the {dept} team.",
    "This is a {jobtype} position based in {city_only}.",
    "Our client, a {adj} {industry} company, is seeking {article} {title}.",
    "We are expanding and need {article} {title} to help us serve our {customers}.",
    "If you enjoy {value1} and {value2}, we want to hear from you.",
)
_ADJ2 = ("motivated", "dedicated", "detail-oriented", "experienced", "reliable", "enthusiastic", "skilled",
         "customer-focused", "hardworking", "talented", "driven", "compassionate")
_DEPTS = ("operations", "maintenance", "customer service", "nursing", "finance", "sales", "engineering",
          "production", "logistics", "IT", "administrative", "clinical", "facilities", "quality")
_BOSSES = ("Operations Manager", "Department Manager", "Director of Operations", "Site Supervisor", "General Manager",
           "Nurse Manager", "Shift Supervisor", "Project Manager", "Office Manager", "Team Lead")
_R_HEADERS = {
    "company": ("About Us", "About {short}", "Who We Are", "Company Overview", "Our Company", "About the Company",
                "Our Story", "About Our Organization", "Company Description", "Why {short}?"),
    "summary": ("Job Summary", "Position Summary", "Overview", "The Role", "About the Role", "Position Overview",
                "Job Description", "Summary", "The Opportunity", "About the Position"),
    "duties": ("Responsibilities", "Key Responsibilities", "Duties and Responsibilities",
               "Essential Duties and Responsibilities", "What You'll Do", "What you will do", "Essential Functions",
               "Job Duties", "Primary Responsibilities", "Your Responsibilities", "Duties", "Day-to-Day",
               "A Typical Day", "Key Accountabilities", "Major Duties", "Job Responsibilities",
               "Essential Job Functions", "Principal Duties", "Role Responsibilities"),
    "req": ("Qualifications", "Requirements", "Minimum Qualifications", "Required Qualifications", "What You'll Need",
            "What You Bring", "Skills and Experience", "Education and Experience", "Who You Are", "Required Skills",
            "Job Requirements", "Knowledge, Skills and Abilities", "Basic Qualifications", "Must Haves"),
    "preferred": ("Preferred Qualifications", "Nice to Have", "Preferred Skills", "Bonus Points",
                  "Preferred Experience"),
    "physical": ("Physical Requirements", "Physical Demands", "Working Conditions", "Work Environment",
                 "Physical Demands and Work Environment"),
    "benefits": ("Benefits", "What We Offer", "Perks and Benefits", "Compensation and Benefits",
                 "Why You'll Love Working Here", "Total Rewards", "We Offer", "Benefits Include", "Perks",
                 "Why Join Us?"),
    "legal": ("Equal Opportunity Employer", "EEO Statement", "Legal Notice", "Disclaimer",
              "Equal Employment Opportunity", "Additional Information", "Notice"),
    "apply": ("How to Apply", "Next Steps", "Application Instructions", "Ready to Apply?", "To Apply", "Interested?",
              "Apply Today"),
}
_FORMATS = (("html", 30), ("bullets", 18), ("dashes", 12), ("markdown", 10), ("indeed", 20), ("prose", 10))
_R_TAGS = (("", 80), ("Senior ", 6), ("Sr. ", 2), ("Lead ", 4), ("Junior ", 2), ("Entry-Level ", 2),
           ("Experienced ", 2), ("Certified ", 1), ("Associate ", 1))
_LEVELS = (" I", " II", " III", " 1", " 2", " IV")
_SHIFTS = (" - Day Shift", " - Night Shift", " - Nights", " - Weekends", " - 2nd Shift", " - 3rd Shift",
           " (Evenings)", " - Days", " - Overnight", " - 1st Shift", " - Weekend Option")
_TYPES = (" (Full-Time)", " - Part Time", " - PRN", " (Contract)", " - Temporary", " - Full Time", " (Remote)",
          " - Hybrid", " - Per Diem", " (Part-Time)", " - Seasonal", " - Temp to Hire", " - FT", " - PT")
_WORK_LOCATIONS = (("In person", 80), ("Hybrid remote", 10), ("Remote", 5), ("On the road", 5))
_HOOKS = (" - $1,000 Sign-On Bonus", " - Now Hiring", " - Immediate Start", " - Hiring Immediately", " - Weekly Pay",
          " - Up to ${top}/hr", " - ${bonus:,} Sign-On Bonus", " - Apply Today", " - No Experience Needed",
          " - Great Benefits", " - Paid Training", " - Urgently Hiring")


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --------------------------------------------------------------------------- realistic style: data

class _World:
    """What the realistic style draws from: statements, occupations and their weights, titles, wages."""

    def __init__(self, data: Path) -> None:
        tasks = load_tasks("29.1")
        texts = tasks["task"].to_pylist()
        codes = tasks["soc_code"].to_pylist()
        ids = tasks["task_id"].to_pylist()
        weights = tasks["weight"].to_pylist()
        dwa_titles, task_dwas = self._dwas(data)
        self.has_data = dwa_titles is not None
        dwa_list = sorted(set(dwa_titles.values())) if dwa_titles else []
        verbs = frozenset(w.split(" ", 1)[0].rstrip(",").lower() for w in itertools.chain(texts, dwa_list)
                          if not w.split(" ", 1)[0].lower().endswith("ly"))
        self.statements: List[Statement] = [_parse_statement(t, verbs) for t in itertools.chain(texts, dwa_list)]
        dwa_index = {t: len(texts) + i for i, t in enumerate(dwa_list)}
        by_code: dict = {}
        for i, (code, tid, w) in enumerate(zip(codes, ids, weights)):
            occ = by_code.setdefault(code, ([], [], set()))
            occ[0].append(i)
            occ[1].append(float(w))
            for dwa in (task_dwas or {}).get((code, tid), ()):
                if dwa in dwa_titles:
                    occ[2].add(dwa_index[dwa_titles[dwa]])
        occ_titles = dict(zip(tasks["soc_code"].to_pylist(), tasks["occupation_title"].to_pylist()))
        titles = self._titles()
        openings, wages = self._bls(data)
        self.occupations = []
        raw = []
        for rank, code in enumerate(sorted(by_code)):
            task_idx, task_w, dwas = by_code[code]
            pool = titles.get(code, {})
            pool["occupation"] = [_job_title(occ_titles[code])]
            six = code[:7]
            key = six if six in openings else (six[:6] + "0" if six[:6] + "0" in openings else None)
            raw.append((key, code))
            wage = wages.get(key) or 45_000.0
            self.occupations.append({"code": code, "title": _job_title(occ_titles[code]), "tasks": task_idx,
                                     "weights": task_w, "dwas": sorted(dwas), "titles": pool, "wage": wage})
        if openings:
            shared: dict = {}
            for key, _ in raw:
                shared[key] = shared.get(key, 0) + 1
            floor = sorted(openings.values())[len(openings) // 10]  # occupations without BLS figures
            occ_w = [(openings[key] / shared[key]) if key else floor / 2 for key, _ in raw]
        else:
            order = random.Random(0).sample(range(len(raw)), len(raw))
            occ_w = [1.0 / (order[i] + 1) ** 0.9 for i in range(len(raw))]
        self.occ_cum = list(itertools.accumulate(occ_w))

    @staticmethod
    def _dwas(data: Path):
        t2d, ref = data / "onet29" / "Tasks_to_DWAs.txt", data / "onet29" / "DWA_Reference_30_1.txt"
        if not (t2d.is_file() and ref.is_file()):
            print(f"generate_postings: no O*NET DWA files under {data} (set EXPOSURE_DATA): realistic postings use "
                  "the task statements only", file=sys.stderr)
            return None, None
        with open(ref, encoding="utf-8", newline="") as f:
            titles = {r["DWA ID"]: r["DWA Title"].strip() for r in csv.DictReader(f, delimiter="\t")}
        task_dwas: dict = {}
        with open(t2d, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                task_dwas.setdefault((r["O*NET-SOC Code"], int(r["Task ID"])), []).append(r["DWA ID"])
        return titles, task_dwas

    @staticmethod
    def _bls(data: Path):
        path = data / "bls" / "bls_projections_2022_32.csv"
        if not path.is_file():
            print(f"generate_postings: no BLS projections under {data} (set EXPOSURE_DATA): realistic postings draw "
                  "occupations from Zipf weights", file=sys.stderr)
            return {}, {}
        openings, wages = {}, {}
        with open(path, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                if r["Occupation type"] != "Line item":
                    continue
                code = r["2022 National Employment Matrix code"].strip()
                try:
                    openings[code] = float(r["Occupational openings, 2022-32 annual average"].replace(",", ""))
                except ValueError:
                    continue
                wage = re.sub(r"[^\d]", "", r["Median annual wage, 2022(1)"])
                if wage:
                    wages[code] = float(wage)
        return openings, wages

    @staticmethod
    def _titles() -> dict:
        table = load_titles()
        out: dict = {}
        for code, title, source in zip(table["soc_code"].to_pylist(), table["title"].to_pylist(),
                                       table["source"].to_pylist()):
            if source != "occupation":
                out.setdefault(code, {}).setdefault(source, []).append(title)
        return out


@functools.lru_cache(maxsize=2)
def _world(data: str) -> _World:
    return _World(Path(data))


# --------------------------------------------------------------------------- realistic style: employers

def _fill(rng: random.Random, name: str, short: str, industry: str, city: str, i: int) -> dict:
    return {"name": name, "short": short, "industry": industry, "city": city, "city_only": city.split(",")[0],
            "year": rng.randint(1890, 2020), "staff": rng.choice((rng.randint(20, 500), rng.randint(500, 60_000))),
            "sites": rng.randint(2, 400), "states": rng.randint(2, 50), "awards": rng.randint(2, 15),
            "age": rng.choice((10, 15, 20, 25, 30, 40, 50, 60, 75, 100)), "customers": rng.choice(_CUSTOMERS),
            "verb_serve": rng.choice(_VERB_SERVE), "value1": rng.choice(_VALUES), "value2": rng.choice(_VALUES),
            "value3": rng.choice(_VALUES), "adj": rng.choice(_ADJ), "clients": rng.randint(1, 900) * 100,
            "region": rng.choice(_REGIONS), "size": rng.choice(_SIZES), "state_name": rng.choice(_STATE_NAMES),
            "award_year": rng.randint(2015, 2024), "parent": rng.choice(_PARENTS),
            "domain": re.sub(r"[^a-z]", "", short.lower()) + str(i % 97), "phone": f"({rng.randint(201, 989)}) "
            f"{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", "reply": rng.choice((2, 3, 5, 7)),
            "street": f"{rng.randint(10, 9999)} {rng.choice(_R_FIRST)} "
                      f"{rng.choice(('Street', 'Avenue', 'Road', 'Blvd.', 'Drive', 'Parkway'))}",
            "keyword": rng.choice(("JOBS", "APPLY", "HIRING", "WORK", short.upper()[:8])),
            "short_code": rng.randint(10000, 99999),
            "weekday": rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday")),
            "minutes": rng.choice((5, 10, 15)), "day1": rng.choice(("one", "1", "30", "60")),
            "days_wait": rng.choice((30, 60, 90)), "pct": rng.choice((3, 4, 5, 6, 100)), "vest": rng.randint(1, 5),
            "pto": rng.randint(10, 30), "holidays": rng.randint(6, 14),
            "tuition": rng.choice((2500, 5000, 5250, 10000)),
            "hsa": rng.choice((500, 750, 1000, 1500)), "disc": rng.choice((10, 15, 20, 25, 30)),
            "parental": rng.choice((4, 6, 8, 12, 16)), "referral": rng.choice((250, 500, 1000, 2000)),
            "signon": rng.choice((500, 1000, 1500, 2500, 5000, 10000))}


def _sentences(rng: random.Random, pool, fill: dict, k: int) -> List[str]:
    return [s.format(**fill) for s in rng.sample(pool, min(k, len(pool)))]


def _employer_realistic(seed: int, i: int, world: _World) -> dict:
    """Employer ``i``: built from its own random stream, so it does not matter when it is first needed."""
    rng = random.Random(f"{seed}:employer:{i}")
    first = rng.choice(_R_FIRST)
    second = rng.choice(_R_SECOND)
    name = " ".join(x for x in (first, second, rng.choice(_R_SUFFIX)) if x)
    short = f"{first} {second}"
    industry = rng.choice(_R_INDUSTRIES)
    cities = rng.sample(_R_CITIES, min(len(_R_CITIES), 1 + int(rng.expovariate(1 / 6))))
    fill = _fill(rng, name, short, industry, cities[0], i)
    fmt = _weighted(rng, _FORMATS)
    headers = {k: rng.choice(v).format(short=short) for k, v in _R_HEADERS.items()}
    if rng.random() < 0.2:
        headers = {k: v.upper() for k, v in headers.items()}
    blurb_pool = list(_R_BLURB)
    rng.shuffle(blurb_pool)
    focus = rng.choices(range(len(world.occupations)), cum_weights=world.occ_cum, k=rng.randint(3, 40))
    return {
        "name": name, "short": short, "industry": industry, "cities": cities, "fill": fill, "fmt": fmt,
        "headers": headers, "focus": focus,
        "header_form": rng.randrange(3),
        "marker": rng.choice(("\u2022 ", "- ", "* ", "\u00b7 ", "\u25aa ")) if fmt == "bullets"
        else rng.choice(("\u2022 ", "- ", "* ")) if fmt == "indeed" else "- ",
        "blurb": [s.format(**fill) for s in blurb_pool[:rng.randint(3, 8)]],
        "benefits": _sentences(rng, _R_BENEFITS, fill, rng.randint(5, 14)),
        "indeed_benefits": rng.sample(_INDEED_BENEFITS, rng.randint(4, 12)),
        "eeo": rng.choice(_R_LEGAL_EEO).format(**fill),
        "legal": _sentences(rng, _R_LEGAL, fill, rng.randint(1, 7)),
        "apply": _sentences(rng, _R_APPLY, fill, rng.randint(1, 4)),
        "closing": _sentences(rng, _R_CLOSING, fill, rng.randint(0, 2)),
        "house_reqs": _sentences(rng, _R_REQUIREMENTS[6:], {"years": 1, "years2": 2, "title_lower": "", "field": "",
                                 "major": rng.choice(_MAJORS), "state_abbr": cities[0][-2:],
                                 "lift": rng.choice((25, 30, 40, 50, 75)),
                                 "software": rng.choice(_SOFTWARE), "days": rng.choice((30, 60, 90)),
                                 "cert": rng.choice(_CERTS), "age_min": rng.choice((18, 21)),
                                 "travel": rng.choice((10, 25, 50))}, rng.randint(0, 4)),
        "physical": _sentences(rng, _PHYSICAL, {"lift": rng.choice((25, 50)), "env": rng.choice(_ENV),
                                                "noise": rng.choice(_NOISE), "where": rng.choice(_WHERE)},
                               rng.randint(2, 5)) if rng.random() < 0.4 else [],
        "primary": _weighted(rng, _PRIMARY),
        "loyalty": rng.uniform(0.4, 0.9),  # how often a duty uses the house template
        "stops": rng.random() < 0.5,  # bullet duties end with a full stop
        "leadin": rng.random() < 0.15, "summary": rng.random() < 0.55, "company_first": rng.random() < 0.75,
        "meta_top": rng.random() < 0.5, "schedule": rng.random() < 0.35, "ids": rng.random() < 0.35,
        "id_prefix": rng.choice(("Req ID: ", "Job ID: R", "Requisition #", "Job Code: ", "Posting Number: ",
                                  "Reference: ")),
        "staffing": industry == "staffing", "title_loc": rng.random() < 0.25, "hook": rng.random() < 0.1,
        "pay_words": (rng.choice(("Pay", "Pay", "Compensation", "Pay Range", "Hourly Rate", "Wage")),
                      rng.choice(("Pay", "Salary", "Compensation", "Salary Range", "Pay Range"))),
    }


# --------------------------------------------------------------------------- realistic style: one posting

def _posting_title(p: random.Random, occ: dict) -> str:
    pool = occ["titles"]
    classes = [(k, w) for k, w in (("occupation", 20), ("reported", 35), ("short", 15), ("alternate", 30))
               if pool.get(k)]
    title = p.choice(pool[_weighted(p, classes)])
    if "(" in title and p.random() < 0.9:
        title = re.sub(r"\s*\([^)]*\)", "", title).strip() or title
    return title


def _decorate_title(p: random.Random, title: str) -> str:
    title = _weighted(p, _R_TAGS) + title
    if p.random() < 0.06:
        title += p.choice(_LEVELS)
    if p.random() < 0.08:
        title += p.choice(_SHIFTS)
    if p.random() < 0.12:
        title += p.choice(_TYPES)
    return title


def _duty_text(p: random.Random, stmt: Statement, template: str, team: str) -> str:
    spec = DUTY_TEMPLATES[template] if template != "assist" else p.choice(_ASSIST)
    form, pattern = spec
    if template == "plain" and p.random() < VERBATIM_SHARE:
        return stmt[0].rstrip(".")  # the statement as O*NET writes it
    if p.random() < SYNONYM_SHARE:
        stmt = _vary(p, stmt)
    phrase = _phrase(stmt, form)
    r = p.random()
    if r < 0.22:
        phrase = _cut(p, phrase)
    elif r < 0.40:
        phrase += p.choice(_ADDED)
    return pattern.format(phrase, team=team)


def _join(p: random.Random, a: Statement, b: Statement, template: str) -> str:
    """Two statements in one duty: "Prepare budgets and confer with board members"."""
    form = {"gerund": "Ing", "third": "S", "responsible": "ing", "be_responsible": "ing"}.get(template, "base")
    first = _phrase(a, form)
    second = _phrase(b, form.lower() if form != "base" else "lower")
    text = f"{first}{p.choice((' and ', '; ', ', and '))}{second}"
    if template in ("responsible", "be_responsible"):
        text = ("Responsible for " if template == "responsible" else "Be responsible for ") + text
    elif template in ("you_will", "youll", "will"):
        text = {"you_will": "You will ", "youll": "You'll ", "will": "Will "}[template] + _lower_first(text)
    return text


def _pick_duties(p: random.Random, world: _World, occ: dict, k: int) -> List[Statement]:
    """``k`` statements of the occupation: tasks weighted Core 2, Supplemental 1, and some of its DWAs."""
    n_dwa = min(len(occ["dwas"]), sum(p.random() < 0.12 for _ in range(k)))
    tasks = occ["tasks"]
    n_task = min(len(tasks), k - n_dwa)
    keys = sorted(range(len(tasks)), key=lambda j: -p.random() ** (1.0 / occ["weights"][j]))[:n_task]
    chosen = [tasks[j] for j in keys]
    if n_dwa:
        chosen += p.sample(occ["dwas"], n_dwa)
    if len(chosen) < k and occ["dwas"]:
        rest = [d for d in occ["dwas"] if d not in chosen]
        chosen += p.sample(rest, min(len(rest), k - len(chosen)))
    p.shuffle(chosen)
    return [world.statements[j] for j in chosen]


def _duty_units(p: random.Random, emp: dict, stmts: List[Statement], title: str, prose: bool) -> List[str]:
    """The duty units of one posting, as written (list items or prose sentences)."""
    team = p.choice(_TEAMS)
    out = []
    if prose:
        i = 0
        while i < len(stmts):
            r = p.random()
            if r < 0.25 and i + 2 < len(stmts):
                form = p.choice(("lower", "lower", "ing"))
                parts = [_phrase(s, form) for s in stmts[i:i + 3]]
                lead = "You will " if form == "lower" else p.choice(("Duties include ", "This includes "))
                out.append(f"{lead}{parts[0]}, {parts[1]}{p.choice((', and ', ' and '))}{parts[2]}.")
                i += 3
            elif r < 0.45 and i + 1 < len(stmts):
                out.append(f"{_upper_first(_phrase(stmts[i], 'base'))} and {_phrase(stmts[i + 1], 'lower')}.")
                i += 2
            else:
                form, pattern = p.choice(_PROSE_LEADS)
                phrase = _phrase(stmts[i], form)
                if p.random() < 0.25:
                    phrase = _cut(p, phrase)
                out.append(pattern.format(phrase, title=title))
                i += 1
        return out
    stop = "." if emp["stops"] else ""
    lower = emp["leadin"]
    i = 0
    while i < len(stmts):
        template = emp["primary"] if p.random() < emp["loyalty"] else _weighted(p, _SECONDARY)
        if lower and template in ("plain", "you_will", "youll", "will"):
            template = "lower"
        if p.random() < 0.1 and i + 1 < len(stmts):
            text = _join(p, stmts[i], stmts[i + 1], template)
            i += 2
        else:
            text = _duty_text(p, stmts[i], template, team)
            i += 1
        if lower and template == "lower":
            text = _lower_first(text)
        out.append(text + (stop if p.random() < 0.92 else ("" if stop else ".")))
    return out


def _pay(p: random.Random, occ: dict, emp: dict) -> Tuple[str, str]:
    """ ("Pay: $18.50 - $22.00 per hour", "$18.50 - $22.00 per hour")."""
    annual = occ["wage"] * p.uniform(0.75, 1.2)
    if annual < 65_000 and p.random() < 0.85:
        word = emp["pay_words"][0]
        low = round(annual / 2080 * 4) / 4
        high = low + p.choice((1, 2, 2.5, 3, 4, 5, 6, 8))
        value = p.choice((f"${low:.2f} - ${high:.2f} per hour", f"${low:.2f} - ${high:.2f} an hour",
                          f"${low:.2f}/hr - ${high:.2f}/hr", f"Starting at ${low:.2f} per hour",
                          f"${low:.2f} to ${high:.2f} per hour", f"Up to ${high:.2f} per hour"))
    else:
        word = emp["pay_words"][1]
        low = int(annual / 1000) * 1000
        high = low + p.choice((5, 8, 10, 15, 20, 25, 30)) * 1000
        value = p.choice((f"${low:,} - ${high:,} per year", f"${low:,} - ${high:,} a year",
                          f"${low // 1000}K - ${high // 1000}K annually", f"${low:,} to ${high:,} per year"))
    return f"{word}: {value}", value


def _realistic_posting(world: _World, emp: dict, body_seed: int, city: str, serial: int,
                       rng: random.Random) -> Tuple[str, str, List[str]]:
    """One posting: (title, description, its duty units as written). ``body_seed`` fixes the text (a re-post
    reuses it); ``city``, ``serial`` and ``rng`` (the row's own draws) vary per posting."""
    p = random.Random(body_seed)
    occ = world.occupations[emp["focus"][p.randrange(len(emp["focus"]))] if p.random() < FOCUS_SHARE
                            else p.choices(range(len(world.occupations)), cum_weights=world.occ_cum)[0]]
    base = _posting_title(p, occ)
    title = _decorate_title(p, base)
    if emp["title_loc"] and rng.random() < 0.5:
        title += rng.choice((f" - {city}", f" - {city.split(',')[0]}", f" ({city.split(',')[0]})"))
    if emp["hook"] and rng.random() < 0.5:
        title += rng.choice(_HOOKS).format(top=int(occ["wage"] / 1800), bonus=rng.choice((500, 1000, 2500, 5000)))
    fmt = emp["fmt"]
    prose = fmt == "prose" or (fmt != "indeed" and p.random() < 0.06)
    fill = dict(emp["fill"], title=base, title_lower=base.lower(), city=city, city_only=city.split(",")[0],
                article="an" if base[:1].upper() in "AEIOU" else "a", adj2=p.choice(_ADJ2),
                dept=p.choice(_DEPTS), boss=p.choice(_BOSSES),
                jobtype=p.choice(("full-time", "part-time", "temporary")))
    fill["value1"], fill["value2"] = p.choice(_VALUES), p.choice(_VALUES)
    fill["article_adj"] = "an" if fill["adj2"][:1] in "aeiou" else "a"

    stmts = _pick_duties(p, world, occ, p.randint(11, 20))
    duties = _duty_units(p, emp, stmts, base, prose)
    generic = [g for g in p.sample(_GENERIC_DUTIES, 2) if p.random() < 0.35]
    if generic:
        stop = "." if (prose or emp["stops"]) else ""
        duties += [g + stop for g in generic]
    summary = []
    if emp["summary"]:
        summary = [s.format(**fill) for s in p.sample(_INTROS, p.randint(1, 3))]
        if p.random() < 0.5 and len(stmts) > 1:
            a, b = p.sample(stmts, 2)
            summary.append(f"The {base} is responsible for {_cut(p, _phrase(a, 'ing'))} and "
                           f"{_cut(p, _phrase(b, 'ing'))}.")
    duty_truth = list(duties) + summary[-1:] if summary and summary[-1].startswith(f"The {base} is responsible") \
        else list(duties)

    rfill = {"years": p.randint(2, 7), "title_lower": base.lower(), "field": p.choice(_FIELDS),
             "major": p.choice(_MAJORS), "state_abbr": city[-2:], "lift": p.choice((20, 25, 30, 40, 50, 75, 100)),
             "software": p.choice(_SOFTWARE), "days": p.choice((30, 60, 90)), "cert": p.choice(_CERTS),
             "age_min": p.choice((18, 21)), "travel": p.choice((10, 15, 25, 50))}
    rfill["years2"] = rfill["years"] + p.randint(1, 4)
    reqs = emp["house_reqs"] + _sentences(p, _R_REQUIREMENTS, rfill, p.randint(3, 8))
    if occ["dwas"] and p.random() < 0.6:
        for j in p.sample(occ["dwas"], min(len(occ["dwas"]), p.randint(1, 2))):
            form, pattern = p.choice(_DWA_REQUIREMENTS)
            reqs.append(pattern.format(_phrase(world.statements[j], form)))
    p.shuffle(reqs)
    preferred = _sentences(p, _R_REQUIREMENTS, rfill, p.randint(2, 4)) if p.random() < 0.3 else []

    pay_line, pay_value = _pay(p, occ, emp)
    benefits = [b for b in emp["benefits"] if p.random() < 0.85]
    legal = [emp["eeo"]] + [s for s in emp["legal"] if p.random() < 0.85]
    if p.random() < 0.5:
        legal = legal[1:] + legal[:1]
    apply = [s.format(**fill) for s in emp["apply"]] if p.random() < 0.9 else []
    closing = [s.format(**fill) for s in emp["closing"]]
    blurb = [s for s in emp["blurb"] if p.random() < 0.8]
    jobtype = _weighted(p, (("Full-time", 70), ("Part-time", 14), ("Full-time, Part-time", 5), ("Contract", 4),
                            ("Temporary", 3), ("PRN", 2), ("Full-time, Contract", 2)))
    meta = [f"Location: {city}", pay_line, f"Job Type: {jobtype}"]
    if p.random() < 0.4:
        meta.append(f"Schedule: {', '.join(p.sample(_SCHEDULES, p.randint(1, 3)))}")
    if p.random() < 0.3:
        meta.append(f"Work Location: {_weighted(p, _WORK_LOCATIONS)}")
    p.shuffle(meta)
    ids = [f"{emp['id_prefix']}{serial}"] if emp["ids"] else []

    h = emp["headers"]
    sections: List[tuple] = []  # (header or None, items, kind): kind "list", "para", "lines"
    if fmt == "indeed":
        sections.append((None, summary or [_INTROS[0].format(**fill)], "para"))
        if blurb and emp["company_first"]:
            sections.append((None, blurb, "para"))
        sections.append((h["duties"] + ":", duties, "list"))
        sections.append((h["req"] + ":", reqs, "list"))
        if blurb and not emp["company_first"]:
            sections.append((None, blurb, "para"))
        sections.append((None, [f"Job Type: {jobtype}", pay_line], "lines"))
        sections.append(("Benefits:", [b for b in emp["indeed_benefits"] if p.random() < 0.85], "list"))
        if p.random() < 0.8:
            sections.append(("Schedule:", p.sample(_SCHEDULES, p.randint(1, 4)), "list"))
        if p.random() < 0.6:
            years = p.randint(1, 5)
            experience = [f"{base}: {years} year{'s' if years > 1 else ''} ({p.choice(('Preferred', 'Required'))})"]
            if p.random() < 0.4:
                experience.append(f"{_upper_first(p.choice(_FIELDS))}: 1 year (Preferred)")
            sections.append(("Experience:", experience, "list"))
        if p.random() < 0.3:
            sections.append(("License/Certification:", [f"{p.choice(_CERTS)} (Required)"], "list"))
        where = _weighted(p, tuple((w if w != "Hybrid remote" else f"Hybrid remote in {city}", k)
                                   for w, k in _WORK_LOCATIONS))
        sections.append((None, [f"Work Location: {where}"], "lines"))
        if p.random() < 0.5:
            sections.append((None, [emp["eeo"]], "para"))
    else:
        if p.random() < 0.35:
            sections.append((None, [title], "lines"))
        if emp["meta_top"]:
            sections.append((None, meta, "lines"))
        company = (h["company"], blurb, "para")
        if emp["company_first"] and blurb:
            sections.append(company)
        if summary:
            sections.append((h["summary"] if p.random() < 0.7 else None, summary, "para"))
        lead = [p.choice(_LEADINS)] if emp["leadin"] else []
        if prose:
            for k in range(0, len(duties), 4):
                sections.append((h["duties"] if k == 0 else None, duties[k:k + 4], "para"))
        else:
            sections.append((h["duties"], lead + duties, "list"))
        sections.append((h["req"], reqs, "list"))
        if preferred:
            sections.append((h["preferred"], preferred, "list"))
        if emp["physical"]:
            sections.append((h["physical"], [s for s in emp["physical"] if p.random() < 0.8], "para"))
        sections.append((h["benefits"], [pay_value if p.random() < 0.5 else pay_line] + benefits, "list"))
        if emp["schedule"]:
            sections.append(("Schedule:", p.sample(_SCHEDULES, p.randint(1, 4)), "list"))
        if not emp["company_first"] and blurb:
            sections.append(company)
        if not emp["meta_top"]:
            sections.append((None, meta, "lines"))
        sections.append((h["legal"] if p.random() < 0.7 else None, legal, "para"))
        if apply:
            sections.append((h["apply"], apply, "para"))
        if closing:
            sections.append((None, closing, "para"))
    if ids:
        sections.append((None, ids, "lines"))
    return title, _render(fmt, emp, sections), duty_truth


def _render(fmt: str, emp: dict, sections: List[tuple]) -> str:
    form = emp["header_form"]
    out = []
    if fmt == "html":
        for header, items, kind in sections:
            items = [html.escape(x, quote=False) for x in items if x]
            if not items:
                continue
            part = ""
            if header:
                header = html.escape(header, quote=False)
                part = (f"<h3>{header}</h3>", f"<p><strong>{header}</strong></p>", f"<p><b>{header}</b></p>")[form]
            if kind == "list":
                part += "<ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>"
            elif kind == "lines":
                part += "<p>" + "<br>".join(items) + "</p>"
            else:
                part += "<p>" + " ".join(items) + "</p>"
            out.append(part)
        return "\n".join(out)
    marker = emp["marker"] if fmt in ("bullets", "indeed") else "* " if fmt == "markdown" else "- "
    for header, items, kind in sections:
        items = [x for x in items if x]
        if not items:
            continue
        lines = []
        if header:
            if fmt == "markdown":
                lines.append(("## ", "**", "### ")[form] + header + ("**" if form == 1 else ""))
            elif fmt == "indeed":
                lines.append(header)
            else:
                lines.append((header, header + ":", header.upper())[form])
        if kind == "list":
            lines += [marker + x for x in items]
        elif kind == "lines":
            lines += items
        else:
            lines.append(" ".join(items))
        out.append("\n".join(lines))
    return ("\n" if fmt == "indeed" else "\n\n").join(out)


def _rows_realistic(n: int, seed: int) -> Iterator[tuple]:
    world = _world(str(data_dir()))
    rng = random.Random(f"realistic:{seed}")
    cum = list(itertools.accumulate(1.0 / (i + 1) ** 0.9 for i in range(N_EMPLOYERS_REALISTIC)))
    employers: OrderedDict = OrderedDict()  # the most recently used employers; any other is rebuilt when needed
    history: dict = {}
    for row in range(n):
        # Every draw for a row is made in row order: row i consumes the same numbers whatever n is.
        e = rng.choices(range(N_EMPLOYERS_REALISTIC), cum_weights=cum)[0]
        emp = employers.get(e)
        if emp is None:
            emp = employers[e] = _employer_realistic(seed, e, world)
            if len(employers) > EMPLOYER_CACHE:
                employers.popitem(last=False)
        else:
            employers.move_to_end(e)
        past = history.setdefault(e, [])
        if past and rng.random() < REPOST_SHARE:
            body = rng.choice(past)
        else:
            body = rng.getrandbits(64)
            past.append(body)
            if len(past) > 8:
                past.pop(0)
        city = rng.choice(emp["cities"])
        serial = rng.randint(10_000, 999_999)
        title, text, duties = _realistic_posting(world, emp, body, city, serial, rng)
        yield f"posting-{row:09d}", title, text, duties


# =========================================================================== both styles

def _rows_templated(n: int, seed: int) -> Iterator[tuple]:
    rng = random.Random(seed)
    tasks = load_tasks("27")
    by_occ: dict = {}
    for code, title, task in zip(tasks["soc_code"].to_pylist(), tasks["occupation_title"].to_pylist(),
                                 tasks["task"].to_pylist()):
        by_occ.setdefault(code, (_job_title(title), []))[1].append(task)
    occupations = [by_occ[c] for c in sorted(by_occ) if len(by_occ[c][1]) >= 5]
    employers = [_employer(rng, i) for i in range(N_EMPLOYERS)]
    # A few employers post most of the jobs, as on real job boards.
    cum_weights = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(N_EMPLOYERS)))
    for row in range(n):
        # Every draw for a row is made in row order (employer, occupation, posting), never
        # ahead for a whole chunk: row i consumes the same random numbers whatever n is.
        emp = rng.choices(employers, cum_weights=cum_weights)[0]
        title, text, duties = _posting(rng, emp, rng.choice(occupations))
        yield f"posting-{row:09d}", title, text, duties


def postings(n: int, seed: int = 0, style: str = "realistic") -> Iterator[tuple]:
    """Yield ``(id, title, description, duties)`` one posting at a time; ``duties`` lists the posting's duty
    units as the generator wrote them (the ground truth that ``corpus_stats.py`` counts)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; use one of: {', '.join(STYLES)}")
    return (_rows_realistic if style == "realistic" else _rows_templated)(n, seed)


def generate(n: int, seed: int = 0, style: str = "realistic") -> Iterator[pa.RecordBatch]:
    """Yield record batches (id, title, description) of at most CHUNK rows; ``n`` postings in all."""
    rows = postings(n, seed, style)
    while True:
        chunk = list(itertools.islice(rows, CHUNK))
        if not chunk:
            return
        ids, titles, texts, _ = zip(*chunk)
        yield pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(titles, pa.string()),
                                          pa.array(texts, pa.string())], schema=SCHEMA)


def write(n: int, path: str, seed: int = 0, style: str = "realistic") -> int:
    """Write ``n`` postings to ``path`` (.parquet, .csv or .jsonl); returns the row count."""
    out = Path(path)
    if out.suffix.lower() in (".jsonl", ".ndjson"):
        rows = 0
        with open(out, "w", encoding="utf-8") as f:
            for batch in generate(n, seed, style):
                for row in batch.to_pylist():
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows += batch.num_rows
        return rows
    with TableWriter(out) as w:
        for batch in generate(n, seed, style):
            w.write(batch)
        return w.rows


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description="Generate N synthetic job postings (id, title, description).")
    ap.add_argument("n", type=int, help="number of postings")
    ap.add_argument("-o", "--output", required=True, help="output file: .parquet, .csv or .jsonl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--style", choices=STYLES, default="realistic",
                    help="realistic (default): statistics of real job-board postings; templated: the earlier "
                         "generator (verbatim O*NET 27 duties, boilerplate repeated word for word)")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error(f"n must be >= 0, got {args.n}")
    if Path(args.output).suffix.lower() not in (".parquet", ".pq", ".csv", ".jsonl", ".ndjson"):
        ap.error(f"unknown output extension {Path(args.output).suffix!r}; use .parquet, .csv or .jsonl")
    t0 = time.perf_counter()
    rows = write(args.n, args.output, args.seed, args.style)
    print(f"wrote {rows:,} {args.style} postings to {args.output} in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
