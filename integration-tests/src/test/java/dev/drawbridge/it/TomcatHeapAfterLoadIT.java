package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;

import dev.drawbridge.it.support.AbandonedBurst;
import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ForkedTomcat;
import dev.drawbridge.it.support.ProcessStats;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a test: the heap a real Tomcat keeps after a load of many connections, with
 * the connector settings of tomcat-conf/server.xml and variants of them. Run by hand:
 *
 * <pre>
 * mvn -B verify -pl integration-tests -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=TomcatHeapAfterLoadIT -Dfailsafe.failIfNoSpecifiedTests=false -Dmeasure.tomcatHeap=true
 * </pre>
 *
 * Tomcat runs with a 3 GiB heap limit, as on a real host (Tomcat sizes its cache of connection
 * objects from the heap limit, and keeps none below 2 GiB). The load: {@value #DOWNLOADS}
 * connections at once each fetching a {@value #DOWNLOAD_BYTES}-byte response through the tunnel,
 * then {@value #BURST} requests sent and dropped. Once idle and its idle threads gone, Tomcat's
 * heap after a full collection and its cached connection objects are printed per variant.
 */
@EnabledIfSystemProperty(named = "measure.tomcatHeap", matches = "true")
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class TomcatHeapAfterLoadIT {

  private static final int DOWNLOADS = 600;
  private static final int DOWNLOAD_BYTES = 256 * 1024;
  private static final int BURST = 2_000;
  private static final Duration WAIT = Duration.ofSeconds(120);
  /** Tomcat's idle worker threads end after 60 s. */
  private static final Duration THREADS_IDLE = Duration.ofSeconds(75);

  /** Variants of the HTTP connector: attribute text added to server.xml's first Connector. */
  private static final Map<String, String> VARIANTS = new java.util.LinkedHashMap<>();

  static {
    VARIANTS.put("as shipped", "");
    VARIANTS.put("socket.bufferPool=0", "socket.bufferPool=\"0\"");
    VARIANTS.put("processorCache=32", "processorCache=\"32\"");
    VARIANTS.put("both", "socket.bufferPool=\"0\" processorCache=\"32\"");
  }

  @Test
  void heapAfterLoadPerConnectorVariant() throws Exception {
    List<String> results = new ArrayList<>();
    // -Dmeasure.variants="as shipped,both" measures only those.
    String chosen = System.getProperty("measure.variants", String.join(",", VARIANTS.keySet()));
    for (String variant : chosen.split(",")) {
      results.add(variant + ": " + measure(VARIANTS.get(variant)));
      System.out.println("TOMCAT HEAP " + results.get(results.size() - 1));
    }
    System.out.println("TOMCAT HEAP SUMMARY\n" + String.join("\n", results));
  }

  private String measure(String connectorAttributes) throws Exception {
    String token = Tokens.random();
    try (Backend backend = Backend.start()) {
      backend.respondTo("/download", Responders.download(DOWNLOAD_BYTES));
      ForkedTomcat tomcat =
          ForkedTomcat.start(
              ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)).toJson(),
              3 * 1024,
              List.of(),
              connectorAttributes);
      try (tomcat;
          AgentProcess agent =
              AgentProcess.connect(tomcat.baseUrl(), backend.url(), "default", token, WAIT)) {
        ProcessStats.Snapshot before = ProcessStats.take(tomcat.pid());
        downloadsAtOnce(tomcat.port());
        AbandonedBurst.send(tomcat.baseUrl(), "/abandoned", BURST);
        await().atMost(WAIT).ignoreExceptions().until(() -> AdminStatus.read(tomcat.baseUrl()), AdminStatus::idle);
        // Tomcat's worker threads of the load end after their idle time; what stays is the cache.
        TimeUnit.MILLISECONDS.sleep(THREADS_IDLE.toMillis());
        ProcessStats.Snapshot after = ProcessStats.take(tomcat.pid());
        String histogram = ProcessStats.histogram(tomcat.pid());
        return "before " + before + "; after " + after + "; cached " + count(histogram, "org.apache.tomcat.util.net.NioChannel")
            + " NioChannel, " + count(histogram, "org.apache.coyote.http11.Http11Processor") + " Http11Processor";
      }
    }
  }

  /** {@value #DOWNLOADS} connections at once, each one GET of the download, read whole. */
  private static void downloadsAtOnce(int port) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(DOWNLOADS);
    try {
      List<Future<Long>> reads = new ArrayList<>();
      for (int i = 0; i < DOWNLOADS; i++) {
        reads.add(clients.submit(() -> download(port)));
      }
      for (Future<Long> read : reads) {
        read.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
  }

  private static long download(int port) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("GET /drawbridge/download HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return in.transferTo(OutputStream.nullOutputStream());
    }
  }

  private static long count(String histogram, String className) {
    for (String line : histogram.split("\n")) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length >= 4 && fields[3].equals(className)) {
        return Long.parseLong(fields[1]);
      }
    }
    return 0;
  }
}
