package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Requests sent and dropped at once: each on its own connection, closed as soon as the request is
 * written, as clients that give up (or a flood of them) leave them. The proxy must not keep them.
 */
public final class AbandonedBurst {

  private AbandonedBurst() {}

  /** Sends {@code count} GETs of {@code pathAndQuery} to the proxy at {@code proxyBaseUrl}, each dropped at once. */
  public static void send(String proxyBaseUrl, String pathAndQuery, int count) {
    URI base = URI.create(proxyBaseUrl);
    byte[] request =
        ("GET " + base.getPath() + pathAndQuery + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort() + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    InetAddress address;
    try {
      address = InetAddress.getByName(base.getHost());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int i = 0; i < count; i++) {
      try (Socket socket = new Socket(address, base.getPort())) {
        OutputStream out = socket.getOutputStream();
        out.write(request);
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("could not send abandoned request " + i + " of " + count, e);
      }
    }
  }
}
