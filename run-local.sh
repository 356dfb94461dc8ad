#!/usr/bin/env bash
# Quickstart: the whole tunnel on this machine. Builds if needed, then runs a real Tomcat 11 with
# the proxy WAR, a demo backend (demo/DemoBackend.java) and the agent between them.
#
#   ./run-local.sh             PORT=9090 ./run-local.sh             ./run-local.sh --rebuild
#   ./run-local.sh --nodes 2   (two Tomcat nodes on 127.0.0.2 and 127.0.0.3 behind HAProxy on
#                               127.0.0.1; the agent attaches to both through one name)
#
# Everything lives in target/quickstart/ and is recreated on each run (fresh token and password).
# Ctrl-C stops exactly the processes this script started.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
PORT=${PORT:-8080}
STATS_PORT=${STATS_PORT:-8404}
WORK=$ROOT/target/quickstart
TOMCAT=$WORK/tomcat
WAR=$ROOT/proxy-war/target/drawbridge.war
AGENT_JAR=$ROOT/agent-jar/target/drawbridge-agent.jar
TOMCAT_VERSION=$(sed -n 's:.*<tomcat.version>\(.*\)</tomcat.version>.*:\1:p' pom.xml)
NODES_NAME=drawbridge-nodes.localhost
STARTED_PIDS=()
REBUILD=false
NODES=1

fail() { echo "run-local: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) REBUILD=true ;;
    --nodes)
      [ $# -ge 2 ] || fail "--nodes needs a number, e.g. --nodes 2"
      NODES=$2
      shift ;;
    --nodes=*) NODES=${1#--nodes=} ;;
    *) fail "unknown argument '$1'; use --rebuild and/or --nodes N" ;;
  esac
  shift
done
[[ "$NODES" =~ ^[1-9]$ ]] || fail "--nodes takes 1 to 9, got '$NODES'"

stop_started() {
  trap - INT TERM EXIT
  # Newest first: the agent drains, then the backend and Tomcat go.
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    kill "${STARTED_PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ ${#STARTED_PIDS[@]} -eq 0 ] || echo "Stopped."
}
trap stop_started INT TERM EXIT

