package dev.drawbridge.it.support;

import dev.drawbridge.protocol.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;

/**
 * Steady client traffic through the tunnel in which every request is checked: each GET of {@code
 * base/prefix/N} must come back 200 as the echo of exactly that request. Runs on a few threads
 * until closed; a test changes something meanwhile and then asserts {@link #failures()} is empty.
 */
public final class CheckedTraffic implements AutoCloseable {

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(REQUEST_TIMEOUT).build();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong sequence = new AtomicLong();
  private final List<Thread> clients = new ArrayList<>();
  private volatile boolean running = true;

  private CheckedTraffic() {}

  /**
   * Starts {@code clients} threads sending GETs to {@code proxyBaseUrl + prefix + "/N"}; the
   * backend must see {@code expectedPrefix + "/N"}.
   */
  public static CheckedTraffic start(String proxyBaseUrl, String prefix, String expectedPrefix, int clients) {
    CheckedTraffic traffic = new CheckedTraffic();
    for (int i = 0; i < clients; i++) {
      Thread thread = new Thread(() -> traffic.loop(proxyBaseUrl, prefix, expectedPrefix), "checked-traffic-" + i);
      thread.setDaemon(true);
      traffic.clients.add(thread);
      thread.start();
    }
    return traffic;
  }

  private void loop(String base, String prefix, String expectedPrefix) {
    while (running) {
      String path = "/" + sequence.incrementAndGet();
      try {
        HttpResponse<String> response = client.send(
            HttpRequest.newBuilder(URI.create(base + prefix + path)).timeout(REQUEST_TIMEOUT).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          failures.add(prefix + path + ": " + response.statusCode() + " " + response.body());
        } else if (!Json.fromJson(response.body(), RecordedRequest.class).target().equals(expectedPrefix + path)) {
          failures.add(prefix + path + ": the answer of another request: " + response.body());
        } else {
          succeeded.incrementAndGet();
        }
      } catch (Exception e) {
        if (running) {
          failures.add(prefix + path + ": " + e);
        }
      }
    }
  }

  /** Waits until {@code count} more requests succeeded: traffic really flowed across a change. */
  public void awaitMore(long count, Duration within) {
    long target = succeeded.get() + count;
    Awaitility.await("" + count + " more checked requests").atMost(within).until(() -> succeeded.get() >= target || !failures.isEmpty());
  }

  public long succeeded() {
    return succeeded.get();
  }

  /** Every request that did not come back as its own echo with 200, with what came back. */
  public List<String> failures() {
    return List.copyOf(failures);
  }

  /** Stops sending and waits for the requests in flight to end. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread thread : clients) {
      thread.join(REQUEST_TIMEOUT.toMillis() + 5_000);
    }
  }
}
