#!/usr/bin/env bash
# The main job on the example schema: plan, then apply, then plan again (empty).
# Uses DATABASE_URL when set; otherwise starts a throwaway local PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
exec scripts/with-postgres.sh bash -c '
  set -e
  echo "== reconcile plan"; target/debug/reconcile plan --schema schema
  echo; echo "== reconcile apply"; target/debug/reconcile apply --schema schema
  echo; echo "== reconcile plan (again)"; target/debug/reconcile plan --schema schema --detailed-exitcode
  echo; echo "== reconcile history"; target/debug/reconcile history --limit 3
'
