package dev.drawbridge.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.drawbridge.protocol.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scripted backend on its own, so a harness bug never passes for a proxy bug. */
@Timeout(120)
class BackendIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newHttpClient();

  @Test
  void echoesWhatItReceivedAndRecordsIt() throws Exception {
    try (Backend backend = Backend.start()) {
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create(backend.url() + "/a%20b?q=1"))
                  .header("X-Test", "yes")
                  .POST(HttpRequest.BodyPublishers.ofString("hello"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());

      RecordedRequest recorded = backend.takeRequest(WAIT);
      assertEquals("/a%20b?q=1", recorded.target());
      assertEquals("yes", recorded.header("x-test").orElseThrow());
      assertEquals("hello", recorded.body());
      assertEquals(recorded, Json.fromJson(response.body(), RecordedRequest.class));
      assertThrows(AssertionError.class, () -> backend.takeRequest(Duration.ofMillis(50)));
    }
  }

  @Test
  void downloadsTheGeneratedPattern() throws Exception {
    long length = 3 * 1024 * 1024 + 7;
    try (Backend backend = Backend.start().respondTo("/big", Responders.chunkedDownload(length))) {
      HttpResponse<InputStream> response =
          client.send(
              HttpRequest.newBuilder(URI.create(backend.url() + "/big")).build(),
              HttpResponse.BodyHandlers.ofInputStream());

      try (InputStream body = response.body()) {
        assertEquals(Bodies.patternSha256(length), Bodies.summarize(body, 0).sha256());
      }
    }
  }

  @Test
  void holdsServerSentEventsUntilReleased() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Backend backend =
        Backend.start().respondTo("/events", Responders.sse(List.of("one"), release, List.of("two")))) {
      HttpResponse<InputStream> response =
          client.send(
              HttpRequest.newBuilder(URI.create(backend.url() + "/events")).build(),
              HttpResponse.BodyHandlers.ofInputStream());

      try (BufferedReader events =
          new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
        // The first event arrives while the stream is still held open by the latch.
        assertEquals("data: one", events.readLine());
        release.countDown();
        assertEquals("", events.readLine());
        assertEquals("data: two", events.readLine());
      }
    }
  }
}
