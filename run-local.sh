#!/usr/bin/env bash
# Quickstart: the whole tunnel on this machine. Builds if needed, then runs a real Tomcat 11 with
# the proxy WAR, a demo backend (demo/DemoBackend.java) and the agent between them.
#
#   ./run-local.sh             PORT=9090 ./run-local.sh             ./run-local.sh --rebuild
#
# Everything lives in target/quickstart/ and is recreated on each run (fresh token and password).
# Ctrl-C stops exactly the processes this script started.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
PORT=${PORT:-8080}
WORK=$ROOT/target/quickstart
TOMCAT=$WORK/tomcat
WAR=$ROOT/proxy-war/target/drawbridge.war
AGENT_JAR=$ROOT/agent-jar/target/drawbridge-agent.jar
TOMCAT_VERSION=$(sed -n 's:.*<tomcat.version>\(.*\)</tomcat.version>.*:\1:p' pom.xml)
STARTED_PIDS=()

fail() { echo "run-local: $*" >&2; exit 1; }

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

command -v curl >/dev/null || fail "needs curl to check that Tomcat is up."
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "port $PORT is already in use; choose another with PORT=9090 ./run-local.sh"
fi

if [ "${1:-}" = "--rebuild" ] || [ ! -f "$WAR" ] || [ ! -f "$AGENT_JAR" ]; then
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
cat > "$TOMCAT/conf/drawbridge.json" <<JSON
{
  "backends": [ { "id": "default", "agentTokenSha256": ["$TOKEN_SHA256"] } ]
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

echo "Starting Tomcat on 127.0.0.1:$PORT..."
# "catalina.sh run" execs java, so $! is Tomcat itself. No shutdown port (tomcat-conf's default):
# we stop it by PID.
CATALINA_HOME=$TOMCAT CATALINA_BASE=$TOMCAT \
  CATALINA_OPTS="-Ddrawbridge.http.address=127.0.0.1 -Ddrawbridge.http.port=$PORT" \
  "$TOMCAT/bin/catalina.sh" run > "$WORK/tomcat.log" 2>&1 &
TOMCAT_PID=$!
STARTED_PIDS+=("$TOMCAT_PID")

echo "Starting the demo backend..."
java "$ROOT/demo/DemoBackend.java" > "$WORK/demo-backend.log" 2>&1 &
DEMO_PID=$!
STARTED_PIDS+=("$DEMO_PID")
wait_for "grep -q 'listening on' '$WORK/demo-backend.log'" 60 "$DEMO_PID" \
  || fail "the demo backend did not start; see $WORK/demo-backend.log"
DEMO_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/demo-backend.log" | head -1)

PROXY_URL=http://127.0.0.1:$PORT
wait_for "curl -sf -o /dev/null '$PROXY_URL/_drawbridge/health'" 60 "$TOMCAT_PID" \
  || fail "the proxy did not become healthy; see $WORK/tomcat.log and $TOMCAT/logs/drawbridge.log"

echo "Starting the agent..."
java -jar "$AGENT_JAR" --proxy "$PROXY_URL" --target "$DEMO_URL" --backend default \
  --token-file "$TOKEN_FILE" > "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
STARTED_PIDS+=("$AGENT_PID")
wait_for "grep -q 'Connected to proxy' '$WORK/agent.log'" 60 "$AGENT_PID" \
  || fail "the agent did not connect; see $WORK/agent.log"

# A few requests through the whole tunnel, so that a slow path shows at once; the first warms up.
TIMES=()
for _ in 1 2 3 4 5 6 7 8; do
  TIMES+=("$(curl -sf -o /dev/null -w '%{time_total}' "$PROXY_URL/")") || fail "a request through the tunnel failed"
done
MEDIAN_MS=$(printf '%s\n' "${TIMES[@]:1}" | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] * 1000 }')

cat <<INFO

Drawbridge is running.
  Public URL:   $PROXY_URL/
  Admin page:   $PROXY_URL/_drawbridge/admin/   (user admin, password $ADMIN_PASSWORD)
  Agent token:  $TOKEN   (also in $TOKEN_FILE)
  Demo backend: $DEMO_URL (reached only through the agent)
  Round trip:   $MEDIAN_MS ms through the tunnel (median of 7 requests to $PROXY_URL/)
  Logs:         $WORK/{tomcat,agent,demo-backend}.log and $TOMCAT/logs/drawbridge.log

Press Ctrl-C to stop
INFO

# Returns when any of them exits (or on Ctrl-C); the EXIT trap then stops the others.
wait -n "${STARTED_PIDS[@]}" || true
