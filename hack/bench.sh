#!/usr/bin/env bash
# bench.sh (make bench): measures the webhook against a bare net/http server and the tutorial's
# Node webhook, the engine and signature hot paths, the operator at scale on kwok, policy
# propagation, the webhook's memory (idle, loaded, under a flood of unsigned bodies) and the webhook
# of an app with 100 pages, and prints one table
# with each target and pass/miss.
#
# Environment: VEGETA (the pinned binary; the Makefile sets it), BENCH_PAGES (1000), BENCH_APPS (10: MessengerApps of the app phase),
# BENCH_STANDALONE (0 skips the scale part's phase of standalone pages), BENCH_FLOOR (0 skips the
# scale part's last phase: the app pages' required writes replayed with no operator and no webhook),
# BENCH_STEADY (60s), BENCH_DURATION of each load run (10s), BENCH_WORKERS (64),
# BENCH_ROUNDS of the throughput runs, bare and webhook alternating (2), BENCH_PEERS (a directory
# of outside peer tools: a Go module with cmd/fakegraph and cmd/barehttp, and webhook-vs-peers.sh
# comparing with the tutorial's Node webhook; not part of this repository. Without it the bench
# uses its own pieces, test/bench/loadkit, and skips the Node peer, saying so), BENCH_SKIP (space-separated parts: go ingest flood ha cpu peers app scale), BENCH_ONLY
# (run only these parts), BENCH_CPU_RATE (events/s of the CPU runs, 2000), BENCH_CPU_RUNS (5),
# BENCH_CPU_WEBHOOKS (space-separated LABEL=BINARY webhook builds to compare, run side by side;
# default: this tree's), BENCH_CPU_GRAPH_ARGS (flags of the shared fake Graph API in the CPU runs,
# e.g. "-fail 0.05" to answer 5 % of the calls with a transient error), BENCH_PROFILE (a file: the
# scale part writes a 30 s CPU profile of the kwok cluster's kube-apiserver, from the app pages'
# creates, for `go tool pprof`), BENCH_COUNT_WEBHOOKS=1 (the scale part counts the app webhooks'
# requests through a proxy of its own, whose CPU time is on the same cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
VEGETA=${VEGETA:?set VEGETA to the vegeta binary (make bench does)}
pages=${BENCH_PAGES:-1000}
steady=${BENCH_STEADY:-60s}
dur=${BENCH_DURATION:-10s}
workers=${BENCH_WORKERS:-64}
rounds=${BENCH_ROUNDS:-2}
peers_dir=${BENCH_PEERS:-}
skip=" ${BENCH_SKIP:-} "
only=" ${BENCH_ONLY:-} "
cpu_rate=${BENCH_CPU_RATE:-2000}
cpu_runs=${BENCH_CPU_RUNS:-5}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
rows=$tmp/rows notes=$tmp/notes
touch "$rows" "$notes"
row() { printf 'ROW|%s|%s|%s|%s|%s\n' "$@" >>"$rows"; }
say() { echo "bench: $*" >&2; }
# pass/miss for a numeric comparison done by awk: passmiss "<a> >= <b>"
passmiss() { awk "BEGIN { exit !($1) }" && echo pass || echo miss; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss_kib() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k/1024 }'; }

say "building"
mkdir -p "$tmp/bin"
go build -o "$tmp/bin/" ./cmd/webhook ./cmd/manager ./test/bench/loadkit
loadkit=$tmp/bin/loadkit
if [ -n "$peers_dir" ] && [ -f "$peers_dir/go.mod" ]; then
  tools="BENCH_PEERS ($peers_dir)"
  (cd "$peers_dir" && go build -o "$tmp/peers/" ./cmd/...)
  fakegraph() { exec "$tmp/peers/fakegraph" -listen "$@"; }
  barehttp() { exec "$tmp/peers/barehttp" -listen "$1"; }
else
  tools="own (test/bench/loadkit; ${peers_dir:-BENCH_PEERS not set})"
  fakegraph() { exec "$loadkit" graph -listen "$@"; }
  barehttp() { exec "$loadkit" bare -listen "$1"; }
fi

# manifests DIR GRAPH_URL [WELCOME]: the page the webhook serves in standalone mode. The fake
# Graph APIs answer thread_owner with app 1, so the page's app is 1 and the bot answers every
# first message.
manifests() {
  local welcome=${3:-'Welcome! The bot is in control. Tap \"Pass to Inbox\" to talk to a person.'}
  mkdir -p "$1"
  cat >"$1/page.yaml" <<EOF
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: acme, namespace: bench}
spec:
  pageID: "1000000000000001"
  appID: "1"
  secretRef: {name: acme-credentials}
  policyRef: {name: support}
  graphAPI:
    baseURL: $2
    maxSendsPerSecond: 0
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support, namespace: bench}
spec:
  welcome:
    text: "$welcome"
    quickReplies:
      - {title: Pass to Inbox, payload: pass_to_inbox}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-credentials, namespace: bench}
stringData: {pageAccessToken: bench-token, appSecret: appsecret, verifyToken: bench-verify}
EOF
}

waitready() { # URL
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  say "$1 not ready"; return 1
}

graph_messages() { # [ADDR]: the fake Graph API's count of Send API calls
  curl -s "http://${1:-$graph}/__stats" | sed -n 's/.*"POST messages":\([0-9]*\).*/\1/p'
}

