#!/usr/bin/env bash
# Mutation testing of the safety-critical code with cargo-mutants: each
# mutant (a `&&` made `||`, a function that returns a default, ...) is built
# and the tests that cover its file are run; a mutant that no test notices
# ("missed") is a promise without a test. Not run in CI: it takes an hour or
# more on two cores.
#
#   scripts/mutants.sh                 # every group below
#   scripts/mutants.sh apply names     # some of them
#
# Groups (file, functions, tests run):
#   apply    src/apply/mod.rs: what takes the locks, sets the timeouts, runs,
#            verifies and records (the error texts, the pooler probe and the
#            blocker lookup are left out: tests/it/connect.rs covers the probe
#            through PgBouncer)                 lib + it: apply online history security serve
#   names    src/model/names.rs quoting (quote_*, printed_literal)   lib + it: quoting
#   admin    src/surfaces/admin.rs token check                 lib + it: serve
#   rules    src/plan/rules/*.rs                           lib + it: check cases
#   history  src/catalog/history.rs                           lib + it: history apply online
#
# DATABASE_URL: the server the tests use; unset, scripts/with-postgres.sh
# starts a throwaway one. MUTANTS_JOBS (default 1): mutants built and tested
# at once, each in a copy of the tree; MUTANTS_IN_PLACE=1: in this tree, one
# at a time (see run_group). cargo-mutants is installed from crates.io when missing. Reports:
# mutants.out/<group>/ (outcomes.json, missed.txt, caught.txt, unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  cargo install cargo-mutants --locked
fi
if [ -z "${DATABASE_URL:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(apply names admin rules history)

run_group() {
  local group=$1
  shift
  echo "== $group"
  mkdir -p "mutants.out/$group"
  # Exit 2 (missed mutants) and 3 (timeouts) are reported below; any other
  # failure (the tests fail without a mutant, a bad argument) stops here.
  # In copies of the tree (the default), each built from scratch; with
  # MUTANTS_IN_PLACE=1 the mutants are made in this tree itself, one at a
  # time, and built incrementally: faster, for a clone or worktree of its own
  # that nobody edits meanwhile.
  local how=(-j "${MUTANTS_JOBS:-1}")
  [ -n "${MUTANTS_IN_PLACE:-}" ] && how=(--in-place)
  local code=0
  cargo mutants --no-shuffle --cap-lints false "${how[@]}" --output "mutants.out/$group" "$@" || code=$?
  if [ "$code" != 0 ] && [ "$code" != 2 ] && [ "$code" != 3 ]; then
    echo "cargo mutants failed (exit $code)" >&2
    exit "$code"
  fi
  local out="mutants.out/$group/mutants.out"
  for k in caught missed timeout unviable; do
    local n=0
    [ -f "$out/$k.txt" ] && n=$(wc -l <"$out/$k.txt")
    printf '  %-9s %s\n' "$k" "$n"
  done
  if [ -s "$out/missed.txt" ]; then
    echo "  missed:"
    sed 's/^/    /' "$out/missed.txt"
  fi
}

for g in "${groups[@]}"; do
  case $g in
    apply) run_group apply -f src/apply/mod.rs \
      -F '^apply|in_transactions|take_transaction_lock|take_session_lock|LockWait|next_poll|locked_transaction|check_locked_plan|set_local_timeouts|interval|run_step|online|timeouts_sql|run_group|record_steps|with_retries|backoff|exit_code' \
      -- --lib --test it -- apply online history security serve ;;
    names) run_group names -f src/model/names.rs -F 'quote_' -F 'printed_literal' \
      -- --lib --test it -- names quoting ;;
    admin) run_group admin -f src/surfaces/admin.rs -F 'token' \
      -- --lib --test it -- admin serve ;;
    rules) run_group rules -f 'src/plan/rules/*.rs' \
      -- --lib --test it -- rules check cases ;;
    history) run_group history -f src/catalog/history.rs \
      -- --lib --test it -- history apply online ;;
    *) echo "unknown group: $g (apply, names, admin, rules, history)" >&2; exit 2 ;;
  esac
done
