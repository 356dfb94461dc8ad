package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many clients at once, each with its own target and body: nobody gets somebody else's answer. */
@Timeout(300)
class ConcurrentClientsIT {

  private static final int CLIENTS = 200;
  private static final Duration ALL_DONE_WITHIN = Duration.ofSeconds(60);

  private static TunnelFixture tunnel;

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start();
  }

  @AfterAll
  static void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void everyClientGetsItsOwnAnswer() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(16);
    try {
      HttpClient client =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(ALL_DONE_WITHIN)
              .executor(executor)
              .build();
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        String target = "/client/" + i + "?n=" + i + "&tag=c%2F" + i;
        // Most bodies travel inline; every fifth is over the inline limit and streams.
        String body = ("client " + i + " says hello; ").repeat(i % 5 == 0 ? 3000 : 1 + i);
        HttpRequest request =
            HttpRequest.newBuilder(tunnel.uri(target))
                .timeout(ALL_DONE_WITHIN)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        calls.add(
            client
                .sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenAccept(response -> checkOwnAnswer(target, body, response)));
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
          .get(ALL_DONE_WITHIN.toSeconds(), TimeUnit.SECONDS);

      assertEquals(CLIENTS, tunnel.backend().drainRequests().size(), "each request reached the backend once");
      tunnel.awaitIdle(Duration.ofSeconds(10));
    } finally {
      executor.shutdownNow();
    }
  }

  private static void checkOwnAnswer(String target, String body, HttpResponse<String> response) {
    assertEquals(200, response.statusCode(), () -> target + ": " + response.body());
    RecordedRequest echoed;
    try {
      echoed = Json.fromJson(response.body(), RecordedRequest.class);
    } catch (FrameException e) {
      throw new AssertionError(target + ": not an echo: " + response.body(), e);
    }
    assertEquals(target, echoed.target());
    assertEquals("POST", echoed.method());
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    assertEquals(bytes.length, echoed.bodyLength(), target);
    assertEquals(sha256(bytes), echoed.bodySha256(), target);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