# Waits up to $2 seconds for command $1 to succeed, failing early if process $3 died.
wait_for() {
  for _ in $(seq $(($2 * 5))); do
    if eval "$1"; then return 0; fi
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# The address node $1 (1, 2 ...) listens on: 127.0.0.1 alone, else 127.0.0.2, 127.0.0.3 ...
node_address() { if [ "$NODES" -eq 1 ]; then echo 127.0.0.1; else echo "127.0.0.$(($1 + 1))"; fi; }

in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

command -v curl >/dev/null || fail "needs curl to check that Tomcat is up."
if [ "$NODES" -gt 1 ]; then
  command -v haproxy >/dev/null \
    || fail "--nodes needs HAProxy as the load balancer; install it (Debian: apt-get install haproxy)"
  in_use 127.0.0.1 "$PORT" && fail "port $PORT is already in use; choose another with PORT=9090 ./run-local.sh --nodes $NODES"
  in_use 127.0.0.1 "$STATS_PORT" && fail "port $STATS_PORT (HAProxy's status page) is in use; choose another with STATS_PORT=9404"
fi
for n in $(seq "$NODES"); do
  if in_use "$(node_address "$n")" "$PORT"; then
    fail "port $PORT is already in use on $(node_address "$n"); choose another with PORT=9090 ./run-local.sh"
  fi
done

if [ "$REBUILD" = true ] || [ ! -f "$WAR" ] || [ ! -f "$AGENT_JAR" ]; then
  echo "Building (mvn -B -q -Dstyle.color=never -DskipTests package)..."
  mvn -B -q -Dstyle.color=never -DskipTests package
fi

rm -rf "$WORK"
mkdir -p "$WORK"
echo "Unpacking Tomcat $TOMCAT_VERSION..."
mvn -B -q -Dstyle.color=never -N dependency:copy -Dartifact="org.apache.tomcat:tomcat:$TOMCAT_VERSION:tar.gz" \
  -DoutputDirectory="$WORK" > "$WORK/fetch-tomcat.log" 2>&1 \
  || fail "could not fetch Tomcat $TOMCAT_VERSION from Maven Central; see $WORK/fetch-tomcat.log"
mkdir -p "$TOMCAT"
tar -xzf "$WORK/tomcat-$TOMCAT_VERSION.tar.gz" -C "$TOMCAT" --strip-components=1
# Tomcat's sample applications (docs, examples, manager, its welcome page) have no place here.
rm -rf "$TOMCAT/webapps" && mkdir "$TOMCAT/webapps"
# Overlay: the distribution's own conf (web.xml, context.xml...) stays, ours replaces what we ship.
# Its Catalina/localhost/ROOT.xml publishes $TOMCAT/drawbridge.war at the root.
cp -R "$ROOT/tomcat-conf/." "$TOMCAT/conf/"

# The agent gets the token; the proxy only ever sees its SHA-256.
NEW_TOKEN=$(java -jar "$AGENT_JAR" new-token)
TOKEN=$(sed -n 's/^token: //p' <<<"$NEW_TOKEN")
TOKEN_SHA256=$(sed -n 's/^agentTokenSha256: //p' <<<"$NEW_TOKEN")
TOKEN_FILE=$WORK/agent.token
(umask 077 && printf %s "$TOKEN" > "$TOKEN_FILE")
if [ "$NODES" -eq 1 ]; then
  CLUSTER_SETTINGS=""
else
  # Behind HAProxy on 127.0.0.1: believe its X-Forwarded-For, and leave it before draining.
  CLUSTER_SETTINGS=',
  "trustedProxies": ["127.0.0.1"],
  "drainDelaySeconds": 3'
fi
cat > "$TOMCAT/conf/drawbridge.json" <<JSON
{
  "backends": [ { "id": "default", "agentTokenSha256": ["$TOKEN_SHA256"] } ]$CLUSTER_SETTINGS
}
JSON

ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
(umask 077 && cat > "$TOMCAT/conf/tomcat-users.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by run-local.sh for this run only. -->
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="drawbridge-admin"/>
  <user username="admin" password="$ADMIN_PASSWORD" roles="drawbridge-admin"/>
</tomcat-users>
XML
)
cp "$WAR" "$TOMCAT/drawbridge.war"

# Starts Tomcat node $1 from its CATALINA_BASE $2 on its address and $PORT, logging to $3.
start_node() {
  local address
  address=$(node_address "$1")
  echo "Starting Tomcat on $address:$PORT..."
  # "catalina.sh run" execs java, so $! is Tomcat itself. No shutdown port (tomcat-conf's default):
  # we stop it by PID.
  CATALINA_HOME=$TOMCAT CATALINA_BASE=$2 \
    CATALINA_OPTS="-Ddrawbridge.http.address=$address -Ddrawbridge.http.port=$PORT" \
    "$TOMCAT/bin/catalina.sh" run > "$3" 2>&1 &
  NODE_PIDS+=("$!")
  STARTED_PIDS+=("$!")
}

NODE_PIDS=()
NODE_BASES=()
NODE_LOGS=()
if [ "$NODES" -eq 1 ]; then
  NODE_BASES+=("$TOMCAT")
  NODE_LOGS+=("$WORK/tomcat.log")
else
  # One CATALINA_BASE per node over the one Tomcat: the same conf and WAR, their own logs and work.
  for n in $(seq "$NODES"); do
    base=$WORK/node$n
    mkdir -p "$base/logs" "$base/temp" "$base/work" "$base/webapps"
    cp -R "$TOMCAT/conf" "$base/conf"
    cp "$TOMCAT/drawbridge.war" "$base/"
    NODE_BASES+=("$base")
    NODE_LOGS+=("$base/tomcat.log")
  done
fi
for n in $(seq "$NODES"); do
  start_node "$n" "${NODE_BASES[n - 1]}" "${NODE_LOGS[n - 1]}"
done

echo "Starting the demo backend..."
java "$ROOT/demo/DemoBackend.java" > "$WORK/demo-backend.log" 2>&1 &
DEMO_PID=$!
STARTED_PIDS+=("$DEMO_PID")
wait_for "grep -q 'listening on' '$WORK/demo-backend.log'" 60 "$DEMO_PID" \
  || fail "the demo backend did not start; see $WORK/demo-backend.log"
DEMO_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/demo-backend.log" | head -1)

for n in $(seq "$NODES"); do
  NODE_URL=http://$(node_address "$n"):$PORT
  wait_for "curl -sf -o /dev/null '$NODE_URL/_drawbridge/health'" 90 "${NODE_PIDS[n - 1]}" \
    || fail "the proxy at $NODE_URL did not become healthy; see ${NODE_LOGS[n - 1]} and ${NODE_BASES[n - 1]}/logs/drawbridge.log"
done
PROXY_URL=http://127.0.0.1:$PORT

echo "Starting the agent..."
# The JVM options the README gives the agent.
AGENT_JVM=(-XX:+UseSerialGC -Xms32m -Xmx256m -Xmn16m -XX:-TieredCompilation -XX:CICompilerCount=1 -XX:CompileThreshold=1000 -XX:TrimNativeHeapInterval=1000)
# A JDK older than 17.0.9 does not know the last option and would refuse to start with it.
if ! java -XX:TrimNativeHeapInterval=1000 -version > /dev/null 2>&1; then
  unset 'AGENT_JVM[${#AGENT_JVM[@]}-1]'
fi
if [ "$NODES" -eq 1 ]; then
  AGENT_PROXY=$PROXY_URL
else
  # One name for every node, as DNS would publish it: the agent attaches to each address.
  for n in $(seq "$NODES"); do echo "$(node_address "$n") $NODES_NAME"; done > "$WORK/hosts"
  AGENT_PROXY=http://$NODES_NAME:$PORT
  AGENT_JVM+=("-Djdk.net.hosts.file=$WORK/hosts")
fi
java "${AGENT_JVM[@]}" -jar "$AGENT_JAR" --proxy "$AGENT_PROXY" --target "$DEMO_URL" --backend default \
  --token-file "$TOKEN_FILE" > "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
STARTED_PIDS+=("$AGENT_PID")
wait_for "grep -q 'Connected to proxy' '$WORK/agent.log'" 60 "$AGENT_PID" \
  || fail "the agent did not connect; see $WORK/agent.log"

if [ "$NODES" -gt 1 ]; then
  for n in $(seq "$NODES"); do
    NODE_URL=http://$(node_address "$n"):$PORT
    wait_for "curl -sf -o /dev/null '$NODE_URL/_drawbridge/health/ready'" 60 "$AGENT_PID" \
      || fail "the agent did not attach to $NODE_URL; see $WORK/agent.log"
  done
  echo "Starting HAProxy on 127.0.0.1:$PORT..."
  cp "$ROOT/haproxy-conf/haproxy.cfg" "$WORK/haproxy.cfg"
  for n in $(seq "$NODES"); do
    echo "    server n$n $(node_address "$n"):$PORT check" >> "$WORK/haproxy.cfg"
  done
  LB_BIND=127.0.0.1:$PORT LB_STATS_BIND=127.0.0.1:$STATS_PORT LB_CHECK_INTERVAL=1s LB_CHECK_TIMEOUT=5s DRAWBRIDGE_PATH="" \
    haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  STARTED_PIDS+=("$HAPROXY_PID")
  # Up once HAProxy has seen every node ready twice (rise 2).
  wait_for "[ \$(curl -s 'http://127.0.0.1:$STATS_PORT/;csv' | grep -c '^drawbridge_nodes,n[0-9]*,.*,UP,') -eq $NODES ]" 60 "$HAPROXY_PID" \
    || fail "HAProxy did not see every node ready; see $WORK/haproxy.log"
  ANSWERED_BY=()
  for _ in $(seq $((NODES * 2))); do
    ANSWERED_BY+=("$(curl -sf -o /dev/null -D - "$PROXY_URL/" | tr -d '\r' | sed -n 's/^[Xx]-[Dd]rawbridge-[Nn]ode: //p')") \
      || fail "a request through HAProxy failed; see $WORK/haproxy.log"
  done
fi

# A few requests through the whole tunnel, so that a slow path shows at once. The first 13 warm up
# the connections and classes; the last 7 are timed. Every JVM is still cold then (a request takes
# several times as long as once the hot path is compiled), which the printed line says.
TIMES=()
for _ in $(seq 20); do
  TIMES+=("$(curl -sf -o /dev/null -w '%{time_total}' "$PROXY_URL/")") || fail "a request through the tunnel failed"
done
MEDIAN_MS=$(printf '%s\n' "${TIMES[@]:13}" | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] * 1000 }')

