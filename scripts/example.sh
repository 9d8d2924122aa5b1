#!/usr/bin/env bash
# The main job on the example schema: plan, then apply, then plan again (empty).
# Uses DATABASE_URL when set; otherwise starts a throwaway local PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin reconcile
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export R="$target_dir/debug/reconcile"
exec scripts/with-postgres.sh bash -c '
  set -e
  echo "== reconcile plan"; "$R" plan --schema schema
  echo; echo "== reconcile apply"; "$R" apply --schema schema
  echo; echo "== reconcile plan (again)"; "$R" plan --schema schema --detailed-exitcode
  echo; echo "== reconcile history"; "$R" history --limit 3
'