# drain [ADDR]: wait until the fake Graph API's Send count stops moving (the webhook answers
# after the ack).
drain() {
  local last=-1 now
  for _ in $(seq 1 300); do
    now=$(graph_messages "${1:-}")
    [ "$now" = "$last" ] && return 0
    last=$now
    sleep 0.2
  done
}

# attack NAME TARGETS [RATE]: vegeta at fixed concurrency (rate 0) or at a fixed rate; prints
# "rps p50 p99 success% ok codes".
attack() {
  local name=$1 targets=$2 rate=${3:-0} args
  if [ "$rate" = 0 ]; then args=(-rate 0 -max-workers "$workers" -workers "$workers"); else args=(-rate "$rate/1s"); fi
  "$VEGETA" attack -format json -targets "$targets" "${args[@]}" -duration "$dur" -timeout 5s \
    | "$VEGETA" report -type json >"$tmp/$name.json"
  "$loadkit" summary <"$tmp/$name.json"
}

# timeouts LINE: the requests vegeta gave up on (status 0) in an attack's summary line.
timeouts() { echo "$1" | awk '{print $6}' | tr ',' '\n' | awk -F: '$1 == "0" {n = $2} END {print n + 0}'; }

go_benchmarks() {
  say "Go benchmarks"
  { go test -run '^$' -bench '^BenchmarkDecide(Text|Handover|Batch50)$' -benchmem -count 1 ./internal/handover
    go test -run '^$' -bench '^BenchmarkSignature$' -benchmem -count 1 ./internal/webhook/callback
    go test -run '^$' -bench '^BenchmarkIngest$' -benchmem -count 1 ./internal/webhook
  } >"$tmp/gobench.txt" 2>&1 || { cat "$tmp/gobench.txt" >&2; row "2 Go benchmarks" "go test -bench failed" "see output above" "" "miss"; return; }
  awk '/^Benchmark/ {
      name=$1; sub(/-[0-9]+$/, "", name); ns=""; allocs=""
      for (i=2; i<=NF; i++) { if ($i=="ns/op") ns=$(i-1); if ($i=="allocs/op") allocs=$(i-1) }
      printf "ROW|2 Go benchmarks|%s|%s ns/op, %s allocs/op||\n", name, ns, allocs
    }' "$tmp/gobench.txt" >>"$rows"
}

