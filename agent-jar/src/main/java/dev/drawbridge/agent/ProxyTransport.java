package dev.drawbridge.agent;

import java.net.URI;
import java.nio.file.Path;

/**
 * How the agent reaches the proxy, beyond its URL.
 *
 * @param trustStore PKCS12 or JKS file of CAs the proxy's certificate must chain to; null = the
 *     JVM's trust store
 * @param trustStorePassword password of {@code trustStore}, or null; never logged
 * @param egressProxy HTTP forward proxy ({@code http://host:port}) all proxy calls go through; null
 *     = direct, or the JVM's {@code https.proxyHost} settings
 */
public record ProxyTransport(Path trustStore, String trustStorePassword, URI egressProxy) {

  /** The JVM's trust store, no forward proxy. */
  public static final ProxyTransport DEFAULT = new ProxyTransport(null, null, null);

  @Override
  public String toString() {
    // The record default would print the password.
    return "ProxyTransport[trustStore=" + trustStore + ", egressProxy=" + egressProxy + "]";
  }
}
