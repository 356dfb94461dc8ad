package dev.drawbridge.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A small single-page web application of the kind users publish (a notebook, a dashboard) on
 * Jetty 12 at 127.0.0.1 and an OS-chosen port, all under {@code /app/} and every URL in its page
 * relative: a page that sets a session cookie; a style sheet; a script sent gzip-compressed; twenty
 * images; a JSON API that reports the cookie it got and echoes posts; a Server-Sent Events stream;
 * and a WebSocket echo (Jetty negotiates permessage-deflate with browsers). The script exercises
 * each and writes what worked into the page ({@code #results}, then {@code #state} {@code done}).
 */
public final class WebAppBackend implements AutoCloseable {

  /** The session cookie the page sets, which the API must see again. */
  public static final String COOKIE = "sid=drawbridge-42";

  /** What {@code #results} reads when every part worked. */
  public static final String ALL_WORKED =
      "cookie:ok css:ok images:ok post:ok sse:ok ws:ok(permessage-deflate)";

  private static final int IMAGES = 20;

  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);

  private WebAppBackend() {}

  public static WebAppBackend start() {
    WebAppBackend backend = new WebAppBackend();
    backend.connector.setHost("127.0.0.1");
    backend.connector.setPort(0);
    backend.connector.setIdleTimeout(Duration.ofMinutes(5).toMillis());
    backend.server.addConnector(backend.connector);
    WebSocketUpgradeHandler webSockets = WebSocketUpgradeHandler.from(backend.server, container -> {
      container.setMaxTextMessageSize(1024 * 1024);
      container.addMapping("/app/ws", (request, response, callback) -> new Echo());
    });
    webSockets.setHandler(new Pages());
    backend.server.setHandler(webSockets);
    backend.server.setStopTimeout(0);
    try {
      backend.server.start();
    } catch (Exception e) {
      throw new IllegalStateException("the web application did not start", e);
    }
    return backend;
  }

  /**
   * Opens the application at {@code pageUrl} (its {@code /app/} as the proxy publishes it) in a
   * fresh headless Chromium, waits up to {@code wait} for its script to finish, and answers what
   * {@code #results} reads.
   */
  public static String resultsInBrowser(String pageUrl, Duration wait) throws IOException {
    WebDriver browser = Browser.chromium();
    try {
      browser.get(pageUrl);
      new WebDriverWait(browser, wait)
          .withMessage(() -> "the page did not finish: " + browser.findElement(By.id("results")).getText())
          .until(driver -> "done".equals(driver.findElement(By.id("state")).getText()));
      return browser.findElement(By.id("results")).getText();
    } finally {
      browser.quit();
    }
  }

  /** The agent's {@code --target}. */
  public String url() {
    return "http://127.0.0.1:" + connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** Echoes each text message; public, as Jetty calls it through method handles. */
  public static final class Echo extends Session.Listener.AbstractAutoDemanding {
    @Override
    public void onWebSocketText(String text) {
      getSession().sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
    }
  }

  private static final class Pages extends Handler.Abstract {

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String path = Request.getPathInContext(request);
      switch (path) {
        case "/app/" -> {
          response.getHeaders().add("Set-Cookie", COOKIE + "; Path=/; HttpOnly; SameSite=Lax");
          send(response, callback, "text/html; charset=utf-8", page());
        }
        case "/app/style.css" -> send(response, callback, "text/css", "#styled { color: rgb(0, 128, 0); }\n");
        case "/app/app.js" -> {
          // Compressed by the service, as many are: it must reach the browser as sent.
          response.getHeaders().put("Content-Encoding", "gzip");
          response.getHeaders().put("Vary", "Accept-Encoding");
          response.getHeaders().put("Content-Type", "text/javascript");
          response.write(true, ByteBuffer.wrap(gzip(script())), callback);
        }
        case "/app/api/whoami" -> {
          String cookie = request.getHeaders().get("Cookie");
          send(response, callback, "application/json", "{\"cookie\": \"" + (cookie == null ? "" : cookie) + "\"}");
        }
        case "/app/api/echo" -> {
          String body = Content.Source.asString(request, StandardCharsets.UTF_8);
          send(response, callback, "application/json", body);
        }
        case "/app/events" -> {
          response.getHeaders().put("Content-Type", "text/event-stream");
          response.getHeaders().put("Cache-Control", "no-cache");
          String events = "data: one\n\ndata: two\n\ndata: three\n\n";
          response.write(true, ByteBuffer.wrap(events.getBytes(StandardCharsets.UTF_8)), callback);
        }
        default -> {
          if (path.matches("/app/img/\\d+\\.svg")) {
            send(response, callback, "image/svg+xml",
                "<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'><rect width='8' height='8'/></svg>");
          } else {
            response.setStatus(404);
            send(response, callback, "text/plain", "not found\n");
          }
        }
      }
      return true;
    }
  }

  private static void send(Response response, Callback callback, String contentType, String body) {
    response.getHeaders().put("Content-Type", contentType);
    response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
  }

  private static String page() {
    StringBuilder images = new StringBuilder();
    for (int i = 0; i < IMAGES; i++) {
      images.append("<img class='tile' src='img/").append(i).append(".svg' alt=''>");
    }
    return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Web app</title>
        <link rel="stylesheet" href="style.css"></head>
        <body><p id="styled">styled</p><div>%s</div>
        <p id="results"></p><p id="state">running</p>
        <script src="app.js"></script></body></html>
        """.formatted(images);
  }

  private static String script() {
    try (InputStream in = WebAppBackend.class.getResourceAsStream("webapp.js")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }
}