ingest() {
  say "webhook ingest (tools: $tools)"
  graph=127.0.0.1:$(freeport)
  local bare=127.0.0.1:$(freeport) hook=127.0.0.1:$(freeport) probe=127.0.0.1:$(freeport)
  fakegraph "$graph" >/dev/null 2>&1 & pids+=($!)
  barehttp "$bare" >/dev/null 2>&1 & pids+=($!)
  manifests "$tmp/manifests" "http://$graph"
  "$tmp/bin/webhook" --manifests "$tmp/manifests" --page bench/acme --listen "$hook" --probe-addr "$probe" \
    --log-level warn >"$tmp/webhook.log" 2>&1 & local wpid=$!; pids+=($wpid)
  waitready "http://$probe/readyz" || { cat "$tmp/webhook.log" >&2; return 1; }
  waitready "http://$graph/__stats"
  sleep 2
  local idle; idle=$(rss_kib "$wpid" VmRSS)

  # Distinct mids for every webhook attack (a repeated mid is a duplicate: no send).
  local per=$(( ${dur%s} * 30000 )) from=0
  "$loadkit" targets -n "$per" -url "http://$bare/webhook" >"$tmp/bare.targets"
  local best_bare=0 best_hook=0 r line sends0 sends1 ok
  local hook_ok=0 hook_sent=0 hook_lost=0 hook_line= bare_line=
  for r in $(seq 1 "$rounds"); do
    line=$(attack "bare$r" "$tmp/bare.targets"); say "bare    round $r: rps p50 p99 ok% n codes = $line"
    awk -v a="${line%% *}" -v b="$best_bare" 'BEGIN{exit !(a>b)}' && { best_bare=${line%% *}; bare_line=$line; }
    "$loadkit" targets -from "$from" -n "$per" -url "http://$hook/webhook" >"$tmp/hook.targets"; from=$((from + per))
    sends0=$(graph_messages)
    line=$(attack "hook$r" "$tmp/hook.targets"); say "webhook round $r: rps p50 p99 ok% n codes = $line"
    drain; sends1=$(graph_messages)
    ok=$(echo "$line" | awk '{print $5}')
    hook_ok=$((hook_ok + ok)); hook_sent=$((hook_sent + sends1 - sends0)); hook_lost=$((hook_lost + $(timeouts "$line")))
    awk -v a="${line%% *}" -v b="$best_hook" 'BEGIN{exit !(a>b)}' && { best_hook=${line%% *}; hook_line=$line; }
  done
  # The peak while (a) ran: (b) can meet a stall of the machine, with thousands of connections open.
  local loaded; loaded=$(rss_kib "$wpid" VmHWM)

  # (b) at half the webhook's best, alternating too; the best p99 of each (other tenants of the
  # machine only ever add latency).
  local rate=$(( best_hook / 2 )) fixed_hook= fixed_bare= n
  n=$(( rate * ${dur%s} + 1000 ))
  "$loadkit" targets -n "$n" -url "http://$bare/webhook" >"$tmp/bare.targets"
  for r in $(seq 1 "$rounds"); do
    "$loadkit" targets -from "$from" -n "$n" -url "http://$hook/webhook" >"$tmp/hook.targets"; from=$((from + n))
    sends0=$(graph_messages)
    line=$(attack "hookrate$r" "$tmp/hook.targets" "$rate"); say "webhook at $rate/s round $r: $line"
    drain; sends1=$(graph_messages)
    hook_ok=$((hook_ok + $(echo "$line" | awk '{print $5}'))); hook_sent=$((hook_sent + sends1 - sends0))
    hook_lost=$((hook_lost + $(timeouts "$line")))
    [ -z "$fixed_hook" ] || awk -v a="$(echo "$line" | awk '{print $3}')" -v b="$(echo "$fixed_hook" | awk '{print $3}')" 'BEGIN{exit !(a<b)}' && fixed_hook=$line
    line=$(attack "barerate$r" "$tmp/bare.targets" "$rate"); say "bare    at $rate/s round $r: $line"
    [ -z "$fixed_bare" ] || awk -v a="$(echo "$line" | awk '{print $3}')" -v b="$(echo "$fixed_bare" | awk '{print $3}')" 'BEGIN{exit !(a<b)}' && fixed_bare=$line
  done
  local peak; peak=$(rss_kib "$wpid" VmHWM)

  local s=1\ webhook\ ingest ratio
  ratio=$(awk -v a="$best_hook" -v b="$best_bare" 'BEGIN{printf "%.2f", a/b}')
  echo "ingest: signed text events from 1000 users, distinct mids, each answered with one Send API call to a local fake Graph API; page limiter off (spec.graphAPI.maxSendsPerSecond: 0); webhook in standalone mode; $(basename "$VEGETA"); (a) $workers workers, ${dur} runs alternating bare/webhook, best of $rounds; (b) ${dur} runs at half the webhook's (a), alternating, best p99 of $rounds; fake Graph API and bare server: $tools" >>"$notes"
  row "$s" "(a) bare net/http: max throughput" "$best_bare req/s (p50 $(echo "$bare_line" | awk '{print $2}') ms, p99 $(echo "$bare_line" | awk '{print $3}') ms)" "" ""
  row "$s" "(a) webhook: max throughput" "$best_hook req/s (p50 $(echo "$hook_line" | awk '{print $2}') ms, p99 $(echo "$hook_line" | awk '{print $3}') ms, codes $(echo "$hook_line" | awk '{print $6}'))" "" ""
  row "$s" "(a) webhook / bare" "${ratio}x" ">= 0.50x" "$(passmiss "$ratio >= 0.5")"
  row "$s" "(b) webhook at $rate req/s: p50 / p99" "$(echo "$fixed_hook" | awk '{printf "%s ms / %s ms (%s%% ok)", $2, $3, $4}')" "p99 <= 10 ms" "$(passmiss "$(echo "$fixed_hook" | awk '{print $3}') <= 10")"
  row "$s" "(b) bare at $rate req/s: p50 / p99" "$(echo "$fixed_bare" | awk '{printf "%s ms / %s ms", $2, $3}')" "" ""
  # An event vegeta gave up on (code 0, after 5 s) may still have been accepted and answered.
  row "$s" "Send API calls / events acknowledged (+ client timeouts)" "$hook_sent / $hook_ok (+ $hook_lost)" "one each" "$(passmiss "$hook_sent >= $hook_ok && $hook_sent <= $hook_ok + $hook_lost")"
  row "5 webhook memory" "webhook RSS idle" "$(mib "$idle") MiB" "<= 30 MiB" "$(passmiss "$idle <= 30*1024")"
  row "5 webhook memory" "webhook RSS under the load of (a) (peak, VmHWM)" "$(mib "$loaded") MiB" "<= 60 MiB" "$(passmiss "$loaded <= 60*1024")"
  row "5 webhook memory" "webhook RSS peak after (b) too" "$(mib "$peak") MiB" "" ""
  kill "$wpid" 2>/dev/null || true
}

