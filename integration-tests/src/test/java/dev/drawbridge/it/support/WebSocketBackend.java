package dev.drawbridge.it.support;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real WebSocket service (Jetty 12's) on 127.0.0.1 and an OS-chosen port, for the tunnel to carry:
 *
 * <ul>
 *   <li>{@code /echo} sends back every text and binary message as it came; it accepts the
 *       subprotocol {@value #SUBPROTOCOL} when offered and Jetty negotiates permessage-deflate;
 *       the text {@code close:CODE} makes it close with that code, {@code drop} makes it cut the
 *       connection without a close frame;
 *   <li>{@code /sink} counts binary bytes and answers the text {@code count?} with the count;
 *   <li>any other path answers 403 with a short body: a refused handshake.
 * </ul>
 *
 * Every handshake's headers and every session end (with its close code) are recorded.
 */
public final class WebSocketBackend implements AutoCloseable {

  /** The subprotocol {@code /echo} accepts. */
  public static final String SUBPROTOCOL = "chat.v2";

  /** Body of the refusal on other paths. */
  public static final String REFUSAL = "no websocket here";

  /** Largest message the service takes, well above the tests' 64 KiB. */
  private static final long MAX_MESSAGE = 1024 * 1024;

  /** How a session ended, as the service saw it. */
  public record Ended(int code, String reason) {}

  private final Server server = new Server();
  private final ServerConnector connector;
  private final boolean tls;
  private final BlockingQueue<Map<String, List<String>>> handshakes = new LinkedBlockingQueue<>();
  private final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
  private final Map<Session, Boolean> open = new ConcurrentHashMap<>();
  private final AtomicInteger opened = new AtomicInteger();

  private WebSocketBackend(SslContextFactory.Server tls) {
    this.tls = tls != null;
    this.connector = tls == null
        ? new ServerConnector(server)
        : new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory());
  }

  /** The service on plain HTTP. */
  public static WebSocketBackend start() {
    return start(null);
  }

  /** The service on HTTPS, with the key and certificate in PKCS#12 file {@code keyStore}. */
  public static WebSocketBackend startTls(Path keyStore, String password) {
    SslContextFactory.Server ssl = new SslContextFactory.Server();
    ssl.setKeyStorePath(keyStore.toString());
    ssl.setKeyStorePassword(password);
    ssl.setKeyStoreType("PKCS12");
    return start(ssl);
  }

  private static WebSocketBackend start(SslContextFactory.Server ssl) {
    WebSocketBackend backend = new WebSocketBackend(ssl);
    backend.connector.setHost("127.0.0.1");
    backend.connector.setPort(0);
    backend.connector.setIdleTimeout(Duration.ofMinutes(5).toMillis());
    backend.server.addConnector(backend.connector);
    WebSocketUpgradeHandler webSockets =
        WebSocketUpgradeHandler.from(
            backend.server,
            container -> {
              container.setMaxBinaryMessageSize(MAX_MESSAGE);
              container.setMaxTextMessageSize(MAX_MESSAGE);
              container.setIdleTimeout(Duration.ofMinutes(5));
              container.addMapping("/echo", (request, response, callback) -> {
                backend.handshakes.add(request.getHeaders().stream()
                    .collect(java.util.stream.Collectors.groupingBy(
                        field -> field.getName().toLowerCase(java.util.Locale.ROOT),
                        java.util.stream.Collectors.mapping(HttpField::getValue, java.util.stream.Collectors.toList()))));
                if (request.getSubProtocols().contains(SUBPROTOCOL)) {
                  response.setAcceptedSubProtocol(SUBPROTOCOL);
                }
                return new Echo(backend);
              });
              container.addMapping("/sink", (request, response, callback) -> new Sink(backend));
            });
    webSockets.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        response.setStatus(403);
        response.getHeaders().put("Content-Type", "text/plain");
        response.write(true, ByteBuffer.wrap(REFUSAL.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
      }
    });
    backend.server.setHandler(webSockets);
    try {
      backend.server.start();
    } catch (Exception e) {
      throw new IllegalStateException("the WebSocket backend did not start", e);
    }
    return backend;
  }

  /** Base URL the agent targets, e.g. {@code http://127.0.0.1:41234}. */
  public String url() {
    return (tls ? "https" : "http") + "://127.0.0.1:" + connector.getLocalPort();
  }

  public int port() {
    return connector.getLocalPort();
  }

  /** The headers of the next handshake {@code /echo} took (names lower-cased). */
  public Map<String, List<String>> takeHandshake(Duration within) throws InterruptedException {
    Map<String, List<String>> headers = handshakes.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (headers == null) {
      throw new AssertionError("no WebSocket handshake reached the backend within " + within);
    }
    return headers;
  }

  /** How the next session ended, as the service saw it. */
  public Ended takeEnded(Duration within) throws InterruptedException {
    Ended next = ended.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (next == null) {
      throw new AssertionError("no WebSocket session ended at the backend within " + within);
    }
    return next;
  }

  /** Sessions open now. */
  public int openSessions() {
    return open.size();
  }

  /** Sessions opened since the start. */
  public int openedSessions() {
    return opened.get();
  }

  /** Cuts every open session's connection without a close frame, as a crashing service would. */
  public void dropAll() {
    for (Session session : open.keySet()) {
      session.disconnect();
    }
  }

  public void forgetRecorded() {
    handshakes.clear();
    ended.clear();
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("the WebSocket backend did not stop", e);
    }
  }

  /** Common bookkeeping of a session; public, as Jetty calls it through method handles. */
  public abstract static class Tracked extends Session.Listener.AbstractAutoDemanding {
    private final WebSocketBackend owner;

    Tracked(WebSocketBackend owner) {
      this.owner = owner;
    }

    @Override
    public void onWebSocketOpen(Session session) {
      super.onWebSocketOpen(session);
      owner.opened.incrementAndGet();
      owner.open.put(session, Boolean.TRUE);
    }

    @Override
    public void onWebSocketClose(int code, String reason) {
      owner.open.remove(getSession());
      owner.ended.add(new Ended(code, reason));
    }
  }

  /** Echoes every message; obeys {@code close:CODE} and {@code drop}. */
  public static final class Echo extends Tracked {
    Echo(WebSocketBackend owner) {
      super(owner);
    }

    @Override
    public void onWebSocketText(String text) {
      if (text.startsWith("close:")) {
        getSession().close(Integer.parseInt(text.substring(6)), "asked to close", org.eclipse.jetty.websocket.api.Callback.NOOP);
      } else if (text.equals("drop")) {
        getSession().disconnect();
      } else {
        getSession().sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
      }
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
      ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
      callback.succeed();
      getSession().sendBinary(copy, org.eclipse.jetty.websocket.api.Callback.NOOP);
    }
  }

  /** Counts what it is sent. */
  public static final class Sink extends Tracked {
    private final AtomicLong bytes = new AtomicLong();

    Sink(WebSocketBackend owner) {
      super(owner);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
      bytes.addAndGet(payload.remaining());
      callback.succeed();
    }

    @Override
    public void onWebSocketText(String text) {
      getSession().sendText(Long.toString(bytes.get()), org.eclipse.jetty.websocket.api.Callback.NOOP);
    }
  }
}
