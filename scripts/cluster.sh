#!/usr/bin/env bash
# cluster.sh — the service topology of docker-compose.yml as plain processes on this machine:
# a throwaway PostgreSQL (or VOLCARD_TEST_DATABASE_URL's server), volcard bank-sim and platform-sim, and two
# volcard serve processes on 127.0.0.1:8081 and :8082 sharing the database and one data key.
# Clients spread over both (the proxy's job in the compose file). Ctrl-C stops everything.
# Logs and the first admin token are in $CLUSTER_DIR (default: a new temporary directory);
# CLUSTER_PORTS="8081 8082 18583 18586" sets the two serve ports, the bank simulator's and the
# platform simulator's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VOLCARD_TEST_DATABASE_URL:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

dir=${CLUSTER_DIR:-$(mktemp -d /tmp/volcard-cluster.XXXXXX)}
mkdir -p "$dir"
go build -o "$dir/volcard" ./cmd/volcard

# A database of its own on that server.
db="volcard_cluster_$$"
admin_url=$VOLCARD_TEST_DATABASE_URL
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
export VOLCARD_DATABASE_URL=${admin_url%/*}/$db?sslmode=disable
export VOLCARD_DATA_KEY=${VOLCARD_DATA_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
read -r port1 port2 bankport platformport <<<"${CLUSTER_PORTS:-8081 8082 18583 18586}"
platformport=${platformport:-18586}
export VOLCARD_BANK_ADDR=127.0.0.1:$bankport
# One platform simulator for both serve processes (each would otherwise
# embed its own, whose volunteer numbers clash).
export VOLCARD_PLATFORM_URL=http://127.0.0.1:$platformport
export VOLCARD_PLATFORM_TOKEN=${VOLCARD_PLATFORM_TOKEN:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export VOLCARD_LOG_FORMAT=text

pids=()
stop() {
  echo "cluster.sh: stopping" >&2
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap stop EXIT
trap 'exit 130' INT TERM

"$dir/volcard" bank-sim --listen "$VOLCARD_BANK_ADDR" \
  --product-bin GDRVBOC=621785,GDRVCEB=622660,MZVCCCB=621700,MZVCPSBC=628258 >"$dir/banksim.log" 2>&1 &
pids+=($!)
"$dir/volcard" platform-sim --listen "127.0.0.1:$platformport" >"$dir/platformsim.log" 2>&1 &
pids+=($!)

start() { # name port [serve flags]
  local name=$1 port=$2; shift 2
  VOLCARD_LISTEN=127.0.0.1:$port VOLCARD_DATA_DIR=$dir/$name "$dir/volcard" serve "$@" >"$dir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    if "$dir/volcard" healthcheck --url "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "cluster.sh: $name did not become ready; its log:" >&2; tail -20 "$dir/$name.log" >&2; exit 1
}
start serve1 "$port1" --seed-demo   # migrates, seeds the demo data, creates the first admin token
start serve2 "$port2"

echo "cluster.sh: ready — serve1 http://127.0.0.1:$port1, serve2 http://127.0.0.1:$port2 (pids ${pids[*]:1})"
echo "cluster.sh: admin token in $dir/serve1/admin.token; logs in $dir; Ctrl-C stops"
wait -n "${pids[@]}" || true
echo "cluster.sh: a process ended; see the logs in $dir" >&2
