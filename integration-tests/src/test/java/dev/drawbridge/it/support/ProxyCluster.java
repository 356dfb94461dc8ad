package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Several proxy nodes, each the real WAR in its own JVM ({@link ForkedProxyServer}), with the same
 * configuration, on one port and their own loopback addresses (127.0.0.2, 127.0.0.3 ...), as
 * identical nodes behind a load balancer are. Slots are reserved up front, so a node can be added,
 * killed and started again on the same address and port. A hosts file names the nodes that are
 * in "DNS", for an agent started with {@code -Djdk.net.hosts.file}.
 */
public final class ProxyCluster implements AutoCloseable {

  /** The name the hosts file gives every node in DNS; a loopback name, so plain HTTP is allowed. */
  public static final String NODES_NAME = "drawbridge-nodes.localhost";

  private static final int HEAP_MEGABYTES = 192;
  private static final int PORT_ATTEMPTS = 20;

  private final String configJson;
  private final int port;
  private final ForkedProxyServer[] nodes;
  private final Path hostsFile;

  private ProxyCluster(String configJson, int port, int slots, Path hostsFile) {
    this.configJson = configJson;
    this.port = port;
    this.nodes = new ForkedProxyServer[slots];
    this.hostsFile = hostsFile;
  }

  /** Reserves {@code slots} node addresses and one port free on all of them; starts no node. */
  public static ProxyCluster reserve(ProxyConfig config, int slots) {
    try {
      Path hosts = TempDirs.create("drawbridge-cluster-").resolve("hosts");
      Files.writeString(hosts, "", StandardCharsets.UTF_8);
      return new ProxyCluster(config.toJson(), commonPort(slots), slots, hosts);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The loopback address of node {@code index}: 127.0.0.2 for node 0. */
  public static String address(int index) {
    return "127.0.0." + (2 + index);
  }

  /** HAProxy's name for node {@code index}: n1 for node 0. */
  public static String name(int index) {
    return "n" + (index + 1);
  }

  /** Every slot's {@code name -> address:port}, for the load balancer. */
  public Map<String, String> balancerServers() {
    Map<String, String> servers = new LinkedHashMap<>();
    for (int i = 0; i < nodes.length; i++) {
      servers.put(name(i), address(i) + ":" + port);
    }
    return servers;
  }

  /** Starts node {@code index} (again), on its address and the cluster's port. */
  public ForkedProxyServer start(int index) {
    if (nodes[index] != null && nodes[index].isAlive()) {
      throw new IllegalStateException("node " + name(index) + " already runs");
    }
    ProxyServer.Options options = ProxyServer.Options.DEFAULT.withAddress(address(index), port);
    nodes[index] = ProxyServer.forked(configJson, HEAP_MEGABYTES, options, List.of(ProxyServerMain.QUIET_ACCESS_LOG));
    return nodes[index];
  }

  /** Node {@code index} as last started. */
  public ForkedProxyServer node(int index) {
    return nodes[index];
  }

  /** SIGKILL of node {@code index}: it vanishes with everything in flight on it. */
  public void kill(int index) {
    nodes[index].kill();
  }

  /** Stops node {@code index} as its container stops (the WAR drains, then the server stops). */
  public void stop(int index) {
    nodes[index].stop();
  }

  /** The base URL of node {@code index}, reached directly (not through the balancer). */
  public String baseUrl(int index) {
    return "http://" + address(index) + ":" + port + ProxyServer.CONTEXT_PATH;
  }

  /** The agent's {@code --proxy}: the nodes' common name. */
  public String nodesUrl() {
    return "http://" + NODES_NAME + ":" + port + ProxyServer.CONTEXT_PATH;
  }

  /** The hosts file the agent resolves {@link #NODES_NAME} with. */
  public Path hostsFile() {
    return hostsFile;
  }

  /** Makes {@link #NODES_NAME} resolve to exactly these nodes. */
  public void publish(int... indexes) {
    StringBuilder lines = new StringBuilder();
    for (int index : indexes) {
      lines.append(address(index)).append(' ').append(NODES_NAME).append('\n');
    }
    Path next = hostsFile.resolveSibling("hosts.next");
    try {
      Files.writeString(next, lines, StandardCharsets.UTF_8);
      // Replaced whole, so a reader never sees half a file.
      Files.move(next, hostsFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /**
   * Ends every node. What each node said about its agents, and any warning, is printed first, so a
   * failed test's output shows what the nodes saw (their full output is not printed as it comes).
   */
  @Override
  public void close() {
    for (int i = 0; i < nodes.length; i++) {
      ForkedProxyServer node = nodes[i];
      if (node == null) {
        continue;
      }
      for (String line : node.lines()) {
        if (line.contains("Agent ") || line.contains("Readiness") || line.contains("WARNING") || line.contains("SEVERE")) {
          System.out.println("[node " + (i + 1) + "] " + line);
        }
      }
      if (node.isAlive()) {
        node.kill();
      }
    }
  }

  /** A port free on every slot's address now: taken on the first, then checked on the others. */
  private static int commonPort(int slots) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      List<ServerSocket> held = new ArrayList<>();
      try {
        ServerSocket first = new ServerSocket(0, 1, InetAddress.getByName(address(0)));
        held.add(first);
        int port = first.getLocalPort();
        for (int i = 1; i < slots; i++) {
          held.add(new ServerSocket(port, 1, InetAddress.getByName(address(i))));
        }
        return port;
      } catch (IOException e) {
        last = e;
      } finally {
        for (ServerSocket socket : held) {
          socket.close();
        }
      }
    }
    throw new IOException("no port free on all of " + slots + " loopback addresses", last);
  }
}
