package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.core5.concurrent.DefaultThreadFactory;

/**
 * Keeps the agent's long-lived streams to the proxy open while they have nothing to carry: a
 * response body the backend is slow to continue (Server-Sent Events, a log tail), or the service's
 * side of a quiet WebSocket. What lies between agent and proxy cuts a connection that stays silent
 * for long: the container's read timeout (Tomcat's {@code connectionTimeout}, 20 s in Tomcat's own
 * example configuration; Jetty's idle timeout, 30 s), a load balancer's, a NAT's memory of the connection.
 *
 * <p>Every interval, each registered stream that carried nothing since the previous tick is sent a
 * {@link Frames#KEEPALIVE} frame, so no stream stays silent for more than two intervals. The proxy
 * skips these frames; they count as no activity of the exchange, so its own idle timeouts still
 * apply. Streams are registered only toward proxy nodes that declared they read them.
 */
final class Keepalives implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Keepalives.class.getName());

  /** The default of {@code --keepalive-interval}. */
  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  /** Keepalives that register nothing: for nodes that do not read them, or with the interval at zero. */
  static final Keepalives NONE = new Keepalives(Duration.ZERO, "none");

  /** Sends one keepalive frame on a stream. */
  interface Stream {
    void sendKeepalive() throws IOException;
  }

  /** A stream's place in the ticks; closing it takes the stream out. */
  final class Registration implements AutoCloseable {

    private final Stream stream;
    private final boolean blocking;
    private final AtomicBoolean sending = new AtomicBoolean();
    private volatile boolean carried;

    private Registration(Stream stream, boolean blocking) {
      this.stream = stream;
      this.blocking = blocking;
    }

    /** The stream carried bytes: no keepalive is due at the next tick. */
    void carried() {
      carried = true;
    }

    private void tick() {
      if (carried) {
        carried = false;
        return;
      }
      if (!blocking) {
        send();
      } else if (sending.compareAndSet(false, true)) {
        // A write the proxy does not take at once must hold up no other stream's keepalive.
        writers.execute(() -> {
          try {
            send();
          } finally {
            sending.set(false);
          }
        });
      }
    }

    private void send() {
      try {
        stream.sendKeepalive();
      } catch (IOException | RuntimeException e) {
        // The stream's own writer meets the same failure on its next write and reports it.
        LOG.log(Level.FINE, "A keepalive frame could not be sent", e);
      }
    }

    @Override
    public void close() {
      registrations.remove(this);
    }
  }

  private final Set<Registration> registrations = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService ticker;
  private final ExecutorService writers;

  /**
   * Starts ticking every {@code interval}; a zero interval sends no keepalives.
   *
   * @param name prefix of the threads' names
   */
  Keepalives(Duration interval, String name) {
    if (interval.isZero()) {
      ticker = null;
      writers = null;
      return;
    }
    ticker = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory(name + "tick", true));
    writers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
        new DefaultThreadFactory(name + "write", true));
    long millis = interval.toMillis();
    ticker.scheduleAtFixedRate(this::tick, millis, millis, TimeUnit.MILLISECONDS);
  }

  /**
   * Registers a stream whose {@link Stream#sendKeepalive()} returns at once (it queues the frame).
   * Ticks run it on the ticking thread.
   */
  Registration register(Stream stream) {
    return add(new Registration(stream, false));
  }

  /**
   * Registers a stream whose {@link Stream#sendKeepalive()} writes to a socket and may wait for the
   * proxy to take the bytes. Ticks run it on a thread of its own, one send at a time.
   */
  Registration registerBlocking(Stream stream) {
    return add(new Registration(stream, true));
  }

  private Registration add(Registration registration) {
    if (ticker != null) {
      registrations.add(registration);
    }
    return registration;
  }

  /** These keepalives for streams to {@code node}, or {@link #NONE} when it does not read them. */
  Keepalives toward(ProxyClient node) {
    return node.readsKeepalives() ? this : NONE;
  }

  /** Streams registered now. */
  int registered() {
    return registrations.size();
  }

  /** One tick: runs in the ticking thread, or directly in tests. */
  void tick() {
    for (Registration registration : registrations) {
      try {
        registration.tick();
      } catch (RuntimeException | Error e) {
        // Out of threads, for one: an exception escaping would end the ticks for good.
        registration.sending.set(false);
        LOG.log(Level.WARNING, "A keepalive could not be sent; trying again at the next tick", e);
      }
    }
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
      writers.shutdownNow();
    }
  }
}
