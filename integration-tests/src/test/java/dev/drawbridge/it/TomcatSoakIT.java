package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ForkedTomcat;
import dev.drawbridge.it.support.ProxyProcess;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * {@link SoakScenario} in the real Tomcat 11 distribution configured with tomcat-conf, as operators
 * run it. Besides what every soak checks, Tomcat's own log must hold no SEVERE line (a cut
 * response is expected, not a crash) and no request Tomcat had to recycle forcedly: one whose
 * last bytes were still pending when its peer reset the connection, which the proxy avoids by
 * completing a request only once its output reached the socket.
 */
@EnabledIfSystemProperty(named = Containers.PROPERTY, matches = "tomcat", disabledReason = "a Tomcat test: runs with the Tomcat copy of the suite")
class TomcatSoakIT extends SoakScenario {

  /** The HTTP connector's request threads, e.g. {@code http-nio-127.0.0.1-auto-1-exec-12}. */
  static final Pattern TOMCAT_REQUEST_THREADS = Pattern.compile("http-nio-.*-exec-\\d+");

  /** server.xml's maxThreads for the HTTP connector. */
  private static final int SERVER_XML_MAX_THREADS = 200;

  @Override
  protected Pattern requestThreadNames() {
    return TOMCAT_REQUEST_THREADS;
  }

  @Override
  protected int maxRequestThreads() {
    return SERVER_XML_MAX_THREADS;
  }

  @Override
  protected long containerCacheBytes() {
    return TOMCAT_PROCESSOR_CACHE_BYTES;
  }

  @Override
  protected ProxyProcess startProxy(String configJson) {
    // server.xml's maxThreads stays: it is part of what operators get.
    return ForkedTomcat.start(configJson, PROXY_HEAP_MB, List.of());
  }

  @Override
  protected void checkAfterSoak(ProxyProcess proxy) {
    List<String> catalina = ((ForkedTomcat) proxy).logLines("catalina\\..*\\.log");
    assertEquals(List.of(), catalina.stream().filter(line -> line.contains("SEVERE")).toList(), "Tomcat logged SEVERE");
    assertEquals(
        List.of(), catalina.stream().filter(line -> line.contains("non-recycled")).toList(),
        "Tomcat recycled requests forcedly");
  }
}
