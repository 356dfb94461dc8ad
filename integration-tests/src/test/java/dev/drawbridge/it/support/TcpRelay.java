package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 (port chosen by the OS) in front of another local port: the network
 * path between an agent and the proxy, which a test can break on purpose. {@link #stall()} stops
 * moving bytes without closing anything, as a congested or black-holed path does; {@link #cut()}
 * resets every open connection, as a rebooted NAT or firewall does; {@link #resume()} moves bytes
 * again. One pair of threads per relayed connection: the agent opens a handful.
 */
public final class TcpRelay implements AutoCloseable {

  private static final int CHUNK = 16 * 1024;

  private final ServerSocket listener;
  private final int targetPort;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private boolean stalled;
  private volatile boolean closed;

  private TcpRelay(ServerSocket listener, int targetPort) {
    this.listener = listener;
    this.targetPort = targetPort;
  }

  /** Starts relaying connections to 127.0.0.1:{@code targetPort}. */
  public static TcpRelay start(int targetPort) {
    ServerSocket listener;
    try {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException("could not open the relay's port", e);
    }
    TcpRelay relay = new TcpRelay(listener, targetPort);
    daemon("relay-accept-" + listener.getLocalPort(), relay::acceptLoop).start();
    return relay;
  }

  public int port() {
    return listener.getLocalPort();
  }

  /**
   * Stops moving bytes in both directions on every connection, open or new, without closing any:
   * each side's writes pile up in socket buffers and then block, and its reads wait.
   */
  public void stall() {
    synchronized (gate) {
      stalled = true;
    }
  }

  /** Moves bytes again, those held back during a stall first. */
  public void resume() {
    synchronized (gate) {
      stalled = false;
      gate.notifyAll();
    }
  }

  /**
   * Resets every open connection on both sides at once (no orderly close, so both peers see a
   * reset, not an end of stream). Connections opened afterwards are relayed as usual.
   */
  public void cut() {
    for (Link link : links) {
      link.reset();
    }
  }

  /** Connections relayed now. */
  public int openConnections() {
    return links.size();
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // Closing; the accept loop ends either way.
    }
    resume();
    cut();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket downstream;
      try {
        downstream = listener.accept();
      } catch (IOException e) {
        return; // the listener was closed
      }
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        Link link = new Link(downstream, upstream);
        links.add(link);
        link.start();
      } catch (IOException e) {
        // Nothing listens behind the relay: the peer sees its connection refused as a reset.
        new Link(downstream, null).reset();
      }
    }
  }

  /** Blocks while the relay is stalled; false once it is closed. */
  private boolean awaitFlowing() throws InterruptedException {
    synchronized (gate) {
      while (stalled && !closed) {
        gate.wait();
      }
    }
    return !closed;
  }

  private static Thread daemon(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }

  /** One relayed connection: the peer that connected to the relay and the relay's own connection onward. */
  private final class Link {
    private final Socket downstream;
    private final Socket upstream;
    private final AtomicInteger directionsEnded = new AtomicInteger();

    Link(Socket downstream, Socket upstream) {
      this.downstream = downstream;
      this.upstream = upstream;
    }

    void start() throws IOException {
      downstream.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      String name = "relay-" + downstream.getPort();
      daemon(name + "-up", () -> pump(downstream, upstream)).start();
      daemon(name + "-down", () -> pump(upstream, downstream)).start();
    }

    /**
     * Copies one direction. A chunk read during a stall is held until the relay flows again; the
     * pump reads nothing more meanwhile, so the sender's buffers fill as on a stalled path.
     */
    private void pump(Socket from, Socket to) {
      byte[] chunk = new byte[CHUNK];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        for (int n = in.read(chunk); n != -1; n = in.read(chunk)) {
          if (!awaitFlowing()) {
            return;
          }
          out.write(chunk, 0, n);
          out.flush();
        }
        // An orderly end is passed on as one, also held back by a stall.
        if (!awaitFlowing()) {
          return;
        }
        to.shutdownOutput();
        if (directionsEnded.incrementAndGet() == 2) {
          close();
        }
      } catch (IOException | InterruptedException e) {
        reset();
      }
    }

    /** Drops both sockets with a TCP reset and forgets the link. */
    void reset() {
      links.remove(this);
      abort(downstream);
      abort(upstream);
    }

    private void close() {
      links.remove(this);
      closeQuietly(downstream);
      closeQuietly(upstream);
    }

    private void abort(Socket socket) {
      if (socket == null) {
        return;
      }
      try {
        // Linger 0 makes close send RST instead of FIN: an abrupt loss, not a goodbye.
        socket.setSoLinger(true, 0);
      } catch (SocketException ignored) {
        // Already closed.
      }
      closeQuietly(socket);
    }

    private void closeQuietly(Socket socket) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing a relayed socket; nothing to report.
      }
    }
  }
}
