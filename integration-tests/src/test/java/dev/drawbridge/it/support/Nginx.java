package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Debian's nginx, in one of three parts. {@link #start} puts it as a reverse proxy between the agent
 * and a proxy node, with {@code proxy_buffering on} (nginx's default) and {@code X-Accel-Buffering}
 * ignored: nginx then reads the node's responses ahead into its buffers, but still passes on at
 * once what it read, so a streamed poll gets through it as written. {@link #startCuttingIdle} puts
 * it there as a load balancer that streams both ways and cuts idle connections. {@link #serveFiles} makes it
 * the static file server package repositories are served by. It listens on 127.0.0.1 only, in the
 * foreground, with its files in a directory of its own. {@code .ci/run} installs it; tests that
 * need it are skipped where it is missing.
 */
public final class Nginx implements AutoCloseable {

  /** The executable, as Debian's {@code nginx-light} package installs it. */
  public static final Path EXECUTABLE = Path.of("/usr/sbin/nginx");

  private final ListeningProcess process;

  private Nginx(ListeningProcess process) {
    this.process = process;
  }

  /** True when nginx is installed here. */
  public static boolean isInstalled() {
    return Files.isExecutable(EXECUTABLE);
  }

  /** Starts nginx in front of {@code 127.0.0.1:targetPort}. */
  public static Nginx start(int targetPort) {
    return start("    client_max_body_size 0;\n"
        + "    location / {\n"
        + "      proxy_pass http://127.0.0.1:" + targetPort + ";\n"
        + "      proxy_http_version 1.1;\n"
        + "      proxy_set_header Connection \"\";\n"
        + "      proxy_buffering on;\n"
        + "      proxy_ignore_headers X-Accel-Buffering;\n"
        + "      proxy_read_timeout 300s;\n"
        + "    }\n");
  }

  /**
   * Starts nginx in front of {@code 127.0.0.1:targetPort} as a load balancer that passes streams
   * through both ways (no buffering of requests or responses) and cuts a connection on which
   * nothing moved for {@code idle}, in either direction, as load balancers do.
   */
  public static Nginx startCuttingIdle(int targetPort, java.time.Duration idle) {
    String seconds = idle.toSeconds() + "s";
    return start("    client_max_body_size 0;\n"
        + "    client_body_timeout " + seconds + ";\n"
        + "    send_timeout " + seconds + ";\n"
        + "    location / {\n"
        + "      proxy_pass http://127.0.0.1:" + targetPort + ";\n"
        + "      proxy_http_version 1.1;\n"
        + "      proxy_set_header Connection \"\";\n"
        + "      proxy_request_buffering off;\n"
        + "      proxy_buffering off;\n"
        + "      proxy_read_timeout " + seconds + ";\n"
        + "      proxy_send_timeout " + seconds + ";\n"
        + "    }\n");
  }

  /** Starts nginx serving the files under {@code root} (a directory's {@code index.html} for it). */
  public static Nginx serveFiles(Path root) {
    return start("    root " + root.toAbsolutePath() + ";\n");
  }

  private static Nginx start(String server) {
    try {
      Path dir = TempDirs.create("drawbridge-nginx-");
      int port = ListeningProcess.freePort();
      String config = "daemon off;\n"
          + "master_process off;\n"
          + "worker_processes 1;\n"
          + "pid " + dir.resolve("nginx.pid") + ";\n"
          + "error_log " + dir.resolve("error.log") + " notice;\n"
          + "events { worker_connections 512; }\n"
          + "http {\n"
          + "  access_log off;\n"
          + "  client_body_temp_path " + dir.resolve("client-body") + ";\n"
          + "  proxy_temp_path " + dir.resolve("proxy") + ";\n"
          + "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
          + "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
          + "  scgi_temp_path " + dir.resolve("scgi") + ";\n"
          + "  server {\n"
          + "    listen 127.0.0.1:" + port + ";\n"
          + server
          + "  }\n"
          + "}\n";
      Path file = dir.resolve("nginx.conf");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      return new Nginx(ListeningProcess.start("nginx", new ProcessBuilder(
          EXECUTABLE.toString(), "-p", dir.toString(), "-e", dir.resolve("error.log").toString(),
          "-c", file.toString()), port));
    } catch (IOException e) {
      throw new UncheckedIOException("could not start nginx", e);
    }
  }

  /** Its URL, e.g. {@code http://127.0.0.1:41235}. */
  public String url() {
    return "http://127.0.0.1:" + port();
  }

  /** The port it listens on: agents connect to it instead of the proxy node's, or to the files. */
  public int port() {
    return process.port();
  }

  @Override
  public void close() {
    process.close();
  }
}
