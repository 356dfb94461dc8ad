package dev.drawbridge.it;

import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ProxyProcess;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.ProxyServerMain;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@link SoakScenario} with the proxy in the harness's container (embedded Jetty 12, or Tomcat 11
 * with {@code -Ddrawbridge.it.container=tomcat}) in a child JVM. {@link TomcatSoakIT} runs it in
 * the real Tomcat distribution.
 */
class SoakIT extends SoakScenario {

  @Override
  protected ProxyProcess startProxy(String configJson) {
    return ProxyServer.forked(
        configJson,
        PROXY_HEAP_MB,
        ProxyServer.Options.DEFAULT.withMaxThreads(PROXY_THREADS),
        List.of(ProxyServerMain.QUIET_ACCESS_LOG));
  }

  /** Jetty's queued thread pool, fixed at {@link #PROXY_THREADS}; Tomcat's connector executor. */
  @Override
  protected Pattern requestThreadNames() {
    return Containers.isTomcat() ? TomcatSoakIT.TOMCAT_REQUEST_THREADS : Pattern.compile("qtp\\d+-\\d+");
  }

  @Override
  protected int maxRequestThreads() {
    return PROXY_THREADS;
  }

  @Override
  protected long containerCacheBytes() {
    return Containers.isTomcat() ? TOMCAT_PROCESSOR_CACHE_BYTES : 0;
  }
}
