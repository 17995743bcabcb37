#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...] — run CMD with VOLCARD_TEST_DATABASE_URL pointing at a PostgreSQL server.
# If VOLCARD_TEST_DATABASE_URL is already set it is used as it is. Otherwise a throwaway cluster is made
# with Debian's initdb/pg_ctl in a temporary directory (fsync off, trust auth, loopback only), started on
# a free port, and removed when CMD ends, whatever its exit status.
set -euo pipefail

if [ -n "${VOLCARD_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "with-postgres.sh: PostgreSQL server binaries not found (apt-get install postgresql), or set VOLCARD_TEST_DATABASE_URL" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/volcard-pg.XXXXXX)
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root.
  chown postgres:postgres "$dir"
  run_as=(runuser -u postgres --)
fi

# A port below the kernel's ephemeral range (32768+ on Linux), where no outgoing connection holds it.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

cleanup() {
  "${run_as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# The port may be taken between the check and the start: try another, a few times.
port=""
for attempt in 1 2 3 4 5; do
  p=$(free_port) || { echo "with-postgres.sh: no free port found" >&2; exit 1; }
  if "${run_as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $p -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" \
    >/dev/null; then
    port=$p
    break
  fi
  if ! grep -q "Address already in use" "$dir/server.log" 2>/dev/null || [ "$attempt" -eq 5 ]; then
    cat "$dir/server.log" >&2
    exit 1
  fi
  echo "with-postgres.sh: port $p taken at start; trying another" >&2
  : >"$dir/server.log"
done

export VOLCARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres.sh: throwaway PostgreSQL on 127.0.0.1:$port ($dir)" >&2
set +e
"$@"
rc=$?
set -e
exit $rc
