#!/usr/bin/env bash
# docs/screenshots/review-pack-page1.png: the first page of the review pack for the composite scenario
# (tests/scenarios/relapse-cycle-review-pattern.yaml), loaded into a throwaway SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SAFETYNET_DATABASE_URL="sqlite:///$work/pack.db"
safetynet=.venv/bin/safetynet
"$safetynet" db upgrade >/dev/null
"$safetynet" scenario load tests/scenarios/relapse-cycle-review-pattern.yaml >/dev/null
"$safetynet" review-pack 9991001271 --from 2020-03-01 --to 2023-06-01 --out "$work/pack.pdf"
mkdir -p docs/screenshots
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$work/pack.pdf" docs/screenshots/review-pack-page1
echo "Wrote docs/screenshots/review-pack-page1.png"
