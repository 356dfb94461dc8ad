package dev.drawbridge.agent;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The private backend of the end-to-end tests. {@code /echo...} answers with what it received;
 * {@code /broken} dies mid-body; {@code /sse} writes one event, waits for {@link #sseRelease}, writes a second and ends.
 * The targets of echoed requests go to {@link #wholeBodies} once their body was read to its end,
 * or to {@link #brokenBodies} when it broke off.
 */
final class TestBackend extends Handler.Abstract {

  final CountDownLatch sseRelease = new CountDownLatch(1);
  final BlockingQueue<String> wholeBodies = new LinkedBlockingQueue<>();
  final BlockingQueue<String> brokenBodies = new LinkedBlockingQueue<>();

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = request.getHttpURI().getPath();
    if (path.startsWith("/sse")) {
      response.getHeaders().put("Content-Type", "text/event-stream");
      Content.Sink.write(response, false, ByteBuffer.wrap("data: one\n\n".getBytes(StandardCharsets.UTF_8)));
      if (!sseRelease.await(20, TimeUnit.SECONDS)) {
        callback.failed(new IllegalStateException("test never released the event stream"));
        return true;
      }
      response.write(true, ByteBuffer.wrap("data: two\n\n".getBytes(StandardCharsets.UTF_8)), callback);
      return true;
    }
    if (path.startsWith("/broken")) {
      // Promise 100 bytes, send 10, then fail: Jetty aborts the connection mid-body.
      response.getHeaders().put("Content-Length", 100);
      Content.Sink.write(response, false, ByteBuffer.wrap("0123456789".getBytes(StandardCharsets.UTF_8)));
      callback.failed(new java.io.IOException("simulated backend crash"));
      return true;
    }
    byte[] body;
    try (InputStream in = Content.Source.asInputStream(request)) {
      body = in.readAllBytes();
    } catch (java.io.IOException e) {
      brokenBodies.add(request.getHttpURI().getPathQuery());
      throw e;
    }
    wholeBodies.add(request.getHttpURI().getPathQuery());
    response.setStatus(path.startsWith("/created") ? 201 : 200);
    response.getHeaders().put("Content-Type", "application/octet-stream");
    response.getHeaders().put("X-Echo-Method", request.getMethod());
    response.getHeaders().put("X-Echo-Target", request.getHttpURI().getPathQuery());
    response.getHeaders().put("X-Echo-Host", String.valueOf(request.getHeaders().get("Host")));
    response.getHeaders().put("X-Echo-User-Agent", String.valueOf(request.getHeaders().get("User-Agent")));
    response.getHeaders().put("X-Echo-Forwarded-Host", String.valueOf(request.getHeaders().get("X-Forwarded-Host")));
    response.getHeaders().put("X-Echo-Content-Length", String.valueOf(request.getHeaders().get("Content-Length")));
    response.getHeaders().put("X-Echo-Hop", String.valueOf(request.getHeaders().get("X-Hop")));
    response.getHeaders().add("Set-Cookie", "a=1");
    response.getHeaders().add("Set-Cookie", "b=2");
    response.getHeaders().put("Content-Length", body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }
}
