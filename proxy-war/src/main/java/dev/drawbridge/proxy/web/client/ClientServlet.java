package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.EndedExchange;
import dev.drawbridge.proxy.exchange.InFlightLimit;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeIds;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.http.CredentialHeaders;
import dev.drawbridge.proxy.http.ForwardedHeaders;
import dev.drawbridge.proxy.http.ReservedPath;
import dev.drawbridge.proxy.route.Router;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.UndertowBodyLimit;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * Takes every client request for a backend (any method), holds it with {@link AsyncContext} and
 * queues it for an agent. It never blocks: small bodies are read with a {@code ReadListener} before
 * queueing, larger ones stay in the client's connection until the agent asks for them.
 */
public class ClientServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** Built from the running configuration; replaced when a reload changed it. */
  private transient volatile ClientGate gate;
  private transient UpgradeHandshake upgrades;
  private transient InFlightLimit inFlight;
  private transient java.util.function.Consumer<EndedExchange> releaseInFlight;

  @Override
  public void init() {
    Tunnel tunnel = Responses.tunnel(getServletContext());
    gate = new ClientGate(tunnel.settings());
    upgrades = new UpgradeHandshake(tunnel::settings);
    inFlight = new InFlightLimit();
    releaseInFlight = ended -> inFlight.release(ended.backendId());
    tunnel.addEndListener(releaseInFlight);
  }

  /**
   * The drain starts here, on the undeploying thread, because Tomcat stops a web application's
   * servlets before its listeners and, about a second later, times out its held requests itself;
   * the worker thread that runs such a timeout keeps the application's class loader (Tomcat
   * reports it as a leaked thread). So every client still waiting for an agent hears 503 first,
   * and responses already streaming get {@code drainGraceSeconds} to finish (on Tomcat, only until
   * its own timeout); {@link dev.drawbridge.proxy.web.DrawbridgeListener} finishes the drain.
   */
  @Override
  public void destroy() {
    Object tunnel = getServletContext().getAttribute(Responses.TUNNEL_ATTRIBUTE);
    if (tunnel instanceof Tunnel running) {
      running.close();
      running.removeEndListener(releaseInFlight);
    }
  }

  @Override
  protected void service(HttpServletRequest clientRequest, HttpServletResponse clientResponse)
      throws IOException {
    if (clientRequest.getDispatcherType() == DispatcherType.ASYNC) {
      Object reason = clientRequest.getAttribute(ServletClientLeg.ABORT_ATTRIBUTE);
      throw ResponseCut.exception(clientRequest, String.valueOf(reason));
    }
    // Named before any check, so that a refusal too carries an id to find it by in the access log.
    String id = ExchangeIds.next();
    clientResponse.setHeader(Protocol.EXCHANGE_ID_HEADER, id);
    Tunnel tunnel = Responses.tunnel(getServletContext());
    ProxySettings settings = tunnel.settings();
    ClientGate gate = gate(settings);
    String clientTarget = rawTarget(clientRequest);
    if (ReservedPath.covers(clientTarget, Protocol.RESERVED_PREFIX)) {
      Responses.text(clientResponse, 404, reservedPathMessage(clientTarget));
      return;
    }
    Router.Routed routed = gate.admit(clientRequest, clientResponse, clientTarget);
    if (routed == null) {
      return;
    }
    String target = routed.target();
    Backend backend = tunnel.backend(routed.backend());
    if (backend == null) {
      // Routed by a configuration a reload replaced while this request was on its way in.
      clientResponse.setHeader("Retry-After", Integer.toString(settings.retryAfterSeconds()));
      Responses.text(clientResponse, 503, "The proxy's configuration changed as this request arrived; retry.");
      return;
    }
    long contentLength = clientRequest.getContentLengthLong();
    boolean chunked = clientRequest.getHeader("Transfer-Encoding") != null;
    if (settings.maxRequestBodyBytes() > 0 && contentLength > settings.maxRequestBodyBytes()) {
      clientResponse.setHeader("Connection", "close");
      Responses.text(
          clientResponse,
          413,
          "The request body of " + contentLength + " bytes exceeds the limit of " + settings.maxRequestBodyBytes() + " bytes.");
      return;
    }
    String clientAddress = gate.clientAddress(clientRequest);
    ForwardedHeaders.Hop hop =
        new ForwardedHeaders.Hop(
            clientRequest.getRemoteAddr(),
            clientAddress,
            clientRequest.getHeader("Host"),
            clientRequest.getScheme(),
            clientRequest.getProtocol(),
            settings.trustedProxies().contains(clientRequest.getRemoteAddr()));
    List<HeaderField> headers =
        ForwardedHeaders.add(
            CredentialHeaders.forward(requestHeaders(clientRequest), routed.route()), hop,
            settings.viaToService() ? settings.via() : null,
            clientRequest.getContextPath() + routed.strippedPrefix());
    String upgrade = UpgradeHandshake.offered(clientRequest);
    if (upgrade != null) {
      upgrades.handle(clientRequest, clientResponse, id, routed, backend, headers, upgrade, clientAddress, inFlight);
      return;
    }
    BodyMode mode;
    if (contentLength > 0) {
      mode = contentLength <= settings.inlineBodyMaxBytes() ? BodyMode.INLINE : BodyMode.STREAM;
    } else {
      mode = chunked ? BodyMode.STREAM : BodyMode.NONE;
    }
    if (!inFlight.tryAdmit(backend.id(), backend.settings().maxInFlight())) {
      clientResponse.setHeader("Retry-After", Integer.toString(settings.retryAfterSeconds()));
      Responses.text(clientResponse, 503, "Backend '" + backend.id() + "' has too many requests in progress; retry shortly.");
      return;
    }
    if (mode != BodyMode.NONE) {
      // The proxy's maxRequestBodyBytes applies; WildFly's max-post-size (10 MiB) must not cut it.
      UndertowBodyLimit.lift(clientRequest);
      // Only now that the body is taken: a body over the limit got its 413 above without a 100.
      ContinueAnswer.send(clientResponse, clientRequest.getHeader("Expect"));
    }
    AsyncContext async = clientRequest.startAsync();
    async.setTimeout(0);
    ServletClientLeg client = new ServletClientLeg(async, Responses.handoff(getServletContext()));
    String method = clientRequest.getMethod();
    long bodyLength = mode == BodyMode.NONE ? 0 : chunked ? -1 : contentLength;
    if (mode == BodyMode.INLINE) {
      clientRequest
          .getInputStream()
          .setReadListener(
              new InlineBodyReader(
                  clientRequest.getInputStream(),
                  (int) contentLength,
                  body -> {
                    String inline = Base64.getEncoder().encodeToString(body);
                    open(backend, client, clientAddress, new RequestHead(id, backend.id(), method, target, headers, mode, body.length, inline));
                  },
                  failure -> {
                    inFlight.release(backend.id());
                    client.sendError(400, "The request body did not match its Content-Length.", 0);
                  }));
    } else {
      open(backend, client, clientAddress, new RequestHead(id, backend.id(), method, target, headers, mode, bodyLength, null));
    }
  }

  /**
   * The gate of {@code settings}. Routes, address lists and rate limits of a reloaded configuration
   * apply from the next request; rate limits start counting afresh.
   */
  private ClientGate gate(ProxySettings settings) {
    ClientGate current = gate;
    if (current.settings() != settings) {
      current = new ClientGate(settings);
      gate = current;
    }
    return current;
  }

  private static void open(
      Backend backend, ServletClientLeg client, String clientAddress, RequestHead head) {
    Exchange exchange = backend.open(head, client, clientAddress);
    if (head.body() == BodyMode.INLINE) {
      exchange.addBytesFromClient(head.bodyLength());
    }
    client.bind(exchange);
    backend.submit(exchange);
  }

  /**
   * The request target exactly as the client sent it, less the context path: no decoding, no
   * normalisation, so the backend sees what the client wrote.
   */
  static String rawTarget(HttpServletRequest request) {
    String uri = request.getRequestURI();
    String context = request.getContextPath();
    String path = uri.startsWith(context) ? uri.substring(context.length()) : uri;
    if (path.isEmpty()) {
      path = "/";
    }
    String query = request.getQueryString();
    return query == null ? path : path + "?" + query;
  }

  private static List<HeaderField> requestHeaders(HttpServletRequest request) {
    List<HeaderField> fields = new ArrayList<>();
    for (String name : Collections.list(request.getHeaderNames())) {
      // The container already answered Expect: 100-continue for this hop.
      if (name.equalsIgnoreCase("expect")) {
        continue;
      }
      for (String value : Collections.list(request.getHeaders(name))) {
        fields.add(new HeaderField(name, value));
      }
    }
    return HopByHop.endToEnd(fields);
  }

  private static String reservedPathMessage(String target) {
    if (target.startsWith(Protocol.RESERVED_PREFIX + "/agent/") && !target.startsWith(Protocol.AGENT_BASE + "/")) {
      return "This proxy speaks agent protocol " + Protocol.VERSION + " at " + Protocol.AGENT_BASE + "; run an agent of a matching version.";
    }
    return "There is no Drawbridge endpoint at this path.";
  }

  /**
   * Thrown on the abort dispatch, so the container cuts the client's connection, where the
   * container has no quiet type of its own ({@link ResponseCut}).
   */
  static final class ResponseAbortedException extends IOException {
    private static final long serialVersionUID = 1L;

    ResponseAbortedException(String reason) {
      super("Drawbridge cut the client's response: " + reason);
    }
  }
}
