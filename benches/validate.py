#!/usr/bin/env python3
"""Runs the W3C Feed Validator (w3c/feedvalidator) on every RSS and Atom
file of a built feeds/ folder, as the online validator does (compatibility
level "AA"), and prints every error and warning. Exit 1 if there is any.

Each file is validated with its own published URL (base_url + its path) as
the document's location, so `rel="self"` links are checked for real rather
than reported as SelfDoesntMatchLocation.

    python3 benches/validate.py FEEDVALIDATOR_SRC FEEDS_DIR BASE_URL

FEEDVALIDATOR_SRC is the `src` folder of a checkout of
https://github.com/w3c/feedvalidator (it needs `pip install html5lib lxml
rdflib`); benches/validate.sh builds the sample and the hostile fixture and
runs this on both.
"""
import os
import sys


def main():
    source, feeds, base = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, source)
    import feedvalidator
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter

    problems = 0
    checked = 0
    for folder, _, names in sorted(os.walk(feeds)):
        for name in sorted(names):
            if name not in ("rss.xml", "atom.xml"):
                continue
            path = os.path.join(folder, name)
            url = base + os.path.relpath(path, feeds).replace(os.sep, "/")
            with open(path, "rb") as stream:
                try:
                    events = feedvalidator.validateStream(stream, firstOccurrenceOnly=0, base=url)[
                        "loggedEvents"
                    ]
                except feedvalidator.logging.ValidationFailure as failure:
                    events = [failure.event]
            lines = Formatter(compatibility.AA(events))
            checked += 1
            status = "ok" if not lines else f"{len(lines)} problem(s)"
            print(f"{path}: {status}")
            for line in lines:
                print(f"    {line}")
            problems += len(lines)
    print(f"{checked} feed(s) validated, {problems} error(s) and warning(s)")
    sys.exit(1 if problems or not checked else 0)


if __name__ == "__main__":
    main()