# flood: the webhook's peak RSS while 200 clients post 1 MiB unsigned bodies in a loop (what anyone
# who can reach it may do) and Meta's signed events arrive at 200/s alongside; the webhook runs as
# in its pod (MEMORY_LIMIT 256 MiB: soft heap limit 192 MiB).
flood() {
  say "webhook under a flood of unsigned 1 MiB bodies"
  local g=127.0.0.1:$(freeport) hook=127.0.0.1:$(freeport) probe=127.0.0.1:$(freeport)
  fakegraph "$g" >/dev/null 2>&1 & pids+=($!)
  waitready "http://$g/__stats"
  manifests "$tmp/flood" "http://$g"
  MEMORY_LIMIT=268435456 "$tmp/bin/webhook" --manifests "$tmp/flood" --page bench/acme --listen "$hook" --probe-addr "$probe" \
    --log-level warn >"$tmp/flood.log" 2>&1 & local wpid=$!; pids+=($wpid)
  waitready "http://$probe/readyz" || { cat "$tmp/flood.log" >&2; return 1; }
  local n=$(( ${dur%s} * 200 + 200 ))
  "$loadkit" targets -from 900000000 -n "$n" -url "http://$hook/webhook" >"$tmp/flood.targets"
  "$loadkit" flood -url "http://$hook/webhook" -clients 200 -size 1048576 -duration "$dur" >"$tmp/flood.codes" & local fpid=$!
  local line; line=$(attack flood "$tmp/flood.targets" 200)
  wait "$fpid"
  drain "$g"
  local peak sent
  peak=$(rss_kib "$wpid" VmHWM)
  sent=$(graph_messages "$g")
  say "flood: unsigned answers $(cat "$tmp/flood.codes"); signed: $line; Send API calls $sent"
  echo "flood: 200 clients posting 1 MiB bodies with a wrong signature in a loop for $dur (loadkit flood), signed text events at 200/s alongside ($(basename "$VEGETA"), 5 s timeout; Meta retries a 503); webhook in standalone mode with MEMORY_LIMIT=256 MiB as in its pod" >>"$notes"
  row "6 webhook flood" "webhook RSS peak (VmHWM) during the flood" "$(mib "$peak") MiB" "<= 128 MiB" "$(passmiss "$peak <= 128*1024")"
  row "6 webhook flood" "unsigned bodies: answers by code" "$(cat "$tmp/flood.codes")" "" ""
  row "6 webhook flood" "signed events: 200 on the first try; Send API calls" "$(echo "$line" | awk '{printf "%s%% (%s of them)", $4, $5}'); $sent" ">= 90 %" "$(passmiss "$(echo "$line" | awk '{print $4}') >= 90")"
  kill "$wpid" 2>/dev/null || true
}

