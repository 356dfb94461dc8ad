package dev.drawbridge.it.support;

import dev.drawbridge.protocol.HeaderField;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A scriptable HTTP backend in the style of OkHttp's MockWebServer: script answers per path with
 * {@link #respondTo}, run the code under test, then check what arrived with {@link #takeRequest}.
 * Answers with {@link Responders#echo()} unless told otherwise. Listens on 127.0.0.1, OS-chosen port.
 */
public final class Backend implements AutoCloseable {

  /** Request body bytes kept as text in a {@link RecordedRequest}; the rest is only hashed. */
  public static final int KEPT_BODY_BYTES = 1024 * 1024;

  /** Longer than any test: a stalled request must stay stalled until the test ends it. */
  private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(5);

  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(httpConfiguration()));
  private final Map<String, Responder> responders = new ConcurrentHashMap<>();
  private final BlockingQueue<RecordedRequest> received = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> brokenOff = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> begun = new LinkedBlockingQueue<>();
  private volatile Responder defaultResponder = Responders.echo();
  private int port;

  private Backend() {}

  /**
   * Like a real backend behind a proxy: encoded characters such as %2F reach the handler as sent,
   * and response heads may be larger than a proxy's container could write (as Node's may).
   */
  private static HttpConfiguration httpConfiguration() {
    HttpConfiguration http = new HttpConfiguration();
    http.setUriCompliance(UriCompliance.UNSAFE);
    http.setResponseHeaderSize(64 * 1024);
    return http;
  }

  /** Starts a backend that echoes every request. */
  public static Backend start() {
    Backend backend = new Backend();
    backend.connector.setHost("127.0.0.1");
    backend.connector.setPort(0);
    backend.connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    backend.server.addConnector(backend.connector);
    backend.server.setHandler(backend.new ScriptedHandler());
    backend.server.setStopTimeout(0);
    try {
      backend.server.start();
    } catch (Exception e) {
      throw new IllegalStateException("the test backend did not start", e);
    }
    backend.port = backend.connector.getLocalPort();
    return backend;
  }

  /**
   * Stops listening and drops every connection, as a crashing backend does; {@link #restart}
   * brings it back. Scripts and requests not yet taken are kept.
   */
  public void stop() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("the test backend did not stop cleanly", e);
    }
  }

  /** Listens again on the port it had before {@link #stop}, with the same scripts. */
  public void restart() {
    connector.setPort(port);
    try {
      server.start();
    } catch (Exception e) {
      throw new IllegalStateException("the test backend did not start again on port " + port, e);
    }
  }

  /** Answers requests whose path (without query) is exactly {@code path} with {@code responder}. */
  public Backend respondTo(String path, Responder responder) {
    responders.put(path, responder);
    return this;
  }

  /** Answers every request no {@link #respondTo} script matches. */
  public Backend respondByDefault(Responder responder) {
    defaultResponder = responder;
    return this;
  }

  /**
   * The next request that arrived, in arrival order.
   *
   * @throws AssertionError if none arrives within {@code timeout}
   */
  public RecordedRequest takeRequest(Duration timeout) throws InterruptedException {
    RecordedRequest request = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (request == null) {
      throw new AssertionError("the backend received no request within " + timeout);
    }
    return request;
  }

  /**
   * The target of the next request whose body broke off before its end (the connection closed or
   * was reset under it), in the order they broke. Such a request is never one {@link #takeRequest}
   * returns: the backend saw no whole request.
   *
   * @throws AssertionError if no body breaks off within {@code timeout}
   */
  public String takeBrokenBody(Duration timeout) throws InterruptedException {
    String target = brokenOff.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (target == null) {
      throw new AssertionError("no request body broke off at the backend within " + timeout);
    }
    return target;
  }

  /**
   * The target of the next request whose head arrived, before its body is read: lets a test act
   * while the service is in the middle of a request, e.g. leave during an upload.
   *
   * @throws AssertionError if no request begins within {@code timeout}
   */
  public String takeBegun(Duration timeout) throws InterruptedException {
    String target = begun.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (target == null) {
      throw new AssertionError("no request began at the backend within " + timeout);
    }
    return target;
  }

  /** Forgets the requests that began so far, so {@link #takeBegun} sees only the next ones. */
  public void drainBegun() {
    begun.clear();
  }

  /** Requests received and not yet taken; lets a test assert that nothing (more) arrived. */
  public List<RecordedRequest> drainRequests() {
    List<RecordedRequest> requests = new ArrayList<>();
    received.drainTo(requests);
    return requests;
  }

  /** E.g. {@code http://127.0.0.1:41235}: the agent's {@code --target}. */
  public String url() {
    return "http://127.0.0.1:" + port();
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    stop();
  }

  private final class ScriptedHandler extends Handler.Abstract {

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      begun.add(request.getHttpURI().getPathQuery());
      RecordedRequest recorded;
      try {
        recorded = record(request);
      } catch (Exception e) {
        // The body broke off, or the backend is stopping under the request: drop the connection,
        // as a crashing backend does, rather than let Jetty answer with its own 500 page.
        brokenOff.add(request.getHttpURI().getPathQuery());
        request.getConnectionMetaData().getConnection().getEndPoint().close();
        callback.failed(e);
        return true;
      }
      received.add(recorded);
      Responder responder = responders.getOrDefault(Request.getPathInContext(request), defaultResponder);
      try {
        responder.respond(recorded, response, callback);
      } catch (Exception e) {
        callback.failed(e);
      }
      return true;
    }

    private RecordedRequest record(Request request) throws Exception {
      List<HeaderField> headers = new ArrayList<>();
      for (HttpField field : request.getHeaders()) {
        headers.add(new HeaderField(field.getName(), field.getValue()));
      }
      Bodies.Summary body;
      try (InputStream in = Content.Source.asInputStream(request)) {
        body = Bodies.summarize(in, KEPT_BODY_BYTES);
      }
      return new RecordedRequest(
          request.getMethod(),
          request.getHttpURI().getPathQuery(),
          headers,
          body.length(),
          body.sha256(),
          new String(body.prefix(), StandardCharsets.UTF_8));
    }
  }
}
