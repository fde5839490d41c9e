"Catalog beyond the notebook examples: persona plausibility and voices at scale, loader errors, every skill's examples, taxonomy sampling."
import ast
import collections
import json
import random
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from clawgym.synth.catalog import (LIVES, OCCUPATIONS, OPERATIONS, PERSONA_SEED, PERSONAS_PATH, SKILLS_PATH, SUBCATEGORY_SKILLS, TAXONOMY,
                             TONES, CatalogFormatError, Persona, annotate, build_personas, load_personas_jsonl, load_skills,
                             parse_skill_md, persona_by_id, personas, persona_from_text, sample_subcategory, save_personas_jsonl,
                             skill, skills)
from clawgym.core import CATEGORIES, WorkspaceSpec
from clawgym.env.workspace import materialize


# ---------------------------------------------------------------- personas

def test_packaged_file_is_what_the_lists_build(tmp_path):
    save_personas_jsonl(build_personas(), tmp_path / "p.jsonl")
    assert (tmp_path / "p.jsonl").read_bytes() == PERSONAS_PATH.read_bytes()
    assert personas() == personas() and personas() is not personas()  # the same list, but a copy callers may not corrupt
    assert build_personas(PERSONA_SEED + 1) != build_personas()


def test_personas_are_plausible_and_distinct():
    ps = personas()
    assert len(ps) >= 300
    stage = {occ: st for occ, (st, _) in OCCUPATIONS.items()}
    fits = dict(LIVES)
    for p in ps:
        assert re.fullmatch(r"p\d{4}", p.id)
        assert any(goal in p.goals for goal in OCCUPATIONS[p.occupation][1]), p  # goals belong to the occupation
        assert stage[p.occupation] in fits[p.life], p  # the life situation fits the occupation's stage of life
        n = len(re.findall(r"[.!?](?:\s|$)", p.text))
        assert 3 <= n <= 5, (n, p.text)
        assert p.text.startswith(f"{p.name} is a")
    assert len({p.name for p in ps}) == len(ps)
    assert len({(p.occupation, p.life, p.goals) for p in ps}) == len(ps)
    assert len({p.occupation for p in ps}) >= 40
    assert min(collections.Counter(p.tone for p in ps).values()) >= 30  # every tone is well represented


TRICKY = ['Rename `photos/IMG 0001 (copy).JPG` to "holiday-01.jpg" and log it in {log}.md',
          "Total 'Q3 2024'!B2:B40 from reports/Q3_2024.csv;\nwrite out/q3.json with key \"sum\" (no rounding).",
          "{occupation} is a placeholder here: keep `~/dir with spaces/` and C:\\Users\\ana\\file.txt as they are."]


@pytest.mark.parametrize("request_text", TRICKY)
def test_say_keeps_every_request_verbatim(request_text):
    rng = random.Random(11)
    for p in personas():
        said = p.say(rng, request_text)
        assert said.count(request_text) == 1, (p.tone, said)


def test_say_varies_by_draw_and_is_deterministic():
    base = persona_by_id("p0000")
    for tone in TONES:
        p = Persona(base.id, base.name, base.occupation, base.life, base.goals, base.habits, tone)
        outs = {p.say(random.Random(seed), "Do X.") for seed in range(60)}
        assert len(outs) >= 3, (tone, outs)  # several openings and closings per tone
        assert [p.say(random.Random(5), "Do X.") for _ in range(3)] == [p.say(random.Random(5), "Do X.")] * 3
    terse = {Persona(base.id, base.name, base.occupation, base.life, base.goals, base.habits, "terse").say(random.Random(s), "Do X.")
             for s in range(60)}
    friendly = {Persona(base.id, base.name, base.occupation, base.life, base.goals, base.habits, "friendly").say(random.Random(s), "Do X.")
                for s in range(60)}
    assert not terse & friendly  # a friendly voice never reads exactly like a terse one


