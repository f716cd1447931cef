#!/usr/bin/env bash
# Zaqar v2 HTTP conformance through a follower of a 3-node zaqar-ts cluster on
# 127.0.0.1: starts three `zaqar-ts serve` processes (compiled dist/, run `npm run build`
# first) with the CI config, waits until every node answers, then sends every request
# (HTTP and WebSocket) to node 2, which leads some shards and forwards the others'
# writes. The exclusions are .ci/run's. Exits with the runner's status (0 only with 0 failed).
# NODES (default 3) and REPLICAS (default 3) change the cluster: with NODES=4 REPLICAS=3,
# node 2 hosts no replica of a quarter of the shards and serves them through their replicas.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="$(cd "$root/../shared" && pwd)"
cd "$root"

nodes="${NODES:-3}"
replicas="${REPLICAS:-3}"

# Every node's HTTP and cluster ports are fixed before any starts (each names the others in
# --peers), so they cannot be port 0. Bases stay below the kernel's ephemeral range (32768+
# here), where a client connection of an earlier step could hold a port, and a base is taken
# only if every port it implies can be bound now.
ports_bindable() {
  node -e '
    const net = require("node:net");
    const bind = (port) => new Promise((resolve, reject) => {
      const server = net.createServer().once("error", reject);
      server.listen(port, "127.0.0.1", () => server.close(resolve));
    });
    (async () => { for (const port of process.argv.slice(1)) await bind(Number(port)); })()
      .then(() => process.exit(0), () => process.exit(1));' "$@"
}
base_port="${BASE_PORT:-}"
for _ in $(seq 1 50); do
  [ -n "$base_port" ] && break
  candidate=$((20000 + RANDOM % 12000))
  ports=()
  for id in $(seq 1 "$nodes"); do ports+=($((candidate + id)) $((candidate + 10 + id))); done
  ports_bindable "${ports[@]}" && base_port="$candidate"
done
[ -n "$base_port" ] || { echo "no free range of ports found for $nodes nodes" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() {
  status=$?
  if [ "$status" != 0 ]; then
    # A failed run shows what each node said (its log is removed with the work dir).
    for id in $(seq 1 "$nodes"); do
      echo "--- node $id (last 40 lines)" >&2
      tail -n 40 "$work/node$id.log" >&2 2>/dev/null || true
    done
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

peers=""
for id in $(seq 1 "$nodes"); do peers="${peers:+$peers,}$id=127.0.0.1:$((base_port + 10 + id))"; done
for id in $(seq 1 "$nodes"); do
  node dist/src/cli.js serve --listen "127.0.0.1:$((base_port + id))" --data-dir "$work/node$id" \
    --node-id "$id" --peers "$peers" --replicas "$replicas" --config .ci/conformance-config.json >"$work/node$id.log" 2>&1 &
  pids+=("$!")
done

for id in $(seq 1 "$nodes"); do
  for _ in $(seq 1 300); do
    grep -q '^listening on ' "$work/node$id.log" && break
    sleep 0.1
  done
  grep -q '^listening on ' "$work/node$id.log" || { echo "node $id did not start:" >&2; cat "$work/node$id.log" >&2; exit 1; }
done

follower="http://127.0.0.1:$((base_port + 2))"
# Until every shard has a leader, writes wait (bounded) and could make the first tests slow.
for _ in $(seq 1 100); do
  curl -sf -o /dev/null -H 'X-Project-ID: warmup' -H 'Client-ID: 3381af92-2b9e-11e3-b191-71861300734c' \
    "$follower/v2/ping" && break
  sleep 0.1
done
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "a node exited before the run" >&2; exit 1; }
done

API=v2 \
EXCLUDE="${EXCLUDE:-TestTopicLifecycleMongoDB\.test_list_returns_503_on_nopoolfound_exception}" \
  bash "$shared/conformance/run-conformance.sh" "$follower" "${follower/http:/ws:}/"
