package dev.drawbridge.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The agent protocol played by hand with java.net.http against a real proxy, for tests that need an
 * agent to do exactly what they say: poll one exchange, answer it in one call or in a batch, with
 * any agent id and token, well-formed or not.
 */
public final class HandPlayedAgent {

  private final TunnelFixture tunnel;
  private final HttpClient http;
  private final Duration wait;

  public HandPlayedAgent(TunnelFixture tunnel, HttpClient http, Duration wait) {
    this.tunnel = tunnel;
    this.http = http;
    this.wait = wait;
  }

  /** A client request, and the exchange it became once an agent polled it. */
  public record Delivered(CompletableFuture<HttpResponse<String>> client, String id) {}

  public HttpRequest.Builder agentCall(String path, String agentId, String token) {
    return HttpRequest.newBuilder(URI.create(tunnel.proxy().baseUrl() + path))
        .timeout(wait)
        .header("Authorization", "Bearer " + token)
        .header(Protocol.AGENT_ID_HEADER, agentId)
        .header(Protocol.PROTOCOL_HEADER, Integer.toString(Protocol.VERSION));
  }

  /** Sends a client GET of {@code path} and polls as {@code agentId} until it is delivered. */
  public Delivered deliver(String path, String agentId) throws Exception {
    CompletableFuture<HttpResponse<String>> client =
        http.sendAsync(HttpRequest.newBuilder(tunnel.uri(path)).timeout(wait).build(), HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<byte[]> poll =
          http.send(
              agentCall(Protocol.POLL_PATH + "?backend=default&max=1", agentId, tunnel.token())
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, poll.statusCode());
      List<RequestHead> exchanges = Json.fromBytes(poll.body(), PollResult.class).exchanges();
      if (!exchanges.isEmpty()) {
        return new Delivered(client, exchanges.get(0).id());
      }
    }
    throw new AssertionError("no exchange was delivered within " + wait);
  }

  /**
   * Polls as {@code agentId} until one exchange is delivered, for clients the test drives itself
   * (on a raw socket, say).
   */
  public RequestHead nextExchange(String agentId) throws Exception {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<byte[]> poll =
          http.send(
              agentCall(Protocol.POLL_PATH + "?backend=default&max=1", agentId, tunnel.token())
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, poll.statusCode());
      List<RequestHead> exchanges = Json.fromBytes(poll.body(), PollResult.class).exchanges();
      if (!exchanges.isEmpty()) {
        return exchanges.get(0);
      }
    }
    throw new AssertionError("no exchange was delivered within " + wait);
  }

  /**
   * Opens a response call for exchange {@code id} on a bare socket, its body chunked: the test
   * writes the frames as chunks when it chooses ({@link RawHttp#writeChunk}), ends them ({@link
   * RawHttp#endChunks}) and reads the proxy's answer ({@link RawHttp#readResponse}).
   */
  public RawHttp openResponseCall(String id, String agentId) throws java.io.IOException {
    RawHttp call = RawHttp.connect(tunnel.proxy().port(), wait);
    call.write("POST " + URI.create(tunnel.proxy().baseUrl()).getPath() + Protocol.exchangePath(id, Protocol.RESPONSE_SUFFIX)
        + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nAuthorization: Bearer " + tunnel.token()
        + "\r\n" + Protocol.AGENT_ID_HEADER + ": " + agentId
        + "\r\n" + Protocol.PROTOCOL_HEADER + ": " + Protocol.VERSION
        + "\r\nContent-Type: " + Protocol.FRAMES_TYPE
        + "\r\nTransfer-Encoding: chunked\r\n\r\n");
    return call;
  }

  /** Answers exchange {@code id} in its own response call; returns the proxy's status. */
  public int answer(String id, String agentId, byte[] body) throws Exception {
    return http.send(
            agentCall(Protocol.exchangePath(id, Protocol.RESPONSE_SUFFIX), agentId, tunnel.token())
                .header("Content-Type", Protocol.FRAMES_TYPE)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** Sends a response batch as {@code agentId}; returns the proxy's answer. */
  public HttpResponse<String> answerBatch(String agentId, byte[] body) throws Exception {
    return http.send(
        agentCall(Protocol.RESPONSES_PATH + "?backend=default", agentId, tunnel.token())
            .header("Content-Type", Protocol.FRAMES_TYPE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static byte[] frames(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  public static byte[] head(String json) {
    return Frames.frame(Frames.HEAD, json.getBytes(StandardCharsets.UTF_8));
  }

  /** A 200 text/plain head as JSON. */
  public static String okHeadJson() {
    return Json.toJson(new ResponseHead(200, List.of(new HeaderField("Content-Type", "text/plain")), null, null));
  }

  public static byte[] okHead() {
    return head(okHeadJson());
  }
}