if [ "$NODES" -eq 1 ]; then
  cat <<INFO

Drawbridge is running.
  Public URL:   $PROXY_URL/
  Admin page:   $PROXY_URL/_drawbridge/admin/   (user admin, password $ADMIN_PASSWORD)
  Agent token:  $TOKEN   (also in $TOKEN_FILE)
  Demo backend: $DEMO_URL (reached only through the agent)
  Round trip:   $MEDIAN_MS ms through the tunnel (median of the last 7 of 20 requests to $PROXY_URL/,
                right after start, every JVM still cold; warm, the tunnel adds 0.5-2 ms)
  Logs:         $WORK/{tomcat,agent,demo-backend}.log and $TOMCAT/logs/drawbridge.log

Press Ctrl-C to stop
INFO
else
  echo
  echo "Drawbridge is running on $NODES nodes behind HAProxy."
  echo "  Public URL:   $PROXY_URL/   (HAProxy; its status page: http://127.0.0.1:$STATS_PORT/)"
  for n in $(seq "$NODES"); do
    echo "  Node n$n:      http://$(node_address "$n"):$PORT/_drawbridge/admin/   (user admin, password $ADMIN_PASSWORD)"
  done
  echo "  Agent:        attached to every node through $NODES_NAME (see $WORK/hosts and $WORK/agent.log)"
  echo "  Answered by:  ${ANSWERED_BY[*]}   ($((NODES * 2)) requests through HAProxy)"
  echo "  Round trip:   $MEDIAN_MS ms through HAProxy and the tunnel (median of the last 7 of 20 requests to $PROXY_URL/,"
  echo "                right after start, every JVM still cold; warm, the tunnel adds 0.5-2 ms)"
  echo "  Agent token:  $TOKEN   (also in $TOKEN_FILE)"
  echo "  Demo backend: $DEMO_URL (reached only through the agent)"
  echo "  Logs:         $WORK/{haproxy,agent,demo-backend}.log and $WORK/node*/{tomcat.log,logs/drawbridge.log}"
  echo
  echo "Take node n1 out without failing a request (readiness turns 503, HAProxy stops sending,"
  echo "then the node stops taking work and its requests in flight finish):"
  echo "  curl -u admin:$ADMIN_PASSWORD -X POST -H 'Drawbridge-Admin-Action: drain' \\"
  echo "      http://$(node_address 1):$PORT/_drawbridge/admin/api/drain"
  echo
  echo "Press Ctrl-C to stop"
fi

# Returns when any of them exits (or on Ctrl-C); the EXIT trap then stops the others.
wait -n "${STARTED_PIDS[@]}" || true