def test_external_personas_round_trip_verbatim(tmp_path):
    texts = [f"A {adj} {job} who {what}." for adj, job, what in
             zip(["careful", "witty", "warm", "busy"] * 50, ["nurse", "welder", "baker", "pilot", "chef"] * 40,
                 ["keeps logs", "collects maps", "runs marathons", "grows tomatoes"] * 50)]
    texts += ["Ünal Kaya, ein Koch aus Köln, der Rezepte sammelt. 🍲", "  leading spaces and a \"quote\"  "]
    src = tmp_path / "ext.jsonl"
    src.write_text("\ufeff" + "".join(json.dumps({"persona": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    ext = load_personas_jsonl(src)
    assert [p.text for p in ext] == texts
    assert ext[0].occupation == "careful nurse" and ext[0].tone == "anxious"
    assert ext[1].tone == "dry" and ext[2].tone == "friendly" and ext[3].tone == "terse"
    assert ext[0].id == persona_from_text(texts[0]).id and re.fullmatch(r"x[0-9a-f]{10}", ext[0].id)
    save_personas_jsonl(ext, tmp_path / "again.jsonl")
    assert load_personas_jsonl(tmp_path / "again.jsonl") == ext  # full records keep the external text verbatim


@pytest.mark.parametrize("content,expected", [
    (b'{"persona": "ok"}\n[1, 2]\n', "x.jsonl:2: expected a JSON object"),
    (b'{"persona": "ok"}\n\n{"persona": 3}\n', "x.jsonl:3: needs a non-empty string"),
    (b'{"persona": "ok", "id": 7}\n', "x.jsonl:1: \"id\" must be a string"),
    (b'{"persona": "caf\xe9"}\n', "x.jsonl:1: not UTF-8"),
    (b'{"persona": "a"}\n{"persona": "b"\n', "x.jsonl:2: not valid JSON"),
    (json.dumps({**personas()[0].to_dict(), "tone": "grumpy"}).encode() + b"\n", "x.jsonl:1: tone 'grumpy'"),
    (json.dumps({**personas()[0].to_dict(), "life": None}).encode() + b"\n", "x.jsonl:1: fields ['life'] must be strings"),
])
def test_bad_persona_lines_name_file_and_line(tmp_path, content, expected):
    (tmp_path / "x.jsonl").write_bytes(content)
    with pytest.raises(CatalogFormatError, match=re.escape(expected)):
        load_personas_jsonl(tmp_path / "x.jsonl")


# ---------------------------------------------------------------- skills

def _blocks(body, lang):
    return re.findall(rf"```{lang}\n(.*?)```", body, re.S)


def test_every_packaged_skill_is_well_formed():
    lib = skills()
    assert len(lib) >= 40 and len(skills(offline_only=True)) >= 40
    assert len({s.description for s in lib}) == len(lib)
    ordinary = {"python3", "grep", "git", "tar", "bash", "diff", "sha256sum"}
    for s in lib:
        assert s.body.startswith("# ") and len(s.body.splitlines()) >= 10, s.name
        assert 40 <= len(s.description) <= 300 and s.description.rstrip().endswith("."), s.name
        if s.offline_ok: assert set(s.requires.get("bins", [])) <= ordinary, s.name
        assert s.skill_md().startswith(f"---\nname: {s.name}\ndescription: ")
        for code in _blocks(s.body, "python"): ast.parse(code)
        for code in _blocks(s.body, "bash"):
            subprocess.run(["bash", "-n"], input=code, text=True, check=True)
            for py in re.findall(r"python3 - <<'PY'\n(.*?)\nPY", code, re.S): ast.parse(py)


SELF_CONTAINED = {  # skill -> a line its example prints, proving the instructions work as written
    "cron-jobs": "['09:00', '09:20', '09:40', '10:00', '10:20']",
    "data-cleaning": "2024-04-03 2024-03-04 None",
    "descriptive-statistics": "outliers [80.0]",
    "unit-conversions": "1.634 kg",
    "invoices": "549.90 109.98 659.88",
    "gradebooks": "75.9",  # homework 0.85 (lowest dropped) x 0.3 + exam 0.72 x 0.7
    "travel-itineraries": "flight time: 7:25:00",
    "dates-timezones": "5 working days later: 2024-04-04",
}


@pytest.mark.parametrize("name", sorted(SELF_CONTAINED))
def test_skill_examples_run(name, tmp_path):
    code = _blocks(skill(name).body, "python")[0]
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert SELF_CONTAINED[name] in out.stdout, out.stdout


def test_csv_skill_example_on_real_files(tmp_path):
    (tmp_path / "expenses.csv").write_text("\ufeffdate,category,amount\n2024-01-02,food ,12.50\n2024-01-03,rent,800\n"
                                           "2024-01-05,food,7.25\n")
    code = re.search(r"python3 - <<'PY'\n(.*?)\nPY", _blocks(skill("csv-files").body, "bash")[0], re.S).group(1)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
    assert (tmp_path / "totals.csv").read_text().splitlines() == ["category,total", "food,19.75", "rent,800.00"]


def test_online_skills_are_marked_with_evidence():
    marked = {s.name: s.unusable_reason for s in skills() if not s.offline_ok}
    assert set(marked) == {"github-issues", "image-captioning", "spotify-playlists", "voice-memo-transcription", "weather-forecast",
                           "web-research"}
    assert "OPENWEATHER_API_KEY" in marked["weather-forecast"] and "curl" in marked["weather-forecast"]
    assert "ffmpeg" in marked["voice-memo-transcription"] and "requires.browser" in marked["web-research"]
    for name in ("html-xml", "xlsx-workbooks", "email-files"):  # namespace URIs and example addresses are not network use
        assert skill(name).offline_ok, skill(name).unusable_reason


def _skill(requires=None, body="Do it.\n", desc="A skill.", meta_key="openclaw", extra_meta=None):
    meta = {meta_key: {**({"requires": requires} if requires is not None else {}), **(extra_meta or {})}}
    return f"---\nname: s\ndescription: {desc}\nmetadata: {json.dumps(meta)}\n---\n{body}"


@pytest.mark.parametrize("text,offline,evidence", [
    (_skill({"bins": ["python3", "jq"]}), True, ""),
    (_skill({"anyBins": ["wget", "curl"]}), False, "needs network access (curl, wget)"),
    (_skill({"env": ["EDITOR"]}), False, "environment settings an offline sandbox lacks (EDITOR)"),
    (_skill({"env": ["NOTION_TOKEN"]}, meta_key="clawdbot"), False, "needs credentials (env NOTION_TOKEN)"),
    (_skill({}, extra_meta={"primaryEnv": "LINEAR_API_KEY"}), False, "needs credentials (env LINEAR_API_KEY)"),
    (_skill({"config": ["channels.slack"]}, meta_key="clawdis"), False, "needs OpenClaw configuration (channels.slack)"),
    (_skill({"bins": ["python3"]}, body="r = requests.get(url)\n"), False, "text: 'requests.get('"),
    (_skill({}, body="Call https://api.example.net/v1/items with the key.\n"), False, "https://api."),
    (_skill({}, body='Namespace {"a": "http://www.w3.org/2005/Atom"}; write to a@example.org.\n'), True, ""),
    (_skill({"bins": ["tesseract"]}), False, "needs media or a browser (tesseract)"),
    (_skill({}, desc="Use speech-to-text on recordings."), False, "text: 'speech-to-text'"),
])
def test_annotation_rules(text, offline, evidence):
    s = parse_skill_md(text)
    assert s.offline_ok is offline and evidence in s.unusable_reason, s.unusable_reason
    assert annotate(s) == s


@pytest.mark.parametrize("desc", ["Plain words only.", "Has: a colon", "Ends with # hash", "- starts like a list", "yes",
                                  "'quoted' and \"double\"", "Ünïcode ✓ and emoji 🎉", "[looks like a list", "@at start", "{brace"])
def test_skill_md_round_trips_awkward_front_matter(desc):
    s = parse_skill_md(f"---\nname: s\ndescription: {json.dumps(desc, ensure_ascii=False)}\nversion: 1.2.0\nhomepage: https://x.invalid\n"
                       f'metadata:\n  openclaw:\n    emoji: "🧰"\n    requires: {{bins: [python3]}}\n---\n\nBody line.\n')
    assert s.description == desc and s.extra == {"version": "1.2.0", "homepage": "https://x.invalid"}
    assert parse_skill_md(s.skill_md()) == s


def test_load_skills_layouts_and_errors(tmp_path):
    shutil.copytree(SKILLS_PATH, tmp_path / "lib")
    again = load_skills(tmp_path / "lib")
    assert [(s.name, s.body, s.offline_ok) for s in again] == [(s.name, s.body, s.offline_ok) for s in skills()]
    hub = tmp_path / "hub"
    for rel, text in {"a/SKILL.md": _skill({"bins": ["python3"]}).replace("name: s", "name: a"),
                      "grp/b/skill.md": _skill({}).replace("name: s", "name: b"),
                      "grp/c/SKILL.md": _skill({}).replace("name: s", "name: a"),  # duplicate name
                      ".hidden/SKILL.md": "not read", "grp/notes.txt": "ignored",
                      "d/SKILL.md": "---\nname: d\n---\n",  # no description
                      "e/SKILL.md": None}.items():
        (hub / rel).parent.mkdir(parents=True, exist_ok=True)
        (hub / rel).write_bytes(b"---\nname: e\ndescription: caf\xe9\n---\n" if text is None else text.encode())
    with pytest.raises(CatalogFormatError) as e:
        load_skills(hub)
    msg = str(e.value)
    assert msg.startswith(f"3 of 5 skills under {hub} could not be loaded")
    assert f"{hub}/grp/c/SKILL.md: skill name 'a' is already used by {hub}/a/SKILL.md" in msg
    assert f"{hub}/d/SKILL.md: `description` must be" in msg and f"{hub}/e/SKILL.md: not UTF-8" in msg
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [s.name for s in load_skills(hub, strict=False)] == ["a", "b"]
    assert len(caught) == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogFormatError, match="no skills found"):
        load_skills(tmp_path / "empty")
    with pytest.raises(KeyError, match="see skills"):
        skill("zzzzzz")


def test_skills_install_into_a_workspace(tmp_path):
    chosen = [skill("csv-files"), skill("calendar-ics")]
    ws = materialize(WorkspaceSpec(skills={s.name: s.skill_md() for s in chosen}), tmp_path / "ws")
    for s in chosen:
        assert parse_skill_md((ws / "skills" / s.name / "SKILL.md").read_text()).body == s.body


# ---------------------------------------------------------------- taxonomy

def test_taxonomy_shape():
    assert list(TAXONOMY) == list(CATEGORIES)
    assert all(len(subs) >= 4 for subs in TAXONOMY.values())
    assert len(OPERATIONS) >= 15 and len(set(OPERATIONS)) == len(OPERATIONS)
    subs = [s for subs in TAXONOMY.values() for s in subs]
    assert len(subs) == len(set(subs))  # a subcategory names one place
    assert all(skill(n) for names in SUBCATEGORY_SKILLS.values() for n in names)


def test_sampling_is_uniform_and_reaches_everything():
    rng = random.Random(0)
    draws = [sample_subcategory(rng) for _ in range(6000)]
    counts = collections.Counter(c for c, _, _ in draws)
    assert set(counts) == set(CATEGORIES) and min(counts.values()) > 850 and max(counts.values()) < 1150
    assert {(c, s) for c, s, _ in draws} == {(c, s) for c, subs in TAXONOMY.items() for s in subs}
    c, s, ops = draws[0]
    ops.append("mutated")
    assert "mutated" not in TAXONOMY[c][s]  # callers get a copy
    assert all(sample_subcategory(rng, "content")[0] == "content" for _ in range(50))
