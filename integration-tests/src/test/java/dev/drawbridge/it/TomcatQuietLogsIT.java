package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ForkedTomcat;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the proxy does on purpose must not look like a failure in a real Tomcat's logs: a response
 * it cuts (the backend's broke off, or the drain grace of a shutdown ran out) logs no SEVERE with a
 * stack, and an upload it answers before reading its body (backend unreachable, body too large, no
 * agent) is finished by the proxy, so Tomcat never recycles a request forcedly ("Encountered a
 * non-recycled request").
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
@EnabledIfSystemProperty(named = Containers.PROPERTY, matches = "tomcat", disabledReason = "a Tomcat test: runs with the Tomcat copy of the suite")
class TomcatQuietLogsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long MAX_BODY = 8 * 1024 * 1024;
  private static final int DECLARED_UPLOAD = 5 * 1024 * 1024;
  private static final int SENT_BEFORE_ANSWER = 64 * 1024;
  private static final int TIMES = 5;
  /** Room for a starved machine, and still well short of the shipped 30 s {@code unloadDelay}. */
  private static final Duration SHUTDOWN_BEFORE_UNLOAD_DELAY = Duration.ofSeconds(20);

  private final String token = Tokens.random();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }

  @Test
  void cutResponsesAndUploadsAnsweredEarlyLeaveNoSevereAndNoForcedRecycle() throws Exception {
    Backend backend = keep(Backend.start());
    // More than the client's response buffer is sent before the break, so the head is out.
    backend.respondTo("/cut", Responders.truncatedDownload(4 * 1024 * 1024, 1024 * 1024));
    ForkedTomcat tomcat =
        keep(ForkedTomcat.start(
            ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
                .set("maxRequestBodyBytes", MAX_BODY)
                .backendSetting("queueTimeoutSeconds", 2)
                .set("pollWaitSeconds", 2)
                .set("agentGraceSeconds", 1)
                .set("drainGraceSeconds", 1)
                .toJson(),
            256,
            List.of()));
    AgentProcess agent = keep(AgentProcess.connect(tomcat.baseUrl(), backend.url(), "default", token, WAIT));

    for (int i = 0; i < TIMES; i++) {
      responseCutAfterItsHead(tomcat);
      uploadTooLargeAnswered413(tomcat);
      uploadAnsweredBeforeItsBody(tomcat, 2 * MAX_BODY, 413);
    }
    backend.stop();
    for (int i = 0; i < TIMES; i++) {
      uploadAnsweredBeforeItsBody(tomcat, DECLARED_UPLOAD, 502);
    }
    backend.restart();
    for (int i = 0; i < TIMES; i++) {
      agent = uploadWhoseAgentIsKilledMidBody(tomcat, backend, agent);
    }
    assertEquals(0, agent.stop(WAIT), "the agent drains and exits");
    // The killed agents count as lost once their polls' wait and grace pass.
    await("no agent is connected").atMost(WAIT)
        .until(() -> AdminStatus.read(tomcat.baseUrl()).backend("default").agents().isEmpty());
    for (int i = 0; i < TIMES; i++) {
      uploadAnsweredBeforeItsBody(tomcat, DECLARED_UPLOAD, 503);
    }
    await("the proxy is idle").atMost(WAIT).until(() -> AdminStatus.read(tomcat.baseUrl()), AdminStatus::idle);

    streamCutByTheShutdown(tomcat, backend, token);
    List<String> catalina = tomcat.logLines("catalina\\..*\\.log");
    assertEquals(List.of(), matching(catalina, "SEVERE"), "Tomcat logged SEVERE");
    assertEquals(List.of(), matching(catalina, "non-recycled"), "Tomcat recycled a request forcedly");
  }

  /**
   * Tomcat shuts down while an event stream is open: the drain grace runs out and the stream is cut,
   * not ended cleanly, and Tomcat stops well before its 30 s {@code unloadDelay} would end it.
   */
  private void streamCutByTheShutdown(ForkedTomcat tomcat, Backend backend, String agentToken) throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    backend.respondTo("/events", Responders.sse(List.of("first"), never, List.of("never")));
    keep(AgentProcess.connect(tomcat.baseUrl(), backend.url(), "default", agentToken, WAIT));
    try (RawHttp http = RawHttp.connect(tomcat.port(), WAIT)) {
      http.write("GET /drawbridge/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      RawHttp.Head head = http.readFinalHead();
      assertEquals(200, head.status());
      BufferedReader events = new BufferedReader(new InputStreamReader(http.body(head, "GET"), StandardCharsets.UTF_8));
      assertEquals("data: first", events.readLine());
      assertEquals("", events.readLine());
      long stopBegan = System.nanoTime();
      tomcat.close();
      assertThrows(IOException.class, events::readLine, "a cut stream must not end cleanly");
      Duration stoppedAfter = Duration.ofNanos(System.nanoTime() - stopBegan);
      assertTrue(stoppedAfter.compareTo(SHUTDOWN_BEFORE_UNLOAD_DELAY) < 0,
          () -> "Tomcat stopped " + stoppedAfter + " after the shutdown began; the stream kept it until its unloadDelay");
    } finally {
      never.countDown();
    }
  }

  /** The backend's response breaks off: the client sees a cut connection, never a whole body. */
  private void responseCutAfterItsHead(ForkedTomcat tomcat) throws Exception {
    HttpResponse<InputStream> response =
        client.send(HttpRequest.newBuilder(java.net.URI.create(tomcat.baseUrl() + "/cut")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    try (InputStream body = response.body()) {
      assertThrows(IOException.class, body::readAllBytes, "the body is cut, not ended");
    }
  }

  /** A chunked upload larger than maxRequestBodyBytes gets 413 once the limit passes. */
  private void uploadTooLargeAnswered413(ForkedTomcat tomcat) throws Exception {
    try (RawHttp http = RawHttp.connect(tomcat.port(), WAIT)) {
      http.write("POST /drawbridge/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
      byte[] chunk = new byte[64 * 1024];
      try {
        for (long sent = 0; sent <= 2 * MAX_BODY; sent += chunk.length) {
          http.writeChunk(chunk);
        }
      } catch (IOException e) {
        // Tomcat may close the connection once it answered; the answer is still readable.
      }
      assertEquals(413, http.readFinalHead().status());
    }
  }

  /**
   * An upload answered before the proxy read its body: declared too large, the agent cannot reach
   * the backend, or no agent is there.
   */
  private void uploadAnsweredBeforeItsBody(ForkedTomcat tomcat, long declared, int expected) throws Exception {
    try (RawHttp http = RawHttp.connect(tomcat.port(), WAIT)) {
      http.write("POST /drawbridge/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + declared + "\r\n\r\n");
      http.write(new byte[SENT_BEFORE_ANSWER]);
      assertEquals(expected, http.readFinalHead().status());
    }
  }

  /**
   * An upload streams to the agent, which is killed halfway: once the agent counts as lost the
   * client gets 502, the rest of its body unread. Returns the agent started in its place.
   */
  private AgentProcess uploadWhoseAgentIsKilledMidBody(ForkedTomcat tomcat, Backend backend, AgentProcess agent)
      throws Exception {
    backend.drainRequests();
    try (RawHttp http = RawHttp.connect(tomcat.port(), WAIT)) {
      http.write("POST /drawbridge/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + DECLARED_UPLOAD + "\r\n\r\n");
      http.write(new byte[DECLARED_UPLOAD / 4]);
      await("the upload streams to the agent").atMost(WAIT)
          .until(() -> AdminStatus.read(tomcat.baseUrl()).backend("default").inFlight() == 1);
      agent.kill();
      assertEquals(502, http.readFinalHead().status());
    }
    return keep(AgentProcess.connect(tomcat.baseUrl(), backend.url(), "default", token, WAIT));
  }

  private static List<String> matching(List<String> lines, String text) {
    return lines.stream().filter(line -> line.contains(text)).toList();
  }

  private <T extends AutoCloseable> T keep(T resource) {
    started.add(resource);
    return resource;
  }
}
