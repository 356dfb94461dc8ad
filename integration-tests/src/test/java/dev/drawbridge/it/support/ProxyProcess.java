package dev.drawbridge.it.support;

import java.util.List;

/**
 * The proxy running in a JVM of its own, whose threads, open files and heap a test can measure:
 * the WAR in embedded Jetty ({@link ForkedProxyServer}) or in a real Tomcat ({@link ForkedTomcat}).
 */
public interface ProxyProcess extends AutoCloseable {

  /** E.g. {@code http://127.0.0.1:41234/drawbridge}, without a trailing slash. */
  String baseUrl();

  long pid();

  /** False once the JVM died, e.g. of OutOfMemoryError. */
  boolean isAlive();

  /** Every line the JVM printed so far. */
  List<String> lines();

  /** Stops the proxy; kills it if it does not stop in time. */
  @Override
  void close();
}
