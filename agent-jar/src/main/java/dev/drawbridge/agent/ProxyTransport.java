package dev.drawbridge.agent;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the agent reaches the proxy, beyond its URL.
 *
 * @param trustStore PKCS12 or JKS file of CAs the proxy's certificate must chain to; null = the
 *     JVM's trust store
 * @param trustStorePassword password of {@code trustStore}, or null; never logged
 * @param egressProxy HTTP forward proxy ({@code http://host:port}) all proxy calls go through; null
 *     = direct, or the JVM's {@code https.proxyHost} settings
 * @param resolveInterval how often the proxy host names are looked up again, to attach to new
 *     nodes and let go of removed ones
 * @param streamedPolls true to read work from streamed polls where the way to the node passes them
 *     on as they come; false for plain polls only
 * @param streamedResponses true to send small responses on streamed batches where the way to the
 *     node passes them on as they come; false for plain batch calls only
 * @param keepaliveInterval how often a stream to the proxy that carried nothing gets a keepalive
 *     frame (see {@link Keepalives}); zero for none
 */
public record ProxyTransport(
    Path trustStore, String trustStorePassword, URI egressProxy, Duration resolveInterval, boolean streamedPolls,
    boolean streamedResponses, Duration keepaliveInterval) {

  /** Default of {@code --resolve-interval}. */
  public static final Duration DEFAULT_RESOLVE_INTERVAL = Duration.ofSeconds(30);

  /** The JVM's trust store, no forward proxy. */
  public static final ProxyTransport DEFAULT = new ProxyTransport(null, null, null);

  public ProxyTransport {
    Objects.requireNonNull(resolveInterval, "resolveInterval");
    if (resolveInterval.isZero() || resolveInterval.isNegative()) {
      throw new IllegalArgumentException("resolveInterval must be positive, got " + resolveInterval);
    }
    Objects.requireNonNull(keepaliveInterval, "keepaliveInterval");
    if (keepaliveInterval.isNegative()) {
      throw new IllegalArgumentException("keepaliveInterval must not be negative, got " + keepaliveInterval);
    }
  }

  /** With keepalives every {@link Keepalives#DEFAULT_INTERVAL}. */
  public ProxyTransport(Path trustStore, String trustStorePassword, URI egressProxy, Duration resolveInterval,
      boolean streamedPolls, boolean streamedResponses) {
    this(trustStore, trustStorePassword, egressProxy, resolveInterval, streamedPolls, streamedResponses,
        Keepalives.DEFAULT_INTERVAL);
  }

  /** With the default resolve interval. */
  public ProxyTransport(Path trustStore, String trustStorePassword, URI egressProxy) {
    this(trustStore, trustStorePassword, egressProxy, DEFAULT_RESOLVE_INTERVAL);
  }

  /** With streamed polls and responses, the default. */
  public ProxyTransport(Path trustStore, String trustStorePassword, URI egressProxy, Duration resolveInterval) {
    this(trustStore, trustStorePassword, egressProxy, resolveInterval, true, true);
  }

  @Override
  public String toString() {
    // The record default would print the password.
    return "ProxyTransport[trustStore=" + trustStore + ", egressProxy=" + egressProxy
        + ", resolveInterval=" + resolveInterval + ", keepaliveInterval=" + keepaliveInterval + "]";
  }
}
