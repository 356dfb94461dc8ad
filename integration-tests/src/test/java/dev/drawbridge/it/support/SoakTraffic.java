package dev.drawbridge.it.support;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Steady mixed traffic through the proxy for a soak test: a few clients, each sending one request
 * after another (GETs, small and large POSTs, PUTs), each with its own target and random body, and
 * checking every answer against its request. The backend must be {@link Responders#echo()}, which
 * answers with what it received; an answer is {@link Outcome#MATCHED} only when target, method,
 * body length and body hash are those of the request.
 */
public final class SoakTraffic implements AutoCloseable {

  /** What became of one request. */
  public enum Outcome {
    /** 200 with the echo of this very request. */
    MATCHED,
    /** 502, 503 or 504 with one sentence and an exchange id (503 with Retry-After): an outcome of docs/http.md. */
    DOCUMENTED_ERROR,
    /** The connection broke: the outcome docs/http.md gives for a response that broke off after its head. */
    CUT,
    /** A 200 whose echo belongs to another request, or is not an echo at all. */
    MISMATCHED,
    /** No answer within the request timeout. */
    HUNG,
    /** Any other status, or an error status without its documented form. */
    UNEXPECTED
  }

  /** The outcomes a test must never see. */
  public static final Set<Outcome> FAILURES = Set.of(Outcome.MISMATCHED, Outcome.HUNG, Outcome.UNEXPECTED);

  private static final Set<Integer> DOCUMENTED_STATUSES = Set.of(502, 503, 504);
  /** Above the proxy's inline limit (64 KiB), so such bodies stream to the agent. */
  private static final int LARGE_BODY = 96 * 1024;
  private static final int MAX_PROBLEMS_KEPT = 20;

  private final URI base;
  private final Duration requestTimeout;
  private final ExecutorService clients;
  private final HttpClient http;
  private final AtomicLongArray counts = new AtomicLongArray(Outcome.values().length);
  private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
  private final CountDownLatch failed = new CountDownLatch(1);
  private volatile boolean stopping;

  private SoakTraffic(URI base, int clientCount, Duration requestTimeout) {
    this.base = base;
    this.requestTimeout = requestTimeout;
    this.clients = Executors.newFixedThreadPool(clientCount);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout).build();
  }

  /**
   * Starts {@code clientCount} clients sending to {@code base} (the proxy's base URL), each request
   * given up after {@code requestTimeout}.
   */
  public static SoakTraffic start(String base, int clientCount, Duration requestTimeout) {
    SoakTraffic traffic = new SoakTraffic(URI.create(base), clientCount, requestTimeout);
    for (int i = 0; i < clientCount; i++) {
      int client = i;
      traffic.clients.execute(() -> traffic.run(client));
    }
    return traffic;
  }

  /** Lets every client finish the request it is on, then stops them; bounded by the request timeout. */
  public void stop() throws InterruptedException {
    stopping = true;
    clients.shutdown();
    if (!clients.awaitTermination(requestTimeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
      throw new AssertionError("soak clients did not stop within twice the request timeout");
    }
  }

  /** Requests so far, by outcome. */
  public Map<Outcome, Long> counts() {
    Map<Outcome, Long> byOutcome = new EnumMap<>(Outcome.class);
    for (Outcome outcome : Outcome.values()) {
      byOutcome.put(outcome, counts.get(outcome.ordinal()));
    }
    return byOutcome;
  }

  /** Requests so far with this outcome. */
  public long count(Outcome outcome) {
    return counts.get(outcome.ordinal());
  }

  /**
   * Waits up to {@code duration} for a request to fail the test; true if one did. A soak paces its
   * schedule with this, so a failure ends it early instead of after its full length.
   */
  public boolean awaitFailure(Duration duration) throws InterruptedException {
    return failed.await(duration.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The first few requests that failed the test, one line each. */
  public List<String> problems() {
    return new ArrayList<>(problems);
  }

  @Override
  public void close() {
    stopping = true;
    clients.shutdownNow();
  }

  private void run(int client) {
    SplittableRandom random = new SplittableRandom(client);
    for (long seq = 0; !stopping; seq++) {
      String target = "/soak/" + client + "-" + seq + "?n=" + seq;
      Outcome outcome = exchange(random, target);
      counts.incrementAndGet(outcome.ordinal());
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
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      return problem(Outcome.HUNG, method + " " + target + ": no answer within " + requestTimeout);
    } catch (IOException e) {
      return Outcome.CUT;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.CUT;
    }
    return judge(method, target, body, response);
  }

  private Outcome judge(String method, String target, byte[] body, HttpResponse<String> response) {
    String what = method + " " + target + " -> " + response.statusCode();
    if (response.statusCode() == 200) {
      RecordedRequest echo;
      try {
        echo = Json.fromJson(response.body(), RecordedRequest.class);
      } catch (FrameException e) {
        return problem(Outcome.MISMATCHED, what + ": not an echo: " + shorten(response.body()));
      }
      boolean same =
          echo.target().equals(target)
              && echo.method().equals(method)
              && echo.bodyLength() == body.length
              && echo.bodySha256().equals(sha256(body));
      return same ? Outcome.MATCHED : problem(Outcome.MISMATCHED, what + ": the echo of another request: " + echo.method() + " " + echo.target());
    }
    String text = response.body().strip();
    boolean documented =
        DOCUMENTED_STATUSES.contains(response.statusCode())
            && response.headers().firstValue(Protocol.EXCHANGE_ID_HEADER).isPresent()
            && !text.contains("\n")
            && text.endsWith(".")
            && (response.statusCode() != 503 || response.headers().firstValue("Retry-After").isPresent());
    return documented ? Outcome.DOCUMENTED_ERROR : problem(Outcome.UNEXPECTED, what + ": " + shorten(text));
  }

  private Outcome problem(Outcome outcome, String description) {
    if (problems.size() < MAX_PROBLEMS_KEPT) {
      problems.add(description);
    }
    failed.countDown();
    return outcome;
  }

  private static String shorten(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(Tokens.sha256().digest(bytes));
  }
}
