#!/usr/bin/env bash
# Benchmark entry point: installs the load tools when missing, builds when needed, then runs
# bench/run.py (see --help). Everything runs on 127.0.0.1; each wrk run is bounded by --seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -x /usr/sbin/sshd ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light wrk openssh-server openssh-client
fi
if [ ! -f proxy-war/target/drawbridge.war ] || [ ! -f agent-jar/target/drawbridge-agent.jar ]; then
  mvn -B -q -Dstyle.color=never -DskipTests package
fi
exec python3 bench/run.py "$@"
