#!/usr/bin/env python3
"""Deterministic content generator for the episodic-vs-Hugo benchmark.

Writes, under OUT:
  OUT/episodic/site.toml
  OUT/episodic/bench/series.toml
  OUT/episodic/bench/NNNNN-slug.md        (TOML front matter, ~1,500 words)
  OUT/hugo/hugo.toml
  OUT/hugo/layouts/{index.html,_default/single.html,_default/list.html,_default/rss.xml}
  OUT/hugo/content/bench/_index.md
  OUT/hugo/content/bench/NNNNN-slug.md    (same body, equivalent front matter)

Output is a pure function of --episodes and --seed (stdlib only, Python 3.11).
Each episode has its own RNG derived from (seed, index), so episode k is the
same whatever N is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys

DEFAULT_SEED = 20240101
BASE_DATE = dt.datetime(2000, 1, 3, 10, 0, 0)  # a Monday, 10:00 local (Asia/Seoul)
TARGET_WORDS = 1500

KOREAN = (
    "사랑 시간 하늘 바다 이야기 마음 세계 친구 학교 도시 여름 겨울 바람 노래 꿈 밤 "
    "아침 길 집 사람 눈물 웃음 기억 약속 비밀 여행 별 달 해 구름 비 눈 봄 가을 "
    "고양이 강아지 나무 꽃 숲 산 강 섬 마을 시장 기차 편지 사진 음악 영화 책 "
    "선생님 학생 가족 어머니 아버지 동생 언니 오빠 형 누나 그리고 하지만 그래서 "
    "정말 아주 조금 많이 다시 함께 혼자 오늘 내일 어제 지금 처음 마지막 우리 "
    "그녀 그는 모두 무엇 어디 언제 왜 어떻게 생각했다 말했다 보았다 들었다 "
    "걸었다 달렸다 기다렸다 웃었다 울었다 떠났다 돌아왔다 시작했다 끝났다"
).split()

SYLLABLES = (
    "ka ri to ne mo sa lu vi en or al is um et qua del pra sto mir nov tek zan "
    "bel cor dan fel gal hor jun kel lom mur nis pol quin ros sul tam ver wex yor"
).split()

ENGLISH = (
    "the and of to in that it was for on with as his her they at be this from "
    "had by not but what all were when we there can an your which their said if "
    "do will each about how up out them then she many some so these would other "
    "into has more two like time see way could people than first been who now "
    "find long down day did get come made may part over new sound take only "
    "little work know place year live me back give most very after thing our "
    "just name good sentence man think say great where help through much before "
    "line right too mean old any same tell boy follow came want show also around "
    "form three small set put end does another well large must big even such"
).split()

TAGS = (
    "drama comedy mystery romance action fantasy horror slice-of-life school "
    "adventure history scifi music sports cooking travel 일상 판타지 로맨스 "
    "미스터리 코미디 액션 학원 여행 음악 요리 역사 스포츠"
).split()

LANGS = ("rust", "python", "toml", "sh", "")

CODE_SNIPPETS = {
    "rust": [
        "fn main() {",
        "    let episodes: Vec<u32> = (1..=10).collect();",
        "    for n in &episodes {",
        '        println!("episode {n}");',
        "    }",
        "}",
    ],
    "python": [
        "def total(words):",
        "    return sum(len(w) for w in words)",
        "",
        'print(total(["a", "bb", "ccc"]))',
    ],
    "toml": [
        "[episode]",
        'title = "example"',
        "number = 42",
        'tags = ["x", "y"]',
    ],
    "sh": [
        "for f in *.md; do",
        '  wc -w "$f"',
        "done",
    ],
    "": [
        "plain preformatted text",
        "    with some indentation",
        "and <angle> & ampersand characters",
    ],
}


def build_vocab(rng: random.Random) -> list[str]:
    pseudo = set()
    while len(pseudo) < 1500:
        n = rng.choice((1, 2, 2, 3, 3, 4))
        pseudo.add("".join(rng.choice(SYLLABLES) for _ in range(n)))
    return sorted(pseudo)


class Episode:
    def __init__(self, index: int, seed: int, vocab: list[str]):
        self.index = index
        self.number = index + 1
        self.rng = random.Random(seed * 1_000_003 + index)
        self.vocab = vocab
        rng = self.rng
        tw = [rng.choice(vocab) for _ in range(rng.randint(1, 3))]
        # Mix a Korean word into about half of the titles.
        if rng.random() < 0.5:
            tw.insert(rng.randint(0, len(tw)), rng.choice(KOREAN))
        self.title = " ".join(w.capitalize() if w.isascii() else w for w in tw)
        slug_words = [w for w in tw if w.isascii()] or ["ep"]
        self.slug = "-".join(slug_words).lower()
        self.filename = f"{self.number:05d}-{self.slug}.md"
        self.date = BASE_DATE + dt.timedelta(days=7 * index)
        self.tags = sorted(rng.sample(TAGS, rng.randint(1, 3)))

    # --- body -------------------------------------------------------------
    def word(self) -> str:
        r = self.rng.random()
        if r < 0.25:
            return self.rng.choice(KOREAN)
        if r < 0.55:
            return self.rng.choice(ENGLISH)
        return self.rng.choice(self.vocab)

    def sentence(self) -> tuple[str, int]:
        rng = self.rng
        n = rng.randint(6, 18)
        words = [self.word() for _ in range(n)]
        if rng.random() < 0.2:
            i = rng.randrange(n)
            words[i] = f"*{words[i]}*"
        if rng.random() < 0.05:
            i = rng.randrange(n)
            words[i] = f"**{words[i]}**"
        if rng.random() < 0.04:
            i = rng.randrange(n)
            words[i] = f"`{words[i]}`"
        w0 = words[0]
        if w0.isascii() and w0[:1].isalpha():
            words[0] = w0[0].upper() + w0[1:]
        punct = rng.choice(".....?!")
        if rng.random() < 0.15 and n > 8:
            words[n // 2] += ","
        return " ".join(words) + punct, n

    def paragraph(self) -> tuple[str, int]:
        total = 0
        parts = []
        for _ in range(self.rng.randint(3, 7)):
            s, n = self.sentence()
            parts.append(s)
            total += n
        return " ".join(parts), total

    def body(self, prev: "Episode | None") -> str:
        rng = self.rng
        target = TARGET_WORDS + rng.randint(-100, 100)
        blocks: list[str] = []
        count = 0

        def para():
            nonlocal count
            p, n = self.paragraph()
            blocks.append(p)
            count += n

        para()
        if prev is not None:
            blocks.append(
                f"이전 화: [prev]({prev.filename}) — {prev.title}."
            )
            count += 4 + len(prev.title.split())
        para()

        heading_at = rng.randint(2, 4)
        list_at = heading_at + rng.randint(1, 3)
        code_at = heading_at + rng.randint(2, 6) if rng.random() < 0.3 else -1
        second_heading = rng.random() < 0.5

        i = 0
        while count < target:
            i += 1
            if i == heading_at:
                h = " ".join(self.word() for _ in range(rng.randint(2, 5)))
                blocks.append(f"## {h}")
                count += len(h.split())
            elif i == list_at:
                items = []
                for _ in range(rng.randint(3, 6)):
                    k = rng.randint(3, 10)
                    items.append("- " + " ".join(self.word() for _ in range(k)))
                    count += k
                blocks.append("\n".join(items))
            elif i == code_at:
                lang = rng.choice(LANGS)
                code = "\n".join(CODE_SNIPPETS[lang])
                blocks.append(f"```{lang}\n{code}\n```")
                count += len(code.split())
            elif second_heading and i == list_at + 4:
                h = " ".join(self.word() for _ in range(rng.randint(2, 4)))
                blocks.append(f"### {h}")
                count += len(h.split())
            else:
                para()
        return "\n\n".join(blocks) + "\n"


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_list(xs: list[str]) -> str:
    return "[" + ", ".join(toml_str(x) for x in xs) + "]"


HUGO_SINGLE = """<!doctype html>
<html lang="{{ .Site.LanguageCode }}">
<head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title></head>
<body>
<h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2006-01-02" }}</time>
{{ .Content }}
</body>
</html>
"""

HUGO_LIST = """<!doctype html>
<html lang="{{ .Site.LanguageCode }}">
<head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title></head>
<body>
<h1>{{ .Title }}</h1>
{{ .Content }}
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>
</body>
</html>
"""

HUGO_INDEX = """<!doctype html>
<html lang="{{ .Site.LanguageCode }}">
<head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body>
<h1>{{ .Title }}</h1>
{{ .Content }}
<ul>
{{ range .Site.Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> ({{ len .Pages }})</li>
{{ end }}</ul>
</body>
</html>
"""

# Hugo's built-in RSS template carries summaries only; episodic's feeds
# carry each episode's full HTML, so Hugo's does too here.
HUGO_RSS = """{{ printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0">
<channel>
<title>{{ .Title }} | {{ .Site.Title }}</title>
<link>{{ .Permalink }}</link>
<description>{{ .Title }}</description>
<language>{{ .Site.LanguageCode }}</language>
{{ range .Pages }}<item>
<title>{{ .Title }}</title>
<link>{{ .Permalink }}</link>
<guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<description>{{ .Content | html }}</description>
</item>
{{ end }}</channel>
</rss>
"""


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default="bench-content", help="output directory")
    ap.add_argument("--clean", action="store_true",
                    help="remove OUT/episodic and OUT/hugo first")
    args = ap.parse_args(argv)
    if args.episodes < 1 or args.episodes > 99999:
        ap.error("--episodes must be in 1..99999")

    out = args.out
    ep_root = os.path.join(out, "episodic")
    hugo_root = os.path.join(out, "hugo")
    if args.clean:
        shutil.rmtree(ep_root, ignore_errors=True)
        shutil.rmtree(hugo_root, ignore_errors=True)
    for d in (ep_root, hugo_root):
        if os.path.exists(d) and os.listdir(d):
            print(f"error: {d} exists and is not empty (use --clean)", file=sys.stderr)
            return 1

    ep_series = os.path.join(ep_root, "bench")
    hugo_content = os.path.join(hugo_root, "content", "bench")
    hugo_layouts = os.path.join(hugo_root, "layouts")
    for d in (ep_series, hugo_content, os.path.join(hugo_layouts, "_default")):
        os.makedirs(d, exist_ok=True)

    site_title = "Episodic Bench"
    write(os.path.join(ep_root, "site.toml"),
          f'title = {toml_str(site_title)}\n'
          'base_url = "https://example.com/"\n'
          'timezone = "Asia/Seoul"\n'
          'language = "ko"\n')
    write(os.path.join(ep_series, "series.toml"),
          'title = "Bench"\n'
          'title_format = "{number}화. {title}"\n')

    # Hugo: defaults kept (taxonomies, sitemap, robots off, ...), with the
    # outputs that match episodic's work spelled out: an HTML page per
    # episode (single.html), the series' list page (list.html) and its
    # full-content RSS, the home page and its RSS. buildFuture is needed
    # because episode dates run to ~2191 and episodic runs with --now 2200.
    write(os.path.join(hugo_root, "hugo.toml"),
          'baseURL = "https://example.com/"\n'
          f'title = {toml_str(site_title)}\n'
          'languageCode = "ko"\n'
          'defaultContentLanguage = "ko"\n'
          'timeZone = "Asia/Seoul"\n'
          'buildFuture = true\n'
          '\n[outputs]\n'
          'home = ["html", "rss"]\n'
          'section = ["html", "rss"]\n'
          'page = ["html"]\n')
    write(os.path.join(hugo_content, "_index.md"), '+++\ntitle = "Bench"\n+++\n')
    write(os.path.join(hugo_layouts, "_default", "single.html"), HUGO_SINGLE)
    write(os.path.join(hugo_layouts, "_default", "list.html"), HUGO_LIST)
    write(os.path.join(hugo_layouts, "_default", "rss.xml"), HUGO_RSS)
    write(os.path.join(hugo_layouts, "index.html"), HUGO_INDEX)

    vocab = build_vocab(random.Random(args.seed))
    prev = None
    total_words = 0
    for i in range(args.episodes):
        ep = Episode(i, args.seed, vocab)
        body = ep.body(prev)
        total_words += len(body.split())
        tags = toml_list(ep.tags)
        date = ep.date.strftime("%Y-%m-%dT%H:%M:%S")
        write(os.path.join(ep_series, ep.filename),
              f"+++\ntitle = {toml_str(ep.title)}\ndate = {date}\n"
              f"tags = {tags}\n+++\n\n{body}")
        # Hugo has no series title_format: bake the formatted title in so both
        # generators render the same visible title.
        htitle = f"{ep.number}화. {ep.title}"
        write(os.path.join(hugo_content, ep.filename),
              f"+++\ntitle = {toml_str(htitle)}\ndate = {date}+09:00\n"
              f"tags = {tags}\n+++\n\n{body}")
        prev = ep

    print(f"wrote {args.episodes} episodes to {ep_series} and {hugo_content} "
          f"(avg {total_words / args.episodes:.0f} words/episode)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
