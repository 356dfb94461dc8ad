package dev.drawbridge.it.support;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Steady mixed traffic through a load balancer in front of several proxy nodes: a few clients,
 * each sending one request after another (GETs, small and large POSTs, PUTs) with its own target
 * and random body. Every request is kept with its times, the node that answered (the balancer's
 * {@code X-Drawbridge-Node} header) and whether its answer was the echo of this very request, so a
 * test can decide afterwards which failures were allowed. The backend must be {@link
 * Responders#echo()} or wrap it.
 */
public final class ClusterTraffic implements AutoCloseable {

  /** The balancer's header naming the node that answered. */
  public static final String NODE_HEADER = "X-Drawbridge-Node";

  /** Above the proxy's inline limit (64 KiB), so such bodies stream to the agent. */
  private static final int LARGE_BODY = 96 * 1024;

  /**
   * One request and what became of it.
   *
   * @param startNanos when it was sent ({@link System#nanoTime()})
   * @param endNanos when its answer, or its failure, arrived
   * @param node the node that answered, or "" when the answer named none
   * @param status the status, or 0 when the connection broke or nothing came in time
   * @param matched true when the answer was 200 with the echo of this request
   * @param problem why it did not match, or null
   */
  public record Outcome(String method, String target, long startNanos, long endNanos, String node, int status,
      boolean matched, String problem) {

    /** True when this request was on its way while {@code [fromNanos, toNanos]}. */
    public boolean overlaps(long fromNanos, long toNanos) {
      return startNanos <= toNanos && endNanos >= fromNanos;
    }

    @Override
    public String toString() {
      return method + " " + target + " -> " + (status == 0 ? "no answer" : status) + " from "
          + (node.isEmpty() ? "?" : node) + (problem == null ? "" : ": " + problem);
    }
  }

  private final URI base;
  private final List<String> prefixes;
  private final Duration requestTimeout;
  private final ExecutorService clients;
  private final HttpClient http;
  private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
  private volatile boolean stopping;

  private ClusterTraffic(URI base, List<String> prefixes, int clientCount, Duration requestTimeout) {
    this.base = base;
    this.prefixes = List.copyOf(prefixes);
    this.requestTimeout = requestTimeout;
    this.clients = Executors.newFixedThreadPool(clientCount);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout).build();
  }

  /** Starts {@code clientCount} clients sending to {@code base}, each request given up after {@code requestTimeout}. */
  public static ClusterTraffic start(String base, int clientCount, Duration requestTimeout) {
    return start(base, List.of(""), clientCount, requestTimeout);
  }

  /**
   * Like {@link #start(String, int, Duration)}, each request's path beginning with one of {@code
   * prefixes} picked at random, e.g. the routes of several backends.
   */
  public static ClusterTraffic start(String base, List<String> prefixes, int clientCount, Duration requestTimeout) {
    ClusterTraffic traffic = new ClusterTraffic(URI.create(base), prefixes, clientCount, requestTimeout);
    for (int i = 0; i < clientCount; i++) {
      int client = i;
      traffic.clients.execute(() -> traffic.run(client));
    }
    return traffic;
  }

  /** Lets every client finish the request it is on, then stops them. */
  public void stop() throws InterruptedException {
    stopping = true;
    clients.shutdown();
    if (!clients.awaitTermination(requestTimeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
      throw new AssertionError("traffic clients did not stop within twice the request timeout");
    }
  }

  /** Every request so far. */
  public List<Outcome> outcomes() {
    return new ArrayList<>(outcomes);
  }

  /** Requests answered by {@code node} that were sent after {@code sinceNanos}. */
  public long answeredBy(String node, long sinceNanos) {
    return outcomes.stream().filter(o -> o.matched() && o.node().equals(node) && o.startNanos() >= sinceNanos).count();
  }

  @Override
  public void close() {
    stopping = true;
    clients.shutdownNow();
  }

  private void run(int client) {
    SplittableRandom random = new SplittableRandom(client);
    for (long seq = 0; !stopping; seq++) {
      String prefix = prefixes.get(random.nextInt(prefixes.size()));
      outcomes.add(exchange(random, prefix + "/ha/" + client + "-" + seq + "?n=" + seq));
    }
  }

  private Outcome exchange(SplittableRandom random, String target) {
    int kind = random.nextInt(10);
    String method = kind < 4 ? "GET" : kind < 8 ? "POST" : "PUT";
    byte[] body = new byte[0];
    if (!method.equals("GET")) {
      body = new byte[kind == 7 ? LARGE_BODY + random.nextInt(LARGE_BODY) : 1 + random.nextInt(4096)];
      random.nextBytes(body);
    }
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + target))
            .timeout(requestTimeout)
            .header("Content-Type", "application/octet-stream")
            .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    long started = System.nanoTime();
    // Kept as soon as the head arrives: a body that breaks off later still names its node.
    AtomicReference<String> answeredBy = new AtomicReference<>("");
    HttpResponse.BodyHandler<String> handler = info -> {
      answeredBy.set(info.headers().firstValue(NODE_HEADER).orElse(""));
      return HttpResponse.BodyHandlers.ofString().apply(info);
    };
    HttpResponse<String> response;
    try {
      response = http.send(request, handler);
    } catch (HttpTimeoutException e) {
      return new Outcome(method, target, started, System.nanoTime(), answeredBy.get(), 0, false,
          "no answer within " + requestTimeout);
    } catch (IOException e) {
      return new Outcome(method, target, started, System.nanoTime(), answeredBy.get(), 0, false, "connection broke: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome(method, target, started, System.nanoTime(), answeredBy.get(), 0, false, "interrupted");
    }
    long ended = System.nanoTime();
    String node = answeredBy.get();
    String problem = judge(method, target, body, response);
    return new Outcome(method, target, started, ended, node, response.statusCode(), problem == null, problem);
  }

  /** Null when the answer is the echo of this request, else what is wrong with it. */
  private static String judge(String method, String target, byte[] body, HttpResponse<String> response) {
    if (response.statusCode() != 200) {
      String text = response.body().strip();
      return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
    RecordedRequest echo;
    try {
      echo = Json.fromJson(response.body(), RecordedRequest.class);
    } catch (FrameException e) {
      return "not an echo";
    }
    boolean same = echo.target().equals(target)
        && echo.method().equals(method)
        && echo.bodyLength() == body.length
        && echo.bodySha256().equals(HexFormat.of().formatHex(Tokens.sha256().digest(body)));
    return same ? null : "SWAPPED: the echo of " + echo.method() + " " + echo.target();
  }
}
