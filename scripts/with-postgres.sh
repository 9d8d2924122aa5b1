#!/usr/bin/env bash
# Run a command with DATABASE_URL pointing at a PostgreSQL server.
# With DATABASE_URL already set, the command runs against that server.
# Without it, a throwaway cluster is made in a temp dir on a free port (as the
# `postgres` user when run as root, since initdb refuses root), and removed afterwards.
set -euo pipefail

if [ -n "${DATABASE_URL:-}" ]; then
  exec "$@"
fi

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi
  done
  echo "error: $1 not found: install PostgreSQL (Debian: apt-get install postgresql)" >&2
  exit 1
}
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)

dir=$(mktemp -d /tmp/reconcile-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
  "${as_pg[@]}" "$PG_CTL" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$INITDB" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "Started a throwaway PostgreSQL at $DATABASE_URL" >&2
"$@"
