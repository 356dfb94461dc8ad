package dev.drawbridge.it.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * Git's own smart HTTP server, {@code git http-backend}, behind an embedded Jetty on 127.0.0.1 that
 * runs it as a CGI program per request, as Apache's {@code mod_cgi} or nginx with {@code fcgiwrap}
 * would. It serves every repository under one directory, and takes pushes.
 */
public final class GitHttpBackend implements AutoCloseable {

  /** Longest a single Git request may run in the backend. */
  private static final long REQUEST_SECONDS = 120;

  private final Server server = new Server();
  private final Path projectRoot;
  private final AtomicInteger chunkedRequests = new AtomicInteger();
  private int port;

  private GitHttpBackend(Path projectRoot) {
    this.projectRoot = projectRoot;
  }

  /** Serves the repositories under {@code projectRoot} at {@code /<name>.git}. */
  public static GitHttpBackend start(Path projectRoot) throws Exception {
    GitHttpBackend backend = new GitHttpBackend(projectRoot);
    ServerConnector connector = new ServerConnector(backend.server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    backend.server.addConnector(connector);
    backend.server.setHandler(backend.new Cgi());
    backend.server.setStopTimeout(0);
    backend.server.start();
    backend.port = connector.getLocalPort();
    return backend;
  }

  /** The agent's {@code --target}. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** Requests whose body came with chunked transfer encoding, without a length. */
  public int chunkedRequests() {
    return chunkedRequests.get();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** One CGI run of {@code git http-backend} per request, the body streamed in and out. */
  private final class Cgi extends Handler.Abstract {

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      if ("chunked".equalsIgnoreCase(request.getHeaders().get(HttpHeader.TRANSFER_ENCODING))) {
        chunkedRequests.incrementAndGet();
      }
      ProcessBuilder builder = new ProcessBuilder("git", "http-backend").redirectError(ProcessBuilder.Redirect.DISCARD);
      Map<String, String> env = builder.environment();
      env.put("GIT_PROJECT_ROOT", projectRoot.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("GATEWAY_INTERFACE", "CGI/1.1");
      env.put("REQUEST_METHOD", request.getMethod());
      env.put("PATH_INFO", Request.getPathInContext(request));
      String query = request.getHttpURI().getQuery();
      env.put("QUERY_STRING", query == null ? "" : query);
      env.put("REMOTE_ADDR", "127.0.0.1");
      // A push needs an authenticated user unless the repository allows anyone.
      env.put("REMOTE_USER", "tester");
      copyHeader(request, HttpHeader.CONTENT_TYPE, env, "CONTENT_TYPE");
      copyHeader(request, HttpHeader.CONTENT_LENGTH, env, "CONTENT_LENGTH");
      copyHeader(request, HttpHeader.CONTENT_ENCODING, env, "HTTP_CONTENT_ENCODING");
      String protocol = request.getHeaders().get("Git-Protocol");
      if (protocol != null) {
        env.put("GIT_PROTOCOL", protocol);
      }
      Process git = builder.start();
      try {
        // Fed from its own thread, as a CGI server does: git may answer before it read everything.
        Thread feeder = new Thread(() -> {
          try (InputStream body = Content.Source.asInputStream(request); OutputStream stdin = git.getOutputStream()) {
            body.transferTo(stdin);
          } catch (IOException e) {
            git.destroy();
          }
        }, "git-cgi-stdin");
        feeder.start();
        try (InputStream stdout = new BufferedInputStream(git.getInputStream())) {
          writeHead(readCgiHead(stdout), response);
          try (OutputStream out = Content.Sink.asOutputStream(response)) {
            stdout.transferTo(out);
          }
        }
        feeder.join(TimeUnit.SECONDS.toMillis(REQUEST_SECONDS));
        if (!git.waitFor(REQUEST_SECONDS, TimeUnit.SECONDS)) {
          throw new IOException("git http-backend ran for more than " + REQUEST_SECONDS + " s");
        }
        callback.succeeded();
      } catch (Exception e) {
        callback.failed(e);
      } finally {
        git.destroy();
      }
      return true;
    }
  }

  private static void copyHeader(Request request, HttpHeader header, Map<String, String> env, String variable) {
    String value = request.getHeaders().get(header);
    if (value != null) {
      env.put(variable, value);
    }
  }

  /** The CGI answer's header lines, up to the empty line. */
  private static String readCgiHead(InputStream stdout) throws IOException {
    StringBuilder head = new StringBuilder();
    while (true) {
      String line = readLine(stdout);
      if (line == null) {
        throw new IOException("git http-backend ended inside its answer's head: " + head);
      }
      if (line.isEmpty()) {
        return head.toString();
      }
      head.append(line).append('\n');
    }
  }

  /** One line without its line break; null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      if (b == '\n') {
        return line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return null;
  }

  private static void writeHead(String head, Response response) {
    response.setStatus(200);
    for (String line : head.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Status")) {
        response.setStatus(Integer.parseInt(value.split(" ")[0]));
      } else {
        response.getHeaders().add(name, value);
      }
    }
  }
}
