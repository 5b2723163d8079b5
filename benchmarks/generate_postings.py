"""Generate synthetic job postings for speed benchmarks: id, title, description.

Duties are O*NET 27 task statements of a random occupation (the title is the
occupation's O*NET title, sometimes with a seniority or shift tag); the rest
is boilerplate from a pool of employers, each with its own name, blurb,
benefits, legal paragraphs, application instructions and house format (HTML
list, bullets, markdown or prose), so boilerplate repeats across postings the
way it does on job boards. Postings run about 2,000-5,000 characters and
40-80 units. All names are invented; any resemblance to real employers is
coincidental.

    python benchmarks/generate_postings.py 200000 -o postings.parquet --seed 0

Deterministic given the seed, and the first rows do not depend on N: a run of
N postings starts with the rows of any run with fewer (every random draw for a
row is made in row order). Rows are written in chunks, so memory stays bounded.
Formats: .parquet, .csv, .jsonl.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Iterator, List

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exposure.io import TableWriter  # noqa: E402
from exposure.occupations import load_tasks  # noqa: E402

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
    return title, ("\n" if style == "html" else "\n\n").join(parts)


def generate(n: int, seed: int = 0) -> Iterator[pa.RecordBatch]:
    """Yield record batches (id, title, description) of at most CHUNK rows; ``n`` postings in all."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
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
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        ids, titles, texts = [], [], []
        for k in range(size):
            # Every draw for a row is made in row order (employer, occupation, posting), never
            # ahead for a whole chunk: row i consumes the same random numbers whatever n is.
            emp = rng.choices(employers, cum_weights=cum_weights)[0]
            title, text = _posting(rng, emp, rng.choice(occupations))
            ids.append(f"posting-{start + k:09d}")
            titles.append(title)
            texts.append(text)
        yield pa.RecordBatch.from_arrays([pa.array(ids), pa.array(titles), pa.array(texts)], schema=SCHEMA)


def write(n: int, path: str, seed: int = 0) -> int:
    """Write ``n`` postings to ``path`` (.parquet, .csv or .jsonl); returns the row count."""
    out = Path(path)
    if out.suffix.lower() in (".jsonl", ".ndjson"):
        rows = 0
        with open(out, "w", encoding="utf-8") as f:
            for batch in generate(n, seed):
                for row in batch.to_pylist():
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows += batch.num_rows
        return rows
    with TableWriter(out) as w:
        for batch in generate(n, seed):
            w.write(batch)
        return w.rows


def main() -> None:
    ap = argparse.ArgumentParser(description="Generate N synthetic job postings (id, title, description).")
    ap.add_argument("n", type=int, help="number of postings")
    ap.add_argument("-o", "--output", required=True, help="output file: .parquet, .csv or .jsonl")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if Path(args.output).suffix.lower() not in (".parquet", ".pq", ".csv", ".jsonl", ".ndjson"):
        ap.error(f"unknown output extension {Path(args.output).suffix!r}; use .parquet, .csv or .jsonl")
    t0 = time.perf_counter()
    rows = write(args.n, args.output, args.seed)
    print(f"wrote {rows:,} postings to {args.output} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
