#!/usr/bin/env bash
# Vendors the pinned front-end files from the npm registry: NHS.UK frontend (compiled CSS, JS, assets) and HTMX for the
# web app, axe-core for the accessibility tests. Rerun after changing a version; commit what it writes.
set -euo pipefail
NHSUK=10.6.1
HTMX=2.0.11
AXE=4.14.1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATIC="$ROOT/src/safetynet/web/static"
AXE_DIR="$ROOT/tests/web/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack -q "nhsuk-frontend@$NHSUK" "htmx.org@$HTMX" "axe-core@$AXE" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done

rm -rf "$STATIC/nhsuk" "$STATIC/htmx" && mkdir -p "$STATIC/nhsuk" "$STATIC/htmx" "$AXE_DIR"
N="nhsuk-frontend-$NHSUK/package"
cp "$N/dist/nhsuk/nhsuk-frontend.min.css" "$N/dist/nhsuk/nhsuk-frontend.min.js" "$STATIC/nhsuk/"
# The stylesheet's @font-face rules fetch Frutiger from https://assets.nhs.uk (a licensed font we may not host):
# drop them, so the pages ask nothing of another site and the CSP allows fonts from nowhere else (docs/security.md).
# The NHS.UK font stack falls back to Arial.
sed -E -i 's/@font-face\{[^}]*\}//g' "$STATIC/nhsuk/nhsuk-frontend.min.css"
cp -r "$N/dist/nhsuk/assets" "$STATIC/nhsuk/assets"
cp "$N/package.json" "$STATIC/nhsuk/package.json"
# The npm package carries no licence file; its package.json declares MIT (https://github.com/nhsuk/nhsuk-frontend).
cat > "$STATIC/nhsuk/LICENSE" <<'LICENCE'
nhsuk-frontend is published by NHS England under the MIT licence, as its package.json ("license": "MIT") and its
repository (https://github.com/nhsuk/nhsuk-frontend/blob/main/LICENSE) state. The npm package carries no licence file.

The MIT License (MIT)

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation the
rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit
persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the
Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
LICENCE
H="htmx.org-$HTMX/package"
cp "$H/dist/htmx.min.js" "$STATIC/htmx/"
cp "$H/LICENSE" "$STATIC/htmx/"
A="axe-core-$AXE/package"
cp "$A/axe.min.js" "$A/LICENSE" "$AXE_DIR/"
printf 'nhsuk-frontend %s\nhtmx.org %s\naxe-core %s\n' "$NHSUK" "$HTMX" "$AXE" > "$STATIC/VERSIONS"
echo "vendored: nhsuk-frontend $NHSUK, htmx.org $HTMX, axe-core $AXE"
