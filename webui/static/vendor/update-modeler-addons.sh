#!/bin/sh
# Vendor what the process modeler needs besides bpmn-js itself:
#
#   camunda-bpmn-moddle/camunda.json  the moddle descriptor that lets bpmn-js keep
#                                     camunda:formKey and camunda:properties in the XML
#   bpmnlint/bpmnlint.min.js          bpmnlint with its «recommended» rules, bundled once with
#                                     esbuild into one browser script (window.Kap12Lint)
#
# Usage: webui/static/vendor/update-modeler-addons.sh [BPMNLINT_SPEC] [CAMUNDA_MODDLE_SPEC]
#        (defaults: 11 and 8)
#
# Installs the packages into a temporary directory (nothing is installed in the project),
# builds, copies the results and the licences, and records exact versions, registry
# integrity and the sha256 of every file in each folder's MANIFEST.txt.
set -eu

LINT_SPEC="${1:-11}"
MODDLE_SPEC="${2:-8}"
ESBUILD_SPEC="0.28"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "bpmnlint@$LINT_SPEC" "camunda-bpmn-moddle@$MODDLE_SPEC" "esbuild@$ESBUILD_SPEC"
version() { node -p "require('$TMP/node_modules/$1/package.json').version"; }
LINT_VERSION="$(version bpmnlint)"
MODDLE_VERSION="$(version camunda-bpmn-moddle)"
ESBUILD_VERSION="$(version esbuild)"

# The entry point: a static resolver holding the recommended config and every rule it names.
node -e '
const rules = Object.keys(require("bpmnlint/config/recommended").rules);
const lines = ["const { Linter } = require(\"bpmnlint\");",
  "const StaticResolver = require(\"bpmnlint/lib/resolver/static-resolver\");",
  "const cache = { \"config:bpmnlint/recommended\": require(\"bpmnlint/config/recommended\") };"];
for (const r of rules) { lines.push(`cache["rule:bpmnlint/${r}"] = require("bpmnlint/rules/${r}");`); }
lines.push("const linter = new Linter({ config: { extends: \"bpmnlint:recommended\" }, resolver: new StaticResolver(cache) });");
lines.push("window.Kap12Lint = { version: \"'"$LINT_VERSION"'\", rules: " + JSON.stringify(rules) + ", lint: function (definitions) { return linter.lint(definitions); } };");
require("fs").writeFileSync("entry.js", lines.join("\n") + "\n");
'
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --target=es2019 \
    --legal-comments=eof --outfile=bpmnlint.min.js

LINT="$HERE/bpmnlint"
MODDLE="$HERE/camunda-bpmn-moddle"
rm -rf "$LINT" "$MODDLE"
mkdir -p "$LINT" "$MODDLE"
cp bpmnlint.min.js "$LINT/"
cp node_modules/bpmnlint/LICENSE "$LINT/LICENSE"
cp node_modules/camunda-bpmn-moddle/resources/camunda.json "$MODDLE/"
cp node_modules/camunda-bpmn-moddle/LICENSE "$MODDLE/LICENSE"
echo "$LINT_VERSION" > "$LINT/VERSION"
echo "$MODDLE_VERSION" > "$MODDLE/VERSION"

manifest() {  # folder, title, package, version, licence note
    {
        echo "$2 $4"
        echo "source: npm registry, $3@$4 ($(npm view "$3@$4" dist.integrity))"
        echo "fetched: $(date -u +%Y-%m-%dT%H:%M:%SZ) by webui/static/vendor/update-modeler-addons.sh"
        echo "licence: $5"
        [ "$3" = bpmnlint ] && echo "bundled with esbuild $ESBUILD_VERSION (rules: bpmnlint:recommended; bundled dependencies' licence comments at the end of the bundle)"
        echo
        echo "sha256 of copied files:"
        (cd "$1" && sha256sum $(ls | grep -v MANIFEST.txt))
    } > "$1/MANIFEST.txt"
}
manifest "$LINT" "bpmnlint (browser bundle)" bpmnlint "$LINT_VERSION" "MIT, see LICENSE"
manifest "$MODDLE" "camunda-bpmn-moddle descriptor" camunda-bpmn-moddle "$MODDLE_VERSION" "MIT, see LICENSE"
echo "vendored bpmnlint $LINT_VERSION and camunda-bpmn-moddle $MODDLE_VERSION"
