package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.TempDirs;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A first run needs no setup and is still secure: without any configuration the proxy serves
 * backend {@code default} with a random agent token it writes to its work directory and keeps; its
 * log says where that file is, never what the token is.
 */
@Timeout(300)
class FirstRunIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  @Test
  void withoutConfigurationTheProxyGeneratesAnAgentTokenAndKeepsIt() throws Exception {
    Path workDir = TempDirs.create("drawbridge-first-run-");
    Path tokenFile = workDir.resolve("webapp-tmp").resolve("drawbridge-agent.token");
    String token;
    // The WAR runs in this JVM, so its java.util.logging output is ours to read.
    List<String> proxyLog = Collections.synchronizedList(new ArrayList<>());
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        proxyLog.add(record.getLevel() + " " + record.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger.getLogger("").addHandler(capture);
    try (Backend backend = Backend.start();
        ProxyServer proxy = ProxyServer.startUnconfigured(workDir)) {
      token = Files.readString(tokenFile).trim();
      String firstToken = token;
      assertTrue(proxyLog.stream().noneMatch(line -> line.contains(firstToken)), "the token never reaches the log");
      assertTrue(proxyLog.stream().anyMatch(line -> line.startsWith("WARNING") && line.contains(tokenFile.toString())),
          () -> "the log says where the token is: " + proxyLog);
      assertTrue(token.matches("[A-Za-z0-9_-]{43}"), "a 256-bit random token: " + token.length() + " chars");
      try (AgentProcess agent =
          AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token))) {
        agent.awaitLine(AgentProcess.CONNECTED, WAIT);
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(proxy.uri("/first-run")).timeout(WAIT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response::body);
        assertEquals("/first-run", backend.takeRequest(WAIT).target());
      }
    }
    try (ProxyServer restarted = ProxyServer.startUnconfigured(workDir)) {
      assertEquals(token, Files.readString(tokenFile).trim(), "a restart keeps the token agents already have");
    } finally {
      Logger.getLogger("").removeHandler(capture);
    }
    String keptToken = token;
    assertTrue(proxyLog.stream().noneMatch(line -> line.contains(keptToken)), "the token never reaches the log");
  }
}