# cpu: the webhook's CPU time per event (utime+stime of its process, before and after each run,
# the answers drained) under a fixed-rate load, and the p99 of the acknowledgements. The builds of
# BENCH_CPU_WEBHOOKS run side by side, each with its own fake Graph API and its own load at the
# same rate at the same time, so that every run of one build meets the same machine as the
# others'; after a 3 s warm-up (threads known, profiles cached, connections open), BENCH_CPU_RUNS
# runs; the figures are medians. The welcome names the user ({{first_name}}), so every event also
# takes the profile cache's path.
cpu() {
  say "webhook CPU per event at $cpu_rate events/s (tools: $tools)"
  local hz; hz=$(getconf CLK_TCK)
  local -a labels=() urls=() wpids=() graphs=()
  local spec label bin g hook probe i
  for spec in ${BENCH_CPU_WEBHOOKS:-webhook=$tmp/bin/webhook}; do
    label=${spec%%=*} bin=${spec#*=}
    g=127.0.0.1:$(freeport) hook=127.0.0.1:$(freeport) probe=127.0.0.1:$(freeport)
    # shellcheck disable=SC2086 # BENCH_CPU_GRAPH_ARGS is a list of flags
    fakegraph "$g" ${BENCH_CPU_GRAPH_ARGS:-} >/dev/null 2>&1 & pids+=($!)
    waitready "http://$g/__stats"
    manifests "$tmp/cpu-$label" "http://$g" 'Hi {{first_name}}! The bot is in control. Tap \"Pass to Inbox\" to talk to a person.'
    "$bin" --manifests "$tmp/cpu-$label" --page bench/acme --listen "$hook" --probe-addr "$probe" \
      --log-level warn >"$tmp/cpu-$label.log" 2>&1 & wpids+=($!); pids+=($!)
    waitready "http://$probe/readyz" || { cat "$tmp/cpu-$label.log" >&2; return 1; }
    labels+=("$label") urls+=("http://$hook/webhook") graphs+=("$g")
  done
  local from=0
  # cpu_round NAME SECONDS: every build under its own load at once; prints per build
  # "label µs/event p99_ms acknowledged sends".
  cpu_round() {
    local name=$1 count=$(( cpu_rate * $2 )) i line ok
    local -a t0=() s0=() jobs=()
    for i in "${!labels[@]}"; do
      "$loadkit" targets -from "$from" -n "$count" -url "${urls[$i]}" >"$tmp/cpu-$i.targets"; from=$((from + count))
    done
    for i in "${!labels[@]}"; do
      s0[i]=$(graph_messages "${graphs[$i]}"); t0[i]=$(awk '{print $14 + $15}' "/proc/${wpids[$i]}/stat")
    done
    for i in "${!labels[@]}"; do
      "$VEGETA" attack -format json -targets "$tmp/cpu-$i.targets" -rate "$cpu_rate/1s" -duration "$2s" -timeout 5s \
        | "$VEGETA" report -type json >"$tmp/$name-$i.json" & jobs+=($!)
    done
    wait "${jobs[@]}"
    for i in "${!labels[@]}"; do drain "${graphs[$i]}"; done
    for i in "${!labels[@]}"; do
      line=$("$loadkit" summary <"$tmp/$name-$i.json"); ok=$(echo "$line" | awk '{print $5}')
      echo "${labels[$i]} $(awk -v d="$(( $(awk '{print $14 + $15}' "/proc/${wpids[$i]}/stat") - t0[i] ))" -v hz="$hz" -v n="$ok" \
        'BEGIN { printf "%.1f", d / hz * 1e6 / (n > 0 ? n : 1) }') $(echo "$line" | awk '{print $3}') $ok $(( $(graph_messages "${graphs[$i]}") - s0[i] ))"
    done
  }
  cpu_round cpuwarm 3 >/dev/null
  local r
  for r in $(seq 1 "$cpu_runs"); do
    cpu_round "cpu$r" "${dur%s}" >"$tmp/cpu.round" # not in a pipe: it moves $from
    cat "$tmp/cpu.round" >>"$tmp/cpu.runs"
    while read -r label us p99 _; do say "$label run $r: $us µs/event, p99 $p99 ms"; done <"$tmp/cpu.round"
  done
  local s="6 webhook CPU per event" base= med p99 runs ok
  for label in "${labels[@]}"; do
    # median: the middle of the sorted runs (the lower middle for an even count)
    med=$(awk -v l="$label" '$1 == l {print $2}' "$tmp/cpu.runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    p99=$(awk -v l="$label" '$1 == l {print $3}' "$tmp/cpu.runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    runs=$(awk -v l="$label" '$1 == l {printf "%s%s", sep, $2; sep=" "}' "$tmp/cpu.runs")
    ok=$(awk -v l="$label" '$1 == l {e += $4; s += $5} END {print s " / " e}' "$tmp/cpu.runs")
    row "$s" "$label: CPU per event at $cpu_rate/s (median of $cpu_runs)" "$med µs (runs: $runs)" "" ""
    row "$s" "$label: p99 at $cpu_rate/s (median of $cpu_runs)" "$p99 ms" "" ""
    if [ -n "${BENCH_CPU_GRAPH_ARGS:-}" ]; then
      row "$s" "$label: Send API calls, retries included / events acknowledged" "$ok" "" ""
    else
      row "$s" "$label: Send API calls / events acknowledged" "$ok" "one each" "$(passmiss "$(echo "$ok" | awk '{print ($1 == $3)}') == 1")"
    fi
    if [ -z "$base" ]; then base=$label; else
      # the median of the per-run ratios: each run's builds met the same machine
      med=$(paste <(awk -v l="$label" '$1 == l {print $2}' "$tmp/cpu.runs") <(awk -v l="$base" '$1 == l {print $2}' "$tmp/cpu.runs") \
        | awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
      row "$s" "$label / $base: CPU per event (median of the runs' ratios)" "${med}x" "" ""
    fi
  done
  echo "cpu: signed text events from 1000 users at $cpu_rate/s per build${BENCH_CPU_GRAPH_ARGS:+ (fake Graph API: $BENCH_CPU_GRAPH_ARGS)}, ${dur} runs, $cpu_runs of them after a 3 s warm-up; builds side by side (${labels[*]}), each with its own fake Graph API and load; the welcome names the user ({{first_name}}: a profile lookup, cached, per send); page limiter off; CPU = utime+stime of the webhook process (/proc/PID/stat, $hz Hz) from before a run to after its answers drained, per acknowledged event; p99 of the acknowledgements (vegeta); fake Graph API: $tools" >>"$notes"
  for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
}

peers() {
  local s=1\ webhook\ ingest
  if [ -z "$peers_dir" ]; then
    say "skipping the Node peer: set BENCH_PEERS to the directory of webhook-vs-peers.sh"
    row "$s" "vs the Node peer (webhook-vs-peers.sh)" "skipped: BENCH_PEERS not set" ">= 5x" "n/a"
    return
  fi
  if [ ! -f "$peers_dir/webhook-vs-peers.sh" ]; then
    say "skipping the Node peer: $peers_dir/webhook-vs-peers.sh not found"
    row "$s" "vs the Node peer (webhook-vs-peers.sh)" "skipped: $peers_dir/webhook-vs-peers.sh not found" ">= 5x" "n/a"
    return
  fi
  say "webhook-vs-peers.sh"
  manifests "$tmp/peer-manifests" "http://127.0.0.1:19999"
  local out
  if ! out=$(WEBHOOK_CMD="exec $tmp/bin/webhook --manifests $tmp/peer-manifests --page bench/acme --listen 127.0.0.1:19336 --probe-addr 127.0.0.1:$(freeport) --log-level warn" \
    VEGETA=$VEGETA bash "$peers_dir/webhook-vs-peers.sh" "$dur" "$workers" 2>&1); then
    echo "$out" >&2
    row "$s" "vs the Node peer (webhook-vs-peers.sh)" "the script failed (output above)" ">= 5x" "miss"
    return
  fi
  echo "$out" >&2
  local line
  while IFS= read -r line; do
    row "$s" "webhook-vs-peers.sh says" "$(echo "$line" | tr -s ' ' | tr '|' '/')" "" ""
  done < <(echo "$out" | grep -E '^(bare|node|project) ')
  local pn pb
  pn=$(echo "$out" | sed -n 's/.*project\/node=\([0-9.]*\).*/\1/p')
  pb=$(echo "$out" | sed -n 's/.*project\/bare=\([0-9.]*\).*/\1/p')
  row "$s" "webhook / Node peer (webhook-vs-peers.sh)" "${pn:-?}x" ">= 5x" "$(passmiss "${pn:-0} >= 5")"
  row "$s" "webhook / bare (webhook-vs-peers.sh)" "${pb:-?}x" ">= 0.50x" "$(passmiss "${pb:-0} >= 0.5")"
  row "$s" "graph calls (webhook-vs-peers.sh)" "$(echo "$out" | sed -n 's/^graph calls: //p')" "" ""
}

# app_manifests DIR GRAPH_URL N: an app (id 1, app secret "appsecret") and N pages with
# consecutive ids from 1000000000000001, each with its own Secret (its own page token), sharing
# one policy.
app_manifests() {
  mkdir -p "$1"
  {
    cat <<EOF
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerApp
metadata: {name: shop, namespace: bench}
spec:
  appID: "1"
  secretRef: {name: app-credentials}
  graphAPI: {baseURL: $2}
---
apiVersion: v1
kind: Secret
metadata: {name: app-credentials, namespace: bench}
stringData: {appSecret: appsecret, verifyToken: bench-verify}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support, namespace: bench}
spec:
  welcome:
    text: "Welcome! The bot is in control. Tap \"Pass to Inbox\" to talk to a person."
    quickReplies:
      - {title: Pass to Inbox, payload: pass_to_inbox}
EOF
    local i
    for i in $(seq 1 "$3"); do
      cat <<EOF
---
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: page-$i, namespace: bench}
spec:
  pageID: "$((1000000000000000 + i))"
  appRef: {name: shop}
  secretRef: {name: page-$i-credentials}
  policyRef: {name: support}
  graphAPI: {maxSendsPerSecond: 0}
---
apiVersion: v1
kind: Secret
metadata: {name: page-$i-credentials, namespace: bench}
stringData: {pageAccessToken: bench-token-$i}
EOF
    done
  } >"$1/app.yaml"
}

# app: the webhook of an app serving 100 pages (directory mode): its idle RSS, and its ingest
# throughput with the events spread over the 100 pages against all on one page, alternating; then
# the delay from creating a page of an app to its Served condition (test/bench/appjoin, envtest),
# the webhook alone, then with the operator in the loop.
app() {
  say "app webhook: 100 pages (tools: $tools)"
  local g=127.0.0.1:$(freeport) hook=127.0.0.1:$(freeport) probe=127.0.0.1:$(freeport) n=100
  fakegraph "$g" >/dev/null 2>&1 & pids+=($!)
  waitready "http://$g/__stats"
  app_manifests "$tmp/app" "http://$g" "$n"
  "$tmp/bin/webhook" --manifests "$tmp/app" --app bench/shop --listen "$hook" --probe-addr "$probe" \
    --log-level warn >"$tmp/app.log" 2>&1 & local wpid=$!; pids+=($wpid)
  waitready "http://$probe/readyz" || { cat "$tmp/app.log" >&2; return 1; }
  sleep 2
  local idle; idle=$(rss_kib "$wpid" VmRSS)
  local per=$(( ${dur%s} * 30000 )) from=0 r line spread
  local best_one=0 best_spread=0 one_line= spread_line= sends0 sends1 acked=0 sent=0 lost=0
  for r in $(seq 1 "$rounds"); do
    for spread in 1 "$n"; do
      "$loadkit" targets -from "$from" -n "$per" -pages "$spread" -url "http://$hook/webhook" >"$tmp/app.targets"; from=$((from + per))
      sends0=$(graph_messages "$g")
      line=$(attack "app$spread-$r" "$tmp/app.targets"); say "app, events over $spread page(s), round $r: rps p50 p99 ok% n codes = $line"
      drain "$g"; sends1=$(graph_messages "$g")
      acked=$((acked + $(echo "$line" | awk '{print $5}'))); sent=$((sent + sends1 - sends0)); lost=$((lost + $(timeouts "$line")))
      if [ "$spread" = 1 ]; then
        awk -v a="${line%% *}" -v b="$best_one" 'BEGIN{exit !(a>b)}' && { best_one=${line%% *}; one_line=$line; }
      else
        awk -v a="${line%% *}" -v b="$best_spread" 'BEGIN{exit !(a>b)}' && { best_spread=${line%% *}; spread_line=$line; }
      fi
    done
  done
  local s="7 app webhook" ratio
  ratio=$(awk -v a="$best_spread" -v b="$best_one" 'BEGIN{printf "%.2f", a/b}')
  echo "app: the webhook of one MessengerApp serving $n pages (each its own Secret and token) in directory mode; signed text events from 1000 users, distinct mids, each answered with one Send API call to a local fake Graph API; $workers workers, ${dur} runs, events on one page and spread over the $n pages alternating, best of $rounds; join delay: test/bench/appjoin (envtest API server, the webhook in-process in cluster mode, first alone with the admin's rights, then with the operator (./cmd/manager) granting each page's Secret in the app's Role and the webhook acting as the app's ServiceAccount)" >>"$notes"
  row "$s" "webhook RSS idle, serving $n pages" "$(mib "$idle") MiB" "<= 40 MiB" "$(passmiss "$idle <= 40*1024")"
  row "$s" "max throughput, events on one page" "$best_one req/s (p50 $(echo "$one_line" | awk '{print $2}') ms, p99 $(echo "$one_line" | awk '{print $3}') ms)" "" ""
  row "$s" "max throughput, events spread over $n pages" "$best_spread req/s (p50 $(echo "$spread_line" | awk '{print $2}') ms, p99 $(echo "$spread_line" | awk '{print $3}') ms)" "" ""
  row "$s" "spread over $n pages / one page" "${ratio}x" ">= 0.90x" "$(passmiss "$ratio >= 0.9")"
  row "$s" "Send API calls / events acknowledged (+ client timeouts)" "$sent / $acked (+ $lost)" "one each" "$(passmiss "$sent >= $acked && $sent <= $acked + $lost")"
  kill "$wpid" 2>/dev/null || true
  go build -o "$tmp/bin/appjoin" ./test/bench/appjoin
  if ! "$tmp/bin/appjoin" -manager "$tmp/bin/manager" >"$tmp/appjoin.out" 2>"$tmp/appjoin.err"; then
    cat "$tmp/appjoin.err" >&2
    row "$s" "test/bench/appjoin failed" "see output above" "" "miss"
    return
  fi
  grep '^ROW|' "$tmp/appjoin.out" >>"$rows"
}

scale() {
  say "operator scale on kwok: $pages pages, steady $steady (a few minutes)"
  go build -o "$tmp/bin/scale" ./test/bench/scale
  if ! "$tmp/bin/scale" -pages "$pages" -steady "$steady" -manager "$tmp/bin/manager" -webhook "$tmp/bin/webhook" >"$tmp/scale.out" 2>"$tmp/scale.err"; then
    cat "$tmp/scale.err" >&2
    row "3 operator scale" "test/bench/scale failed" "see output above" "" "miss"
    return
  fi
  grep -v '^ROW|' "$tmp/scale.err" >&2 || true
  grep '^ROW|' "$tmp/scale.out" >>"$rows"
  echo "scale: kwok cluster (kube-apiserver, etcd, kube-controller-manager, kube-scheduler from bin/k8s; --disable-qps-limits), $pages objects per phase in 10 namespaces (the app phase: $pages MessengerPages over ${BENCH_APPS:-10} MessengerApps, one per namespace, a webhook process per app in cluster mode standing in for its pod, acting as the app's ServiceAccount; each page's steps to Ready, as the bench's watch saw them, in its progress lines and one row); the operator (./cmd/manager, default flags) as a process whose API requests are counted by a proxy; propagation: ./cmd/webhook in cluster mode on the same cluster; last, with the operator and the app webhooks stopped, the floor: the app pages replayed in new namespaces by the bench alone (each page's Secret and page created, its Served and its operator status applied as the app phase ended them, 32 clients), the least API work the design needs, as a lower bound of the app pages' ratio" >>"$notes"
}

# ha: two webhook replicas sharing a redis-server (the Redis store: each delivery recorded in the
# journal before its 200), fed round-robin, against the bare net/http server in the same run.
ha() {
  say "two webhook replicas + Redis"
  command -v redis-server >/dev/null || { row "6 webhook replicas + Redis" "redis-server missing (apt-get install -y redis-server)" "" "" "miss"; return; }
  graph=127.0.0.1:$(freeport)
  local bare=127.0.0.1:$(freeport) rport; rport=$(freeport)
  mkdir -p "$tmp/redis"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$tmp/redis" --save "" --appendonly yes \
    --appendfsync always --loglevel warning >"$tmp/redis.log" 2>&1 & pids+=($!)
  fakegraph "$graph" >/dev/null 2>&1 & pids+=($!)
  barehttp "$bare" >/dev/null 2>&1 & pids+=($!)
  manifests "$tmp/hamanifests" "http://$graph"
  local hooks=() i h p
  for i in 1 2; do
    h=127.0.0.1:$(freeport) p=127.0.0.1:$(freeport)
    REDIS_URL="redis://127.0.0.1:$rport/0" REDIS_KEY_PREFIX="bench:{acme}:" "$tmp/bin/webhook" --manifests "$tmp/hamanifests" \
      --page bench/acme --replica-name "ha$i" --listen "$h" --probe-addr "$p" --log-level warn >"$tmp/ha$i.log" 2>&1 & pids+=($!)
    waitready "http://$p/readyz" || { cat "$tmp/ha$i.log" >&2; return 1; }
    hooks+=("$h")
  done
  waitready "http://$graph/__stats"
  # Round-robin: the targets of the two replicas, one line each in turn.
  hatargets() { # FROM N
    "$loadkit" targets -from "$1" -n "$2" -url "http://${hooks[0]}/webhook" >"$tmp/ha0.targets"
    "$loadkit" targets -from "$(( $1 + $2 ))" -n "$2" -url "http://${hooks[1]}/webhook" >"$tmp/ha1.targets"
    paste -d '\n' "$tmp/ha0.targets" "$tmp/ha1.targets" >"$tmp/ha.targets"
  }
  local per=$(( ${dur%s} * 15000 )) from=0 best_bare=0 best_hook=0 line r sends0 sends1 acked=0 sent=0 lost=0
  "$loadkit" targets -n "$(( 2 * per ))" -url "http://$bare/webhook" >"$tmp/bare.targets"
  for r in $(seq 1 "$rounds"); do
    line=$(attack "habare$r" "$tmp/bare.targets"); say "bare    round $r: $line"
    awk -v a="${line%% *}" -v b="$best_bare" 'BEGIN{exit !(a>b)}' && best_bare=${line%% *}
    hatargets "$from" "$per"; from=$(( from + 2 * per ))
    sends0=$(graph_messages)
    line=$(attack "hahook$r" "$tmp/ha.targets"); say "2 replicas + Redis round $r: $line"
    drain; sends1=$(graph_messages)
    acked=$(( acked + $(echo "$line" | awk '{print $5}') )); sent=$(( sent + sends1 - sends0 )); lost=$(( lost + $(timeouts "$line") ))
    awk -v a="${line%% *}" -v b="$best_hook" 'BEGIN{exit !(a>b)}' && best_hook=${line%% *}
  done
  local rate=$(( best_hook / 2 )) fixed= n
  n=$(( rate * ${dur%s} / 2 + 1000 ))
  for r in $(seq 1 "$rounds"); do
    hatargets "$from" "$n"; from=$(( from + 2 * n ))
    sends0=$(graph_messages)
    line=$(attack "harate$r" "$tmp/ha.targets" "$rate"); say "2 replicas + Redis at $rate/s round $r: $line"
    drain; sends1=$(graph_messages)
    acked=$(( acked + $(echo "$line" | awk '{print $5}') )); sent=$(( sent + sends1 - sends0 )); lost=$(( lost + $(timeouts "$line") ))
    [ -z "$fixed" ] || awk -v a="$(echo "$line" | awk '{print $3}')" -v b="$(echo "$fixed" | awk '{print $3}')" 'BEGIN{exit !(a<b)}' && fixed=$line
  done
  # (c) The same two processes with nothing shared (the memory store: not a valid setup for two
  # replicas, a ceiling): what any shared store can reach at most, in the same run.
  local mem=() best_mem=0
  for i in 1 2; do
    h=127.0.0.1:$(freeport) p=127.0.0.1:$(freeport)
    "$tmp/bin/webhook" --manifests "$tmp/hamanifests" --page bench/acme --replica-name "mem$i" --listen "$h" \
      --probe-addr "$p" --log-level warn >"$tmp/mem$i.log" 2>&1 & pids+=($!)
    waitready "http://$p/readyz" || { cat "$tmp/mem$i.log" >&2; return 1; }
    mem+=("$h")
  done
  for r in $(seq 1 "$rounds"); do
    "$loadkit" targets -from "$from" -n "$per" -url "http://${mem[0]}/webhook" >"$tmp/ha0.targets"
    "$loadkit" targets -from "$(( from + per ))" -n "$per" -url "http://${mem[1]}/webhook" >"$tmp/ha1.targets"
    paste -d '\n' "$tmp/ha0.targets" "$tmp/ha1.targets" >"$tmp/ha.targets"; from=$(( from + 2 * per ))
    line=$(attack "hamem$r" "$tmp/ha.targets"); say "2 replicas, memory store, round $r: $line"
    drain
    awk -v a="${line%% *}" -v b="$best_mem" 'BEGIN{exit !(a>b)}' && best_mem=${line%% *}
  done
  local s="6 webhook replicas + Redis" ratio
  ratio=$(awk -v a="$best_hook" -v b="$best_bare" 'BEGIN{printf "%.2f", a/b}')
  echo "replicas + Redis: the ingest load of part 1, round-robin over two webhook processes (standalone mode) sharing one redis-server (appendonly yes, appendfsync always) on the same machine; (a) $workers workers, best of $rounds against the bare server in the same run; (b) at half of (a), best p99 of $rounds; (c) as (a), two more processes of the same build on the memory store, sharing nothing" >>"$notes"
  row "$s" "(a) 2 replicas + Redis: max throughput" "$best_hook req/s (bare $best_bare req/s)" "" ""
  row "$s" "(a) 2 replicas + Redis / bare" "${ratio}x" ">= 0.35x" "$(passmiss "$ratio >= 0.35")"
  row "$s" "(b) at $rate req/s: p50 / p99" "$(echo "$fixed" | awk '{printf "%s ms / %s ms (%s%% ok)", $2, $3, $4}')" "p99 <= 25 ms" "$(passmiss "$(echo "$fixed" | awk '{print $3}') <= 25")"
  row "$s" "Send API calls / events acknowledged (+ client timeouts)" "$sent / $acked (+ $lost)" "one each" "$(passmiss "$sent >= $acked && $sent <= $acked + $lost")"
  row "$s" "(c) the same 2 processes sharing nothing (memory store; the ceiling of any shared store) / bare" \
    "$(awk -v a="$best_mem" -v b="$best_bare" 'BEGIN{printf "%.2fx (%d req/s)", a/b, a}')" "" ""
}

# A part that fails leaves a row saying so; the others still run.
for part in go_benchmarks ingest flood ha cpu peers app scale; do
  [[ $skip == *" ${part%%_*} "* ]] && continue
  [ "$only" = "  " ] || [[ $only == *" ${part%%_*} "* ]] || continue
  # In a subshell, which stops the servers it started when it ends.
  ( trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT; "$part" ) || row "$part" "failed (see the output above)" "" "" "miss"
done

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "messenger-operator performance — $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go env GOVERSION), $(date -u +%Y-%m-%dT%H:%MZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
sed 's/^/  /' "$notes"
echo
{
  echo "ROW|section|measure|figure|target|result"
  sort -s -t'|' -k2,2 "$rows"
} | cut -d'|' -f2- | column -t -s '|'
