#!/usr/bin/env bash
# Build the npm package reconcile-pg: npm/ with the reconcile binary inside
# (vendor/<platform>-<arch>/reconcile), its version taken from Cargo.toml, packed
# with `npm pack`. Nothing is downloaded when a user installs it.
#
#   scripts/npm-pack.sh [BINARY] [OUT_DIR]
#
# BINARY defaults to target/release/reconcile (built with `cargo build --release`
# when absent); OUT_DIR to target/npm. Prints the path of the .tgz it wrote.
# Only linux-x64 is built today; another platform is one more vendor/ directory.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-}
out=${2:-target/npm}
if [ -z "$binary" ]; then
  binary=target/release/reconcile
  [ -x "$binary" ] || cargo build --release --quiet --bin reconcile
fi
[ -x "$binary" ] || { echo "npm-pack: $binary is not an executable" >&2; exit 2; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  *) echo "npm-pack: only linux-x64 is packaged so far (this is $(uname -s)-$(uname -m))" >&2; exit 2 ;;
esac
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r npm/. "$stage/"
mkdir -p "$stage/vendor/$platform"
cp "$binary" "$stage/vendor/$platform/reconcile"
chmod 755 "$stage/vendor/$platform/reconcile" "$stage/bin/reconcile.js"
# The version in package.json is Cargo.toml's, so `npx reconcile --version` and npm agree.
node -e '
  const fs = require("fs"); const f = process.argv[1];
  const p = JSON.parse(fs.readFileSync(f, "utf8")); p.version = process.argv[2];
  fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");
' "$stage/package.json" "$version"
mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null)
echo "$out/reconcile-pg-$version.tgz"
