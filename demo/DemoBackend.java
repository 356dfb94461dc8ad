import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * A tiny private service to put behind Drawbridge: {@code java DemoBackend.java [PORT]} (no build,
 * JDK only). Listens on 127.0.0.1 only, as a service in a private network would, and prints its
 * URL. Port 0 (the default) lets the OS choose.
 *
 * <ul>
 *   <li>{@code /} a welcome page (JSON when the client asks for application/json) naming its own
 *       public URL, built from the Host and X-Forwarded-* headers as web applications do
 *   <li>{@code /echo} the request (method, target, headers, body) as JSON
 *   <li>{@code /events} a Server-Sent Events clock, one event per second: shows that
 *       streaming responses pass through the tunnel as they are written
 * </ul>
 */
public final class DemoBackend {

  public static void main(String[] args) throws IOException {
    // Without it the JDK's server holds back small writes on a kept-alive connection until the
    // previous one is acknowledged (Nagle against delayed ACK): about 40 ms on every request the
    // agent sends over a reused connection. Read once, when the server classes load.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    // One thread per exchange: each /events client holds its thread for as long as it listens.
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/echo", DemoBackend::echo);
    server.createContext("/events", DemoBackend::clock);
    server.createContext("/", DemoBackend::welcome);
    server.start();
    System.out.println("Demo backend listening on http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static void welcome(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestURI().getPath().equals("/")) {
      send(exchange, 404, "text/plain; charset=utf-8", "Nothing here; try /, /echo or /events.\n");
      return;
    }
    String accept = String.valueOf(exchange.getRequestHeaders().getFirst("Accept"));
    String publicUrl = publicUrl(exchange);
    if (accept.contains("application/json") && !accept.contains("text/html")) {
      send(exchange, 200, "application/json", "{\"service\":\"demo\",\"greeting\":\"Hello through Drawbridge!\","
          + "\"url\":" + quote(publicUrl) + "}\n");
      return;
    }
    send(exchange, 200, "text/html; charset=utf-8", """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Drawbridge demo</title></head>
        <body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
          <h1>Hello through Drawbridge!</h1>
          <p>This page comes from a service that accepts no inbound connections.
             The agent fetched your request from the proxy and brought this answer back.</p>
          <p><a href="echo?demo=1">echo</a> shows what the service received
             (look for Via and X-Forwarded-For).</p>
          <p>This page's address, as the service builds it from Host, X-Forwarded-Proto and
             X-Forwarded-Prefix: <code>%s</code></p>
          <p>Server time, streamed with Server-Sent Events: <b id="clock">waiting...</b></p>
          <script>
            new EventSource("events").onmessage = e => document.getElementById("clock").textContent = e.data;
          </script>
        </body></html>
        """.formatted(publicUrl.replace("&", "&amp;").replace("<", "&lt;")));
  }

  /** The URL a client used to reach this page, built as a web application behind a proxy does. */
  private static String publicUrl(HttpExchange exchange) {
    Headers headers = exchange.getRequestHeaders();
    String proto = headers.getFirst("X-Forwarded-Proto");
    String host = headers.getFirst("Host");
    String prefix = headers.getFirst("X-Forwarded-Prefix");
    return (proto == null ? "http" : proto) + "://" + host + (prefix == null ? "" : prefix) + "/";
  }

  private static void echo(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    StringBuilder json = new StringBuilder("{\n");
    json.append("  \"method\": ").append(quote(exchange.getRequestMethod())).append(",\n");
    json.append("  \"target\": ").append(quote(exchange.getRequestURI().toString())).append(",\n");
    json.append("  \"headers\": {");
    String separator = "\n";
    for (Map.Entry<String, String> header : sorted(exchange.getRequestHeaders()).entrySet()) {
      json.append(separator).append("    ").append(quote(header.getKey())).append(": ")
          .append(quote(header.getValue()));
      separator = ",\n";
    }
    json.append("\n  },\n  \"body\": ").append(quote(body)).append("\n}\n");
    send(exchange, 200, "application/json", json.toString());
  }

  private static void clock(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    try (OutputStream out = exchange.getResponseBody()) {
      while (true) {
        String now = LocalTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
        out.write(("data: " + now + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        Thread.sleep(1000); // The clock's tick, not synchronisation.
      }
    } catch (IOException | InterruptedException e) {
      // The client went away (or we are stopping): this stream is over.
    }
  }

  private static Map<String, String> sorted(Headers headers) {
    Map<String, String> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((name, values) -> sorted.put(name, String.join(", ", values)));
    return sorted;
  }

  private static void send(HttpExchange exchange, int status, String type, String text)
      throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String quote(String text) {
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> quoted.append("\\\"");
        case '\\' -> quoted.append("\\\\");
        case '\n' -> quoted.append("\\n");
        case '\r' -> quoted.append("\\r");
        case '\t' -> quoted.append("\\t");
        default -> {
          if (c < 0x20) {
            quoted.append(String.format("\\u%04x", (int) c));
          } else {
            quoted.append(c);
          }
        }
      }
    }
    return quoted.append('"').toString();
  }
}
