#!/bin/sh
# Vendor the browser bundles of bpmn-js into webui/static/vendor/bpmn-js/.
#
# Usage: webui/static/vendor/update-bpmn-js.sh [VERSION_SPEC]   (default: 18)
#
# Fetches the package with `npm pack` into a temporary directory (nothing is installed in the
# project), copies only the prebuilt browser bundles, the CSS and font assets and the licence,
# and records the exact version and the sha256 of every copied file in MANIFEST.txt.
set -eu

SPEC="${1:-18}"
HERE="$(cd "$(dirname "$0")" && pwd)"
DEST="$HERE/bpmn-js"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
TARBALL="$(npm pack --silent "bpmn-js@$SPEC" | tail -n 1)"
tar -xzf "$TARBALL"
PKG="$TMP/package"
VERSION="$(node -p "require('$PKG/package.json').version")"
INTEGRITY="$(npm view "bpmn-js@$VERSION" dist.integrity)"

FILES="
dist/bpmn-viewer.production.min.js
dist/bpmn-navigated-viewer.production.min.js
dist/bpmn-modeler.production.min.js
dist/assets/diagram-js.css
dist/assets/bpmn-js.css
dist/assets/bpmn-font/css/bpmn.css
dist/assets/bpmn-font/css/bpmn-codes.css
dist/assets/bpmn-font/css/bpmn-embedded.css
dist/assets/bpmn-font/font/bpmn.eot
dist/assets/bpmn-font/font/bpmn.svg
dist/assets/bpmn-font/font/bpmn.ttf
dist/assets/bpmn-font/font/bpmn.woff
dist/assets/bpmn-font/font/bpmn.woff2
LICENSE
"

rm -rf "$DEST"
mkdir -p "$DEST"
for f in $FILES; do
    if [ ! -f "$PKG/$f" ]; then
        echo "missing in bpmn-js@$VERSION: $f" >&2
        exit 1
    fi
    mkdir -p "$DEST/$(dirname "$f")"
    cp "$PKG/$f" "$DEST/$f"
done
echo "$VERSION" > "$DEST/VERSION"

{
    echo "bpmn-js $VERSION"
    echo "source: npm registry, $TARBALL ($INTEGRITY)"
    echo "fetched: $(date -u +%Y-%m-%dT%H:%M:%SZ) by webui/static/vendor/update-bpmn-js.sh"
    echo "licence: see LICENSE (bpmn.io license)"
    echo
    echo "sha256 of copied files:"
    cd "$DEST"
    for f in $FILES VERSION; do
        sha256sum "$f"
    done
} > "$DEST/MANIFEST.txt"

echo "vendored bpmn-js $VERSION into $DEST"
