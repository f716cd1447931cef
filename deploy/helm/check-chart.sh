#!/bin/bash
# Renders the Helm chart without helm and checks the result (npm run check:chart).
#
# There is no helm binary or cluster here, so deploy/helm/render (Go: text/template +
# sprig + Helm's own functions) stands in for `helm template`. The script:
#   1. installs the Debian packages it needs when missing (golang-go, sprig, yaml.v3);
#   2. builds the renderer offline against /usr/share/gocode (GOPATH mode) and runs its
#      tests (go test: the Helm behaviours the checks rely on);
#   3. renders the default values and ci/five-replicas-values.yaml, plus a differently
#      named release, and checks each (`zaqar-chart check`: YAML validity, resources,
#      ports, probes, volume claims, peers, node ids, PodDisruptionBudget, security),
#      and that scaling leaves the pod template unchanged;
#   4. checks that invalid values are refused with a message naming the value;
#   5. renders NOTES.txt and checks values.yaml/README.md documentation.
# Ends with "check-chart: N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$ROOT/deploy/helm/zaqar-ts"
cd "$ROOT"
started=$SECONDS
passed=0
failed=0

say() { echo "check-chart: $*"; }

# --- 1. Debian packages ---------------------------------------------------------
PKGS=(golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
  say "Debian packages present: ${PKGS[*]}"
else
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  say "installing ${missing[*]} (apt-get update, then apt-get install)"
  # Another apt run may hold the dpkg lock (other checks install packages too): wait for it.
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
    --no-install-recommends "${missing[@]}" >/dev/null
  say "installed ${missing[*]}"
fi

# --- 2. Build the renderer --------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/zaqar-chart.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/go-build}"
say "building deploy/helm/render with $(go version | cut -d' ' -f3) against $GOPATH/src (GO111MODULE=off)"
unformatted="$(cd deploy/helm/render && gofmt -l .)"
if [ -n "$unformatted" ]; then say "gofmt would change: $unformatted" >&2; exit 1; fi
(cd deploy/helm/render && go vet . && go build -o "$WORK/zaqar-chart" .)
BIN="$WORK/zaqar-chart"
# The renderer's own tests pin the Helm behaviours the checks rely on.
if (cd deploy/helm/render && go test -count=1 . >"$WORK/go-test.log" 2>&1); then
  say "  ok    renderer tests (go test): $(grep -c '^func Test' deploy/helm/render/render_test.go) tests"
  passed=$((passed + 1))
else
  cat "$WORK/go-test.log"; say "  FAIL  renderer tests (go test)"; failed=$((failed + 1))
fi

# run_check LABEL RENDER-ARGS -- CHECK-ARGS: renders, prints the checks, counts them.
run_check() {
  local label="$1"; shift
  local render_args=() check_args=()
  while [ "$1" != "--" ]; do render_args+=("$1"); shift; done
  shift
  check_args=("$@")
  local out="$WORK/$label.yaml"
  say "render $label: zaqar-chart render ${render_args[*]}"
  if ! "$BIN" render -chart "$CHART" "${render_args[@]}" >"$out"; then
    say "FAIL: $label does not render"; failed=$((failed + 1)); return
  fi
  say "$label: $(grep -c '^kind:' "$out") documents; checking"
  local log="$WORK/$label.log"
  "$BIN" check -rendered "$out" -label "$label" -dockerfile "$ROOT/Dockerfile" "${check_args[@]}" >"$log" 2>&1 || true
  cat "$log"
  count_from "$log" "$label"
}

# count_from LOG LABEL: adds the "LABEL: N passed, M failed" totals; no line = failure.
count_from() {
  local line
  line="$(grep -E "^$2: [0-9]+ passed, [0-9]+ failed$" "$1" | tail -n1 || true)"
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.*, ([0-9]+) failed/\1/')))
}

# expect_refused NAME MESSAGE RENDER-ARGS...: rendering must fail and name the problem.
expect_refused() {
  local name="$1" message="$2"; shift 2
  local err="$WORK/refused.err"
  if "$BIN" render -chart "$CHART" "$@" >/dev/null 2>"$err"; then
    say "  FAIL  refuses $name: rendered without error"; failed=$((failed + 1))
  elif grep -qF -- "$message" "$err"; then
    say "  ok    refuses $name"; passed=$((passed + 1))
  else
    say "  FAIL  refuses $name: error does not mention \"$message\": $(cat "$err")"; failed=$((failed + 1))
  fi
}

# --- 3. Render and check value sets ---------------------------------------------
five_node_args="--single-threaded-gc --stack-trace-limit=50" # ci/five-replicas-values.yaml's server.nodeArgs
run_check default -- -replicas 3 -max-unavailable 1
run_check five-replicas -f "$CHART/ci/five-replicas-values.yaml" -- \
  -replicas 5 -max-unavailable 2 -service-monitor -node-args="$five_node_args"
# Five nodes, three replicas per shard, a cluster created with three nodes and scaled out
# to five: peers and initial members stay nodes 1-3; two lost pods could be two of one
# shard's three replicas.
run_check five-nodes-three-replicas -f "$CHART/ci/five-replicas-values.yaml" \
  --set cluster.shardReplicas=3 --set cluster.initialNodes=3 -- \
  -replicas 5 -initial-nodes 3 -max-unavailable 1 -service-monitor -node-args="$five_node_args"
# An even group (4 of 4): a majority of 4 is 3, so only one pod may go.
run_check named-release -name zaqar-ts -namespace queues --set replicaCount=4 --set cluster.shardReplicas=4 \
  --set cluster.initialNodes=4 -- -name zaqar-ts -namespace queues -replicas 4 -max-unavailable 1

# Scaling must not roll the running pods: the pod template may not depend on replicaCount.
pod_template() {
  "$BIN" render -chart "$CHART" "$@" |
    awk '/^kind: StatefulSet/{s=1} s&&/^  template:/{p=1} s&&/^  volumeClaimTemplates:/{p=0;s=0} p'
}
if pod_template >"$WORK/pods-3.yaml" && pod_template --set replicaCount=5 >"$WORK/pods-5.yaml" &&
  [ -s "$WORK/pods-3.yaml" ] && cmp -s "$WORK/pods-3.yaml" "$WORK/pods-5.yaml"; then
  say "  ok    scaling 3 -> 5 leaves the pod template unchanged (no roll)"; passed=$((passed + 1))
else
  diff "$WORK/pods-3.yaml" "$WORK/pods-5.yaml" || true
  say "  FAIL  scaling 3 -> 5 changes the pod template (the running pods would roll)"; failed=$((failed + 1))
fi

# --- 4. Invalid values are refused ------------------------------------------------
say "invalid values"
expect_refused "more replicas per shard than nodes" "cluster.shardReplicas (5) must not exceed replicaCount (3)" \
  --set cluster.shardReplicas=5
expect_refused "zero nodes" "replicaCount must be at least 1" --set replicaCount=0
expect_refused "no initial nodes (a release from before cluster.initialNodes)" "cluster.initialNodes must be at least 1" \
  --set cluster.initialNodes=0
expect_refused "more initial nodes than pods" "cluster.initialNodes (3) must not exceed replicaCount (2)" \
  --set replicaCount=2 --set cluster.shardReplicas=2
expect_refused "more replicas per shard than initial nodes" "cluster.shardReplicas (5) must not exceed cluster.initialNodes (3)" \
  --set replicaCount=5 --set cluster.shardReplicas=5
expect_refused "an unknown podAntiAffinity" "podAntiAffinity must be soft, hard or none" --set podAntiAffinity=always
expect_refused "the API and Raft on one port" "server.port and server.raftPort must differ" --set server.raftPort=8888
printf 'server:\n  nodeArgs: ["max-old-space-size=512"]\n' >"$WORK/node-args-bare.yaml"
expect_refused "a node flag without its dashes" "server.nodeArgs: each must be one node flag" -f "$WORK/node-args-bare.yaml"
printf 'server:\n  nodeArgs: ["--title=x'"'"'; rm -rf /data; '"'"'"]\n' >"$WORK/node-args-quote.yaml"
expect_refused "a node flag that would break out of its quotes" "server.nodeArgs: each must be one node flag" -f "$WORK/node-args-quote.yaml"

# --- 5. NOTES.txt and documentation -----------------------------------------------
say "NOTES.txt and docs"
notes="$("$BIN" render -chart "$CHART" -notes 2>&1 || true)"
if grep -q 'rollout status statefulset/zaqar-zaqar-ts' <<<"$notes"; then
  say "  ok    NOTES.txt renders"; passed=$((passed + 1))
else
  say "  FAIL  NOTES.txt renders: $notes"; failed=$((failed + 1))
fi
"$BIN" check-docs -chart "$CHART" >"$WORK/docs.log" 2>&1 || true
cat "$WORK/docs.log"
count_from "$WORK/docs.log" docs

say "finished in $((SECONDS - started)) s"
echo "check-chart: $passed passed, $failed failed"
[ "$failed" = 0 ]
