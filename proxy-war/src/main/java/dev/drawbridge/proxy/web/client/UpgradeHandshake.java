package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.InFlightLimit;
import dev.drawbridge.proxy.http.ForwardedHeaders;
import dev.drawbridge.proxy.http.UpgradeTokens;
import dev.drawbridge.proxy.route.Router;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A client's protocol-switch handshake (a WebSocket's {@code GET} with {@code Upgrade}), on its own
 * request thread from start to switch.
 *
 * <p>Why the thread waits: Tomcat (10.1 and 11) switches a connection's protocol only when {@code
 * HttpServletRequest.upgrade} is called inside the request's original {@code service} call. Its
 * {@code Http11Processor.service} checks for the upgrade token after the servlet returns and then
 * hands the socket to the upgrade processor; the asynchronous dispatch path
 * ({@code AbstractProcessor.dispatch}) never looks at it, and a request in async mode is kept as
 * an HTTP request. Jetty 12.1 (ee10) and Undertow (WildFly) allow the same call from {@code
 * service}, Jetty 12.1 only for a handshake that declares {@code Content-Length: 0} ({@link
 * #switchNeedsDeclaredLength}); Jetty 12.0 does not implement it. So the thread waits for the
 * backend's answer, for at most {@code upgradeHandshakeTimeoutSeconds}, and at most {@code maxUpgradeHandshakes} threads wait
 * at once, or half the container's request threads if that is less: the agent's answer needs a
 * request thread of its own to arrive. Tomcat's {@code upgrade} sets only the 101 status: the {@code Upgrade} and {@code
 * Connection} headers are set here (Undertow sets {@code Connection} itself; setting it twice is
 * harmless). HTTP/2 and AJP connections cannot switch; they are refused before anything is sent.
 */
final class UpgradeHandshake {

  private static final Logger LOG = Logger.getLogger(UpgradeHandshake.class.getName());

  /** How Jetty 12.1 begins {@code ServletContext.getServerInfo()}, in any case. */
  private static final String JETTY_12_1 = "jetty/12.1.";

  /** Extra wait past the handshake deadline, which the reaper enforces, as a safety net. */
  private static final long WAIT_MARGIN_MILLIS = 2_000;

  /** The running configuration: read per handshake, so a reload applies to the next one. */
  private final Supplier<ProxySettings> liveSettings;
  private final AtomicInteger waiting = new AtomicInteger();
  private final ContainerThreads containerThreads = new ContainerThreads();
  /** The last limit lowered below the configured one, so the log tells it once, not per handshake. */
  private final AtomicInteger loweredLimitLogged = new AtomicInteger();
  /** Whether the log told operators about Jetty 12.1's refused handshakes yet. */
  private final AtomicBoolean jettyLimitLogged = new AtomicBoolean();

  UpgradeHandshake(Supplier<ProxySettings> liveSettings) {
    this.liveSettings = liveSettings;
  }

  private ProxySettings settings() {
    return liveSettings.get();
  }

  /**
   * {@code maxUpgradeHandshakes}, lowered to half the container's request threads where the
   * container tells them (see {@link ContainerThreads#handshakeLimit}).
   */
  private int handshakeLimit(HttpServletRequest clientRequest) {
    int configured = settings().upgrades().maxHandshakes();
    int threads = containerThreads.of(clientRequest);
    int limit = ContainerThreads.handshakeLimit(configured, threads);
    if (limit < configured && loweredLimitLogged.getAndSet(limit) != limit) {
      LOG.info(() -> "At most " + limit + " WebSocket handshakes wait at once, not maxUpgradeHandshakes " + configured
          + ": half of the " + threads + " request threads of this connector, so the agents' calls always find one");
    }
    return limit;
  }

  /** Takes a waiting place unless {@code max} threads wait already. */
  private boolean tryWait(int max) {
    while (true) {
      int now = waiting.get();
      if (now >= max) {
        return false;
      }
      if (waiting.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /**
   * The protocols a request asks to switch to and the proxy relays, or null for an ordinary
   * request (no {@code Upgrade}, no {@code upgrade} token in {@code Connection}, or only {@code h2c}).
   */
  static String offered(HttpServletRequest clientRequest) {
    String upgrade = clientRequest.getHeader("Upgrade");
    if (upgrade == null) {
      return null;
    }
    if (!UpgradeTokens.connectionAsksUpgrade(Collections.list(clientRequest.getHeaders("Connection")))) {
      return null;
    }
    return UpgradeTokens.relayable(upgrade);
  }

  /**
   * Handles the handshake to its end: switched, relayed as an ordinary response, or refused.
   *
   * @param id the exchange id the client's response already names
   */
  void handle(
      HttpServletRequest clientRequest,
      HttpServletResponse clientResponse,
      String id,
      Router.Routed routed,
      Backend backend,
      List<HeaderField> headers,
      String upgrade,
      String clientAddress,
      InFlightLimit inFlight)
      throws IOException {
    Refusal refusal = refusal(clientRequest, routed, backend);
    if (refusal != null) {
      Responses.text(clientResponse, refusal.status(), refusal.message());
      return;
    }
    if (!inFlight.tryAdmit(backend.id(), backend.settings().maxInFlight())) {
      busy(clientResponse, "Backend '" + backend.id() + "' has too many requests in progress; retry shortly.");
      return;
    }
    if (!backend.upgradeSlots().tryAdmit()) {
      inFlight.release(backend.id());
      busy(clientResponse, "Backend '" + backend.id() + "' has " + backend.settings().maxUpgraded()
          + " upgraded connections open, its limit; retry shortly.");
      return;
    }
    if (!tryWait(handshakeLimit(clientRequest))) {
      backend.upgradeSlots().release();
      inFlight.release(backend.id());
      busy(clientResponse, "Too many WebSocket handshakes are waiting for their backends; retry shortly.");
      return;
    }
    UpgradeClientLeg client = new UpgradeClientLeg();
    Exchange exchange;
    UpgradeRelay relay;
    HandshakeAnswer answer;
    try {
      RequestHead head =
          new RequestHead(id, backend.id(), clientRequest.getMethod(), routed.target(), headers, BodyMode.NONE, 0, null, upgrade);
      exchange = backend.open(head, client, clientAddress);
      relay =
          new UpgradeRelay(exchange, client, ForwardedHeaders.viaEntry(clientRequest.getProtocol(), settings().via()),
              Responses.handoff(clientRequest.getServletContext()));
      client.bind(relay);
      exchange.attach(relay);
      backend.submit(exchange);
      answer = await(exchange, client);
    } finally {
      waiting.decrementAndGet();
    }
    clientResponse.setHeader(Protocol.EXCHANGE_ID_HEADER, exchange.id());
    if (answer.isError()) {
      if (answer.retryAfterSeconds() > 0) {
        clientResponse.setHeader("Retry-After", Integer.toString(answer.retryAfterSeconds()));
      }
      Responses.text(clientResponse, answer.status(), answer.message());
    } else if (answer.switches()) {
      switchProtocols(clientRequest, clientResponse, exchange, relay, answer);
    } else {
      relayRefusal(clientRequest, clientResponse, exchange, client, relay, answer);
    }
  }

  /** A handshake refused before it reaches a backend: the status and the sentence. */
  private record Refusal(int status, String message) {}

  /** Why this handshake cannot be relayed, or null. */
  private Refusal refusal(HttpServletRequest clientRequest, Router.Routed routed, Backend backend) {
    if (!clientRequest.getProtocol().toUpperCase(Locale.ROOT).startsWith("HTTP/1.")
        || "ajp".equalsIgnoreCase(connectionProtocol(clientRequest))) {
      return new Refusal(501, "Protocol switches (WebSockets) through this proxy need an HTTP/1.1 connection; this one is "
          + ("ajp".equalsIgnoreCase(connectionProtocol(clientRequest)) ? "AJP" : clientRequest.getProtocol()) + ".");
    }
    if ((routed.route() != null && !routed.route().upgrades()) || !backend.settings().upgrades()) {
      return new Refusal(501, "Protocol switches (WebSockets) are turned off for this path.");
    }
    if (clientRequest.getContentLengthLong() > 0 || clientRequest.getHeader("Transfer-Encoding") != null) {
      return new Refusal(400, "A protocol-switch request with a body is not relayed.");
    }
    if (!backend.canRelayUpgrades()) {
      return new Refusal(501, "The agents of backend '" + backend.id() + "' are too old to relay WebSockets; update them.");
    }
    if (clientRequest.getHeader("Content-Length") == null
        && switchNeedsDeclaredLength(clientRequest.getServletContext().getServerInfo())) {
      if (!jettyLimitLogged.getAndSet(true)) {
        LOG.warning("WebSocket handshakes without Content-Length get 501 in this container: Jetty 12.1's servlet"
            + " upgrade cannot switch them, and browsers send none. Run the proxy in Tomcat or WildFly for WebSockets.");
      }
      return new Refusal(501, "This server cannot switch protocols for a handshake without Content-Length"
          + " (Jetty 12.1); WebSockets through this proxy need it in Tomcat or WildFly.");
    }
    return null;
  }

  /**
   * True in Jetty 12.1, whose servlet upgrade gives the proxy an upgraded input that is already at
   * its end unless the handshake declared {@code Content-Length: 0}: the client's first bytes are
   * then parsed as a new HTTP request, answered with 400 inside the upgraded connection. Browsers
   * and most WebSocket clients declare no length, so such a handshake is refused with 501 before
   * anything is switched, rather than given a 101 and a broken connection.
   */
  static boolean switchNeedsDeclaredLength(String serverInfo) {
    return serverInfo != null && serverInfo.regionMatches(true, 0, JETTY_12_1, 0, JETTY_12_1.length());
  }

  private static String connectionProtocol(HttpServletRequest clientRequest) {
    try {
      return clientRequest.getServletConnection().getProtocol();
    } catch (RuntimeException | AbstractMethodError e) {
      return "";
    }
  }

  private void busy(HttpServletResponse clientResponse, String message) throws IOException {
    clientResponse.setHeader("Retry-After", Integer.toString(settings().retryAfterSeconds()));
    Responses.text(clientResponse, 503, message);
  }

  /** Waits for the answer; past the deadline (which the reaper enforces first) ends the exchange itself. */
  private HandshakeAnswer await(Exchange exchange, UpgradeClientLeg client) {
    long bound = settings().upgrades().handshakeTimeout().toMillis() + WAIT_MARGIN_MILLIS;
    try {
      HandshakeAnswer answer = client.await(bound);
      if (answer == null) {
        exchange.fail(504, "The backend did not answer the handshake in time.");
        answer = client.await(WAIT_MARGIN_MILLIS);
      }
      if (answer != null) {
        return answer;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exchange.fail(503, "The proxy is shutting down; retry shortly.");
    }
    return HandshakeAnswer.error(504, "The backend did not answer the handshake in time.", 0);
  }

  private static void switchProtocols(
      HttpServletRequest clientRequest,
      HttpServletResponse clientResponse,
      Exchange exchange,
      UpgradeRelay relay,
      HandshakeAnswer answer)
      throws IOException {
    setHeaders(clientResponse, answer);
    clientResponse.setHeader("Connection", "Upgrade");
    clientResponse.setStatus(101);
    try {
      RelayUpgradeHandler handler = clientRequest.upgrade(RelayUpgradeHandler.class);
      handler.attach(relay);
    } catch (ServletException | UnsupportedOperationException | IllegalStateException e) {
      LOG.log(Level.WARNING, exchange + ": the container refused to switch the client's connection to "
          + exchange.head().upgrade() + "; WebSockets need a container with the Servlet protocol upgrade (Tomcat 10.1+, Jetty 12.1+, WildFly)", e);
      exchange.fail(502, "This server could not switch the connection's protocol.");
      clientResponse.reset();
      clientResponse.setHeader(Protocol.EXCHANGE_ID_HEADER, exchange.id());
      Responses.text(clientResponse, 502, "This server could not switch the connection's protocol.");
    }
  }

  /** The backend refused the switch: its answer goes to the client as an ordinary response. */
  private static void relayRefusal(
      HttpServletRequest clientRequest,
      HttpServletResponse clientResponse,
      Exchange exchange,
      UpgradeClientLeg client,
      UpgradeRelay relay,
      HandshakeAnswer answer)
      throws IOException {
    clientResponse.setStatus(answer.status());
    setHeaders(clientResponse, answer);
    if (answer.contentLength() >= 0) {
      clientResponse.setContentLengthLong(answer.contentLength());
    }
    AsyncContext async = clientRequest.startAsync();
    async.setTimeout(0);
    ServletClientLeg leg = new ServletClientLeg(async, relay.lane());
    leg.bind(exchange);
    String cut = client.respondingWith(leg);
    if (cut != null) {
      leg.abort(cut);
      return;
    }
    clientResponse.setBufferSize(UpgradeRelay.CHUNK);
    relay.clientResponding(clientResponse.getOutputStream(), leg.guard());
  }

  /** The first field of each name replaces what the container set already; repeats are added. */
  private static void setHeaders(HttpServletResponse clientResponse, HandshakeAnswer answer) {
    Set<String> seen = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (HeaderField field : answer.headers()) {
      if (seen.add(field.name())) {
        clientResponse.setHeader(field.name(), field.value());
      } else {
        clientResponse.addHeader(field.name(), field.value());
      }
    }
  }
}
