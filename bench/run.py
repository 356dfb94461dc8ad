#!/usr/bin/env python3
"""Drawbridge benchmark: the same backend reached directly, through nginx as an ordinary reverse
proxy, through an OpenSSH reverse tunnel (a peer), and through Drawbridge (the WAR in a real Tomcat 11 configured from tomcat-conf/, plus the
agent jar), measured back to back in one run on 127.0.0.1. Prints a table with ratios.

Run it through bench/run.sh, which installs nginx and wrk when missing and builds the project.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = ROOT / "target" / "bench"
MIB = 1024 * 1024
# The agent's JVM options, as in the README's command; --agent-jvm measures others ("" for none,
# so that the JVM sizes its heap itself).
AGENT_JVM = ["-XX:+UseSerialGC", "-Xms32m", "-Xmx256m", "-Xmn16m", "-XX:-TieredCompilation", "-XX:CICompilerCount=1",
             "-XX:CompileThreshold=1000", "-XX:TrimNativeHeapInterval=1000"]
# Further agent flags (--agent-args); none by default, so the agent runs with its own defaults.
AGENT_ARGS = []
# Environment variables the agent runs with on top of this process's (--agent-env).
AGENT_ENV = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Every process the benchmark starts, so it ends exactly those, by PID."""

    def __init__(self):
        self.started = []

    def start(self, name, command, env=None):
        log = open(WORK / f"{name}.log", "w")
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=WORK)
        self.started.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.started):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(url, seconds, auth=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            request = urllib.request.Request(url)
            if auth:
                request.add_header("Authorization", auth)
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status < 500:
                    return response.read()
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {seconds} s; see {WORK}/*.log")


def write_nginx(name, port, body, upstreams=""):
    prefix = WORK / name
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
error_log {prefix}/logs/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  keepalive_requests 1000000;
{upstreams}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
{body}
  }}
}}
""")
    return ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]


def start_backend(procs, files, echo_port):
    port = free_port()
    ws_port = free_port()
    procs.start("echo-backend", ["java", str(BENCH / "EchoBackend.java"), str(echo_port)])
    procs.start("websocket-echo", ["java", str(BENCH / "WebSocketEcho.java"), str(ws_port)])
    procs.start("backend-nginx", write_nginx("backend-nginx", port, f"""
    location = /small {{ alias {files}/small.txt; }}
    location = /big {{ alias {files}/big.bin; }}
    location = /upload {{
      proxy_pass http://127.0.0.1:{echo_port}/sink;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }}
    location = /echo {{
      proxy_pass http://127.0.0.1:{echo_port};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
    location = /ws {{
      proxy_pass http://127.0.0.1:{ws_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 600s;
    }}"""))
    wait_for(f"http://127.0.0.1:{port}/small", 30)
    wait_for(f"http://127.0.0.1:{echo_port}/", 60)
    return port


def start_reverse_nginx(procs, backend_port):
    port = free_port()
    # An ordinary reverse proxy, tuned as an operator would: keep-alive upstream, 64k buffers,
    # buffering off so large bodies stream like they do through Drawbridge.
    procs.start("reverse-nginx", write_nginx("reverse-nginx", port, f"""
    location = /ws {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 600s;
    }}
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
    }}""", upstreams=f"""
  upstream backend {{
    server 127.0.0.1:{backend_port};
    keepalive 128;
  }}"""))
    wait_for(f"http://127.0.0.1:{port}/small", 30)
    return port


def start_ssh_tunnel(procs, backend_port):
    """A peer tunnel: an OpenSSH reverse tunnel (ssh -R) through a private sshd on 127.0.0.1."""
    ssh = WORK / "ssh"
    shutil.rmtree(ssh, ignore_errors=True)
    ssh.mkdir(mode=0o700)
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / key)], check=True)
    shutil.copy(ssh / "client_key.pub", ssh / "authorized_keys")
    sshd_port, tunnel_port = free_port(), free_port()
    (ssh / "sshd_config").write_text(f"""ListenAddress 127.0.0.1
Port {sshd_port}
HostKey {ssh / 'host_key'}
AuthorizedKeysFile {ssh / 'authorized_keys'}
PidFile {ssh / 'sshd.pid'}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding remote
""")
    # sshd started as root insists on its privilege separation directory, which a fresh container lacks.
    if os.geteuid() == 0:
        pathlib.Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    procs.start("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", str(ssh / "sshd_config")])
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", sshd_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    procs.start("ssh-tunnel", ["ssh", "-N", "-p", str(sshd_port), "-i", str(ssh / "client_key"),
                               "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={ssh / 'known_hosts'}",
                               "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
                               "-R", f"127.0.0.1:{tunnel_port}:127.0.0.1:{backend_port}",
                               f"{os.environ.get('USER', 'root')}@127.0.0.1"])
    wait_for(f"http://127.0.0.1:{tunnel_port}/small", 30)
    return tunnel_port


def start_drawbridge(procs, backend_port, tomcat_version, admin_password, socket_buffer, agent_connector):
    tomcat = WORK / "tomcat"
    tarball = WORK / f"tomcat-{tomcat_version}.tar.gz"
    if not tarball.exists():
        subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never", "-N", "dependency:copy",
                        f"-Dartifact=org.apache.tomcat:tomcat:{tomcat_version}:tar.gz",
                        f"-DoutputDirectory={WORK}"], cwd=ROOT, check=True)
    shutil.rmtree(tomcat, ignore_errors=True)
    tomcat.mkdir()
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(tomcat), "--strip-components=1"], check=True)
    shutil.copytree(ROOT / "tomcat-conf", tomcat / "conf", dirs_exist_ok=True)
    if socket_buffer:
        # Tomcat reads and writes plain HTTP in pieces of its socket buffers (8 KiB by default);
        # larger ones cost that much more memory on every connection, waiting or not.
        server_xml = tomcat / "conf" / "server.xml"
        server_xml.write_text(server_xml.read_text().replace(
            'maxThreads="200"\n', f'maxThreads="200" socket.appReadBufSize="{socket_buffer}" '
                                  f'socket.appWriteBufSize="{socket_buffer}"\n', 1))
    agent_port = free_port() if agent_connector else None
    if agent_connector:
        # The agent connector tomcat-conf/server.xml ships commented out, enabled as its comment says.
        server_xml = tomcat / "conf" / "server.xml"
        text, count = re.subn(r"<!--\n(\s*<Connector [^>]*drawbridge\.agent\.http\.port[^>]*>)\s*-->",
                              r"\1", server_xml.read_text())
        if count != 1:
            raise SystemExit("bench: tomcat-conf/server.xml has no commented agent connector")
        server_xml.write_text(text)
    token = secrets.token_urlsafe(32)
    (WORK / "agent.token").write_text(token)
    digest = hashlib.sha256(token.encode()).hexdigest()
    (tomcat / "conf" / "drawbridge.json").write_text(
        '{"backends":[{"id":"default","agentTokenSha256":["%s"],"maxQueued":20000,'
        '"queueTimeoutSeconds":120}],"maxRequestBodyBytes":0}' % digest)
    (tomcat / "conf" / "tomcat-users.xml").write_text(
        '<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">'
        '<role rolename="drawbridge-admin"/>'
        f'<user username="admin" password="{admin_password}" roles="drawbridge-admin"/></tomcat-users>')
    # The documented sub-path deployment: the context file's name gives the path, /drawbridge.
    contexts = tomcat / "conf" / "Catalina" / "localhost"
    (contexts / "ROOT.xml").rename(contexts / "drawbridge.xml")
    shutil.copy(ROOT / "proxy-war" / "target" / "drawbridge.war", tomcat / "drawbridge.war")
    # The same small file served by Tomcat itself: what one plain request costs in this container,
    # the floor under anything a servlet in it does.
    (tomcat / "webapps" / "floor").mkdir()
    shutil.copy(WORK / "files" / "small.txt", tomcat / "webapps" / "floor" / "small")
    port = free_port()
    env = dict(os.environ, CATALINA_HOME=str(tomcat), CATALINA_BASE=str(tomcat),
               CATALINA_OPTS=f"-Ddrawbridge.http.address=127.0.0.1 -Ddrawbridge.http.port={port} "
                             "-Ddrawbridge.shutdown.port=-1"
                             + (f" -Ddrawbridge.agent.http.port={agent_port}" if agent_port else ""))
    tomcat_proc = procs.start("tomcat", [str(tomcat / "bin" / "catalina.sh"), "run"], env=env)
    base = f"http://127.0.0.1:{port}/drawbridge"
    wait_for(f"{base}/_drawbridge/health", 90)
    agent_base = f"http://127.0.0.1:{agent_port}/drawbridge" if agent_port else base
    return tomcat_proc, base, agent_base


def start_jetty(procs, token):
    """The same WAR in embedded Jetty 12 (the integration tests' harness), for the memory comparison."""
    classpath_file = WORK / "jetty.classpath"
    test_classes = ROOT / "integration-tests" / "target" / "test-classes"
    if not classpath_file.exists() or not test_classes.exists():
        subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never", "-DskipTests", "test-compile",
                        "dependency:build-classpath", "-pl", "protocol,proxy-war,integration-tests",
                        f"-Dmdep.outputFile={classpath_file}", "-Dmdep.includeScope=test"],
                       cwd=ROOT, check=True)
    jetty = WORK / "jetty"
    shutil.rmtree(jetty, ignore_errors=True)
    jetty.mkdir()
    digest = hashlib.sha256(token.encode()).hexdigest()
    config = jetty / "drawbridge.json"
    config.write_text('{"backends":[{"id":"default","agentTokenSha256":["%s"],"maxQueued":20000,'
                      '"queueTimeoutSeconds":120}],"maxRequestBodyBytes":0}' % digest)
    classpath = classpath_file.read_text().strip() + os.pathsep + str(test_classes)
    log = open(WORK / "jetty.log", "w")
    # Arguments after the config and work dir: idle timeout in ms (the clients wait in silence for
    # longer than Jetty's default 30 s), 0 and 0 for the harness's thread pool and accept queue,
    # then the address and port 0 (the OS picks).
    proc = subprocess.Popen(["java", f"-Ddrawbridge.it.proxyTarget={ROOT / 'proxy-war' / 'target'}",
                             "-cp", classpath, "dev.drawbridge.it.support.ProxyServerMain",
                             str(config), str(jetty), "600000", "0", "0", "127.0.0.1", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=WORK)
    procs.started.append(proc)
    deadline = time.time() + 90
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("drawbridge-it-proxy-port="):
            base = f"http://127.0.0.1:{line.strip().split('=')[1]}/drawbridge"
            wait_for(f"{base}/_drawbridge/health", 30)
            return proc, base
        if not line and proc.poll() is not None:
            break
    raise SystemExit(f"bench: the Jetty proxy did not start; see {WORK}/jetty.log")


def start_wildfly(procs, token):
    """The same WAR in WildFly (the version the integration tests use), for the memory comparison;
    set up as docs/deploying.md describes, with WildFly's own settings otherwise."""
    version = re.search(r"<wildfly.version>(.*)</wildfly.version>",
                        (ROOT / "integration-tests" / "pom.xml").read_text()).group(1)
    tarball = WORK / f"wildfly-dist-{version}.tar.gz"
    if not tarball.exists():
        subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never", "-N", "dependency:copy",
                        f"-Dartifact=org.wildfly:wildfly-dist:{version}:tar.gz",
                        f"-DoutputDirectory={WORK}"], cwd=ROOT, check=True)
    home = WORK / "wildfly"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(home), "--strip-components=1"], check=True)
    configuration = home / "standalone" / "configuration"
    digest = hashlib.sha256(token.encode()).hexdigest()
    (configuration / "drawbridge.json").write_text(
        '{"backends":[{"id":"default","agentTokenSha256":["%s"],"maxQueued":20000,'
        '"queueTimeoutSeconds":120}],"maxRequestBodyBytes":0}' % digest)
    # What add-user.sh -a -u admin -p admin-secret -g drawbridge-admin writes.
    secret = hashlib.md5(b"admin:ApplicationRealm:admin-secret").hexdigest()
    with open(configuration / "application-users.properties", "a") as users:
        users.write(f"admin={secret}\n")
    with open(configuration / "application-roles.properties", "a") as roles:
        roles.write("admin=drawbridge-admin\n")
    shutil.copy(ROOT / "proxy-war" / "target" / "drawbridge.war", home / "standalone" / "deployments")
    port, management = free_port(), free_port()
    # In the background mode standalone.sh passes SIGTERM on to the server's JVM; otherwise the JVM
    # would outlive the script.
    env = dict(os.environ, JBOSS_HOME=str(home), LAUNCH_JBOSS_IN_BACKGROUND="1",
               JAVA_OPTS=f"-Xms64m -Xmx4g -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true "
                         f"-Ddrawbridge.config={configuration / 'drawbridge.json'}")
    shell = procs.start("wildfly", [str(home / "bin" / "standalone.sh"), "-b", "127.0.0.1",
                                    f"-Djboss.http.port={port}", "-Djboss.https.port=0",
                                    "-Djboss.bind.address.management=127.0.0.1",
                                    f"-Djboss.management.http.port={management}",
                                    "-Djboss.management.https.port=0"], env=env)
    base = f"http://127.0.0.1:{port}/drawbridge"
    wait_for(f"{base}/_drawbridge/health", 120)
    # standalone.sh runs the server's JVM as its child.
    java = int(subprocess.run(["pgrep", "-P", str(shell.pid), "java"], capture_output=True, text=True,
                              check=True).stdout.split()[0])
    return shell, java, base


def start_agent(procs, base, backend_port, agent_base=None):
    """The agent, reaching the proxy at agent_base (the clients' base unless given)."""
    agent = procs.start("agent", ["java", *AGENT_JVM, "-jar", str(ROOT / "agent-jar" / "target" / "drawbridge-agent.jar"),
                                  "--proxy", agent_base or base, "--target", f"http://127.0.0.1:{backend_port}",
                                  "--token-file", str(WORK / "agent.token"), *AGENT_ARGS],
                        env={**os.environ, **AGENT_ENV})
    wait_for(f"{base}/small", 60)
    return agent


def wrk(url, connections, seconds, script=None):
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    units = {"B": 1, "KB": 1024, "MB": MIB, "GB": 1024 * MIB}
    mbps = float(transfer.group(1)) * units[transfer.group(2)] / MIB
    latency = {p: millis(v) for p, v in re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx answers from {url}", file=sys.stderr)
    return {"rps": rps, "mbps": mbps, "p50": latency.get("50"), "p99": latency.get("99"), "requests": requests}


def millis(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def upload_mbps(url, file):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_upload}", "-X", "POST",
                          "-H", "Content-Type: application/octet-stream", "--data-binary", f"@{file}", url],
                         capture_output=True, text=True, check=True).stdout
    return float(out) / MIB


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_value(pid, key):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_per_request(url, connections, seconds, pids):
    """Small GETs at url, with the CPU time each of pids spent per request, in microseconds."""
    before = [cpu_seconds(pid) for pid in pids]
    r = wrk(url, connections, seconds)
    spent = [cpu_seconds(pid) - b for pid, b in zip(pids, before)]
    return r["rps"], [s * 1e6 / r["requests"] for s in spent]


def measure(base, files, seconds):
    result = {}
    for c in (1, 16, 64):
        r = wrk(f"{base}/small", c, seconds)
        result[f"small GET c={c} req/s"] = r["rps"]
        result[f"small GET c={c} p50 ms"] = r["p50"]
        result[f"small GET c={c} p99 ms"] = r["p99"]
    result["10 MiB GET c=4 MB/s"] = wrk(f"{base}/big", 4, seconds)["mbps"]
    result["1 KiB POST echo c=16 req/s"] = wrk(f"{base}/echo", 16, seconds, BENCH / "post.lua")["rps"]
    result["50 MiB upload MB/s"] = upload_mbps(f"{base}/upload", files / "upload.bin")
    ws = websocket_load(base.replace("http://", "ws://", 1) + "/ws", 16, seconds, 64)
    result["WebSocket 64 B round trip p50 ms"] = ws["p50"]
    result["WebSocket 64 B round trip p99 ms"] = ws["p99"]
    result["WebSocket 64 B echo c=16 msg/s"] = ws["mps"]
    return result


def websocket_load(url, connections, seconds, size):
    """Round trips of one WebSocket, then echoed messages per second over several (bench/WebSocketLoad.java)."""
    out = subprocess.run(["java", str(BENCH / "WebSocketLoad.java"), url, str(connections), str(seconds), str(size)],
                         check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    return json.loads(out.strip().splitlines()[-1])


async def hold_requests(port, path, count, host):
    """Opens count connections, each sending one GET, and returns them still waiting."""
    writers = []
    for i in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path}?n={i} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        writers.append((reader, writer))
        if i % 500 == 0:
            await writer.drain()
    return writers


async def collect(writers, seconds):
    async def one(reader):
        line = await reader.readline()
        await reader.read()
        return line.startswith(b"HTTP/1.1 200")
    results = await asyncio.wait_for(asyncio.gather(*(one(r) for r, _ in writers)), seconds)
    for _, w in writers:
        w.close()
    return sum(results)


def heap_used_mib(pid):
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, check=True)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, check=True).stdout
    used = re.search(r"used (\d+)K", out)
    return int(used.group(1)) / 1024 if used else float("nan")


def waiting_benchmark(procs, pid, label, base, backend_port, count, admin_auth, agent_base=None):
    """Holds count client requests in the proxy (its JVM's pid) before any agent connected, then
    starts the agent that drains them and returns it (it serves the throughput rounds next)."""
    port = int(re.search(r":(\d+)/", base).group(1))
    baseline_threads = status_value(pid, "Threads")
    baseline_heap = heap_used_mib(pid)
    loop = asyncio.new_event_loop()
    writers = loop.run_until_complete(hold_requests(port, "/drawbridge/small", count, f"127.0.0.1:{port}"))
    deadline = time.time() + 120
    while time.time() < deadline:
        status = wait_for(f"{base}/_drawbridge/admin/api/status", 10, admin_auth).decode()
        depth = int(re.search(r'"queueDepth":(\d+)', status).group(1))
        if depth >= count:
            break
        time.sleep(0.5)
    held = {"waiting requests": depth, "proxy threads before": baseline_threads,
            "proxy threads while waiting": status_value(pid, "Threads"),
            "proxy heap used before (MiB)": round(baseline_heap, 1),
            "proxy heap used while waiting (MiB)": round(heap_used_mib(pid), 1),
            "proxy RSS while waiting (MiB)": round(status_value(pid, "VmRSS") / 1024, 1)}
    # Where the heap goes, for whoever tunes it next.
    histogram = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True).stdout
    (WORK / f"waiting-heap-histogram-{label}.txt").write_text(histogram)
    agent = start_agent(procs, base, backend_port, agent_base)
    held["answered 200"] = loop.run_until_complete(collect(writers, 120))
    return held, agent


def jdk_knows(option):
    """True when this machine's java starts with the option (a JDK before 17.0.9 lacks some the README gives)."""
    return subprocess.run(["java", option, "-version"], capture_output=True).returncode == 0


def main():
    for option in [o for o in AGENT_JVM if o.startswith("-XX:TrimNativeHeapInterval")]:
        if not jdk_knows(option):
            AGENT_JVM.remove(option)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement; medians are reported (0: only the waiting clients)")
    parser.add_argument("--waiting", type=int, default=10000, help="client requests held in Jetty, WildFly and Tomcat for the memory benchmark (0 to skip)")
    parser.add_argument("--socket-buffer", type=int, default=0, help="Tomcat socket.appReadBufSize and appWriteBufSize in bytes (default: tomcat-conf's, 8 KiB)")
    parser.add_argument("--no-ssh", dest="ssh", action="store_false", help="leave out the OpenSSH reverse tunnel (a peer, through a private sshd on 127.0.0.1)")
    parser.add_argument("--serve", action="store_true", help="start the backend, nginx and Drawbridge, print their URLs and wait for Ctrl-C (for profiling)")
    parser.add_argument("--agent-jvm", default=" ".join(AGENT_JVM),
                        help="the agent's JVM options (default: the README's, %(default)s; '' for none)")
    parser.add_argument("--agent-connector", action="store_true",
                        help="enable the agent connector tomcat-conf/server.xml ships commented out, and point the agent at it")
    parser.add_argument("--agent-args", default="",
                        help="further agent flags, e.g. '--concurrency 128' (default: none, the agent's defaults)")
    parser.add_argument("--agent-env", default=" ".join(f"{k}={v}" for k, v in AGENT_ENV.items()),
                        help="the agent's environment variables, NAME=VALUE separated by spaces (default: %(default)r)")
    args = parser.parse_args()
    if any("=" not in pair for pair in args.agent_env.split()):
        parser.error(f"--agent-env takes NAME=VALUE pairs: {args.agent_env!r}")
    AGENT_ENV.clear()
    AGENT_ENV.update(pair.split("=", 1) for pair in args.agent_env.split())
    AGENT_JVM[:] = args.agent_jvm.split()
    AGENT_ARGS[:] = args.agent_args.split()
    WORK.mkdir(parents=True, exist_ok=True)
    files = WORK / "files"
    files.mkdir(exist_ok=True)
    (files / "small.txt").write_bytes(b"x" * 99 + b"\n")
    (files / "big.bin").write_bytes(os.urandom(10 * MIB))
    (files / "upload.bin").write_bytes(os.urandom(50 * MIB))
    tomcat_version = re.search(r"<tomcat.version>(.*)</tomcat.version>", (ROOT / "pom.xml").read_text()).group(1)
    admin_password = secrets.token_urlsafe(12)
    admin_auth = "Basic " + base64.b64encode(f"admin:{admin_password}".encode()).decode()
    procs = Processes()
    try:
        backend_port = start_backend(procs, files, free_port())
        nginx_port = start_reverse_nginx(procs, backend_port)
        tomcat, base, agent_base = start_drawbridge(procs, backend_port, tomcat_version, admin_password,
                                                    args.socket_buffer, args.agent_connector)
        waiting = {}
        if args.waiting:
            token = (WORK / "agent.token").read_text()
            print(f"holding {args.waiting} waiting clients in Jetty 12...", file=sys.stderr)
            jetty, jetty_base = start_jetty(procs, token)
            jetty_auth = "Basic " + base64.b64encode(b"admin:admin-secret").decode()
            on_jetty, jetty_agent = waiting_benchmark(procs, jetty.pid, "jetty", jetty_base, backend_port, args.waiting, jetty_auth)
            for proc in (jetty_agent, jetty):
                proc.terminate()
                proc.wait(timeout=30)
            print(f"holding {args.waiting} waiting clients in WildFly...", file=sys.stderr)
            wildfly, wildfly_java, wildfly_base = start_wildfly(procs, token)
            on_wildfly, wildfly_agent = waiting_benchmark(procs, wildfly_java, "wildfly", wildfly_base, backend_port,
                                                          args.waiting, jetty_auth)
            for proc in (wildfly_agent, wildfly):
                proc.terminate()
                proc.wait(timeout=60)
            print(f"holding {args.waiting} waiting clients in Tomcat 11...", file=sys.stderr)
            on_tomcat, agent = waiting_benchmark(procs, tomcat.pid, "tomcat", base, backend_port, args.waiting, admin_auth,
                                                  agent_base)
            waiting = {"Tomcat 11 (tomcat-conf/)": on_tomcat, "Jetty 12 (embedded, defaults)": on_jetty,
                       "WildFly (defaults)": on_wildfly}
        else:
            agent = start_agent(procs, base, backend_port, agent_base)
        targets = {"direct": f"http://127.0.0.1:{backend_port}", "nginx": f"http://127.0.0.1:{nginx_port}"}
        if args.ssh:
            targets["ssh -R"] = f"http://127.0.0.1:{start_ssh_tunnel(procs, backend_port)}"
        targets["drawbridge"] = base
        if args.serve:
            serve(targets, tomcat, agent)
            return
        print("warming up the JIT...", file=sys.stderr)
        for _ in range(2 if args.rounds else 0):
            measure(base, files, max(3, args.seconds // 2))
        cpu_before = {"proxy": cpu_seconds(tomcat.pid), "agent": cpu_seconds(agent.pid)}
        rounds = []
        floor_url = base.rsplit("/", 1)[0] + "/floor/small"
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}...", file=sys.stderr)
            rounds.append({name: measure(url, files, args.seconds) for name, url in targets.items()})
            rounds[-1]["costs"] = {
                "Tomcat serving the file itself": cpu_per_request(floor_url, 64, args.seconds, [tomcat.pid]),
                "Drawbridge (Tomcat + agent)": cpu_per_request(f"{base}/small", 64, args.seconds,
                                                               [tomcat.pid, agent.pid])}
        cpu = {k: cpu_seconds(p.pid) - cpu_before[k] for k, p in (("proxy", tomcat), ("agent", agent))}
        peaks = {"proxy": status_value(tomcat.pid, "VmHWM") / 1024, "agent": status_value(agent.pid, "VmHWM") / 1024}
    finally:
        procs.stop_all()
    report(rounds, cpu, peaks, waiting, args)


def serve(targets, tomcat, agent):
    for name, url in targets.items():
        print(f"{name}: {url}")
    print(f"proxy pid {tomcat.pid}, agent pid {agent.pid}; Ctrl-C or SIGTERM stops everything", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # Only the proxy ends the wait: the agent may be stopped and replaced by hand, for example by
        # another build of it, to compare the two on the same proxy.
        while tomcat.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def report(rounds, cpu, peaks, waiting, args):
    if not rounds:
        for container, values in waiting.items():
            for key, value in values.items():
                print(f"{container}: {key}: {value}")
        return
    metrics = list(rounds[0]["direct"].keys())
    setups = [t for t in rounds[0] if t != "costs"]
    print(f"\nDrawbridge benchmark: {args.rounds} rounds of {args.seconds} s runs, medians; "
          f"{os.cpu_count()} CPUs, {platform_line()}\n")
    # The targets are ratios to nginx and to the peer tunnel, when it ran.
    against = [t for t in ("direct", "nginx", "ssh -R") if t in setups]
    print("| measure | " + " | ".join(setups) + " | " + " | ".join(f"drawbridge / {t}" for t in against) + " |")
    print("|---|" + "---:|" * (len(setups) + len(against)))
    for metric in metrics:
        med = {t: statistics.median(r[t][metric] for r in rounds) for t in setups}
        # Latencies in hundredths of a millisecond: the one-connection target is 0.3 ms above nginx.
        digits = 2 if metric.endswith(" ms") else 1
        print(f"| {metric} | " + " | ".join(f"{med[t]:.{digits}f}" for t in setups) + " | "
              + " | ".join(ratio(med["drawbridge"], med[t]) for t in against) + " |")
    print("\n| small GET c=64, CPU per request | req/s | proxy container µs | agent µs |\n|---|---:|---:|---:|")
    for setup in rounds[0]["costs"]:
        rps = statistics.median(r["costs"][setup][0] for r in rounds)
        micros = [statistics.median(r["costs"][setup][1][i] for r in rounds) for i in range(len(rounds[0]["costs"][setup][1]))]
        print(f"| {setup} | {rps:.0f} | {micros[0]:.0f} | " + (f"{micros[1]:.0f}" if len(micros) > 1 else "-") + " |")
    print(f"\nCPU seconds during the measured rounds: proxy (Tomcat) {cpu['proxy']:.1f}, agent {cpu['agent']:.1f}; "
          f"peak RSS: proxy {peaks['proxy']:.0f} MiB, agent {peaks['agent']:.0f} MiB")
    if waiting:
        containers = list(waiting)
        print("\n| waiting clients | " + " | ".join(containers) + " |\n|---|" + "---:|" * len(containers))
        for key in waiting[containers[0]]:
            print(f"| {key} | " + " | ".join(str(waiting[c][key]) for c in containers) + " |")


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def platform_line():
    model = ""
    try:
        model = re.search(r"model name\s*:\s*(.*)", pathlib.Path("/proc/cpuinfo").read_text()).group(1)
    except Exception:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return f"{model}; {java}"


if __name__ == "__main__":
    main()
