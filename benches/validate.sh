#!/usr/bin/env bash
# Builds the sample content and the hostile fixture (tests/fixtures/hostile)
# and runs the W3C Feed Validator on every RSS and Atom file of both:
# 0 errors and 0 warnings is the goal. Needs the validator's source (it
# clones https://github.com/w3c/feedvalidator unless FEEDVALIDATOR=DIR
# points at a checkout) and its Python packages (installed with pip).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

validator=${FEEDVALIDATOR:-}
if [[ -z "$validator" ]]; then
    validator="$work/feedvalidator"
    git clone --quiet --depth 1 https://github.com/w3c/feedvalidator "$validator"
fi
python3 -c 'import html5lib, lxml, rdflib' 2>/dev/null ||
    python3 -m pip install --quiet html5lib lxml rdflib

cargo build --release --quiet
now=2026-11-25T00:00:00Z
status=0
for content in content tests/fixtures/hostile; do
    out="$work/$(basename "$content")"
    echo "== $content"
    RUST_LOG=warn target/release/episodic build --content "$content" --out "$out" --now "$now"
    base=$(sed -n 's/^base_url *= *"\(.*\)"/\1/p' "$content/site.toml")
    python3 benches/validate.py "$validator/src" "$out" "$base" || status=1
done
exit $status
