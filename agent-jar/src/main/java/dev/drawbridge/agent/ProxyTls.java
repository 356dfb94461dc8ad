package dev.drawbridge.agent;

import java.io.IOException;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.ssl.SSLContexts;

/**
 * TLS toward the proxy. With {@code --trust-store} the proxy's certificate must chain to a CA in
 * that file (an internal CA, or a self-signed proxy certificate); host names are verified either
 * way, so a certificate for another host is refused.
 */
final class ProxyTls {

  private ProxyTls() {}

  /** The TLS strategy for {@code transport}, or null to use the JVM's settings. */
  static DefaultClientTlsStrategy strategy(ProxyTransport transport) {
    if (transport.trustStore() == null) {
      return null;
    }
    char[] password = transport.trustStorePassword() == null ? null : transport.trustStorePassword().toCharArray();
    try {
      // KeyStore.getInstance(File, ...) recognises PKCS12 and JKS by content.
      org.apache.hc.core5.ssl.SSLContextBuilder builder =
          SSLContexts.custom().loadTrustMaterial(transport.trustStore().toFile(), password);
      // A client certificate for mutual TLS still comes from the standard JVM properties.
      String keyStore = System.getProperty("javax.net.ssl.keyStore");
      if (keyStore != null && !keyStore.isBlank()) {
        char[] keyPassword = System.getProperty("javax.net.ssl.keyStorePassword", "").toCharArray();
        builder.loadKeyMaterial(new java.io.File(keyStore), keyPassword, keyPassword);
      }
      SSLContext context = builder.build();
      return new DefaultClientTlsStrategy(context);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot load trust store " + transport.trustStore()
          + " (" + e.getMessage() + "); check the file and --trust-store-password", e);
    }
  }
}
