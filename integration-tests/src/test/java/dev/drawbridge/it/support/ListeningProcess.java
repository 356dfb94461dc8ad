package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A server program from the machine (HAProxy, nginx, lighttpd) that a test runs as a child process
 * in the foreground, listening on 127.0.0.1: started, awaited until it accepts connections, and
 * stopped when the test ends.
 */
public final class ListeningProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final String name;
  private final Process process;
  private final ProcessOutput output;
  private final int port;

  private ListeningProcess(String name, Process process, int port) {
    this.name = name;
    this.process = process;
    this.output = new ProcessOutput(name + "-" + process.pid(), process);
    this.port = port;
  }

  /** Starts {@code command} and returns once it accepts connections on 127.0.0.1:{@code port}. */
  public static ListeningProcess start(String name, ProcessBuilder command, int port) {
    Process process;
    try {
      process = command.start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name, e);
    }
    ListeningProcess started = new ListeningProcess(name, process, port);
    started.awaitListening();
    return started;
  }

  /** A port free on 127.0.0.1 now, for a program that binds it a moment later. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** What it printed so far. */
  public List<String> lines() {
    return output.lines();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void awaitListening() {
    try {
      Awaitility.await(name + " listening").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50))
          .until(() -> !process.isAlive() || accepting());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " exited at start: " + new ArrayList<>(output.lines()));
    }
  }

  private boolean accepting() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
