import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * The benchmark's echo endpoint: answers every POST with its own body, and at {@code /sink} reads
 * the whole body and answers 204 without one, for uploads. Run with
 * {@code java bench/EchoBackend.java PORT}; it binds 127.0.0.1 only.
 */
public class EchoBackend {

  public static void main(String[] args) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 1024);
    server.setExecutor(Executors.newFixedThreadPool(64));
    server.createContext(
        "/sink",
        exchange -> {
          try (InputStream in = exchange.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
          }
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.createContext(
        "/",
        exchange -> {
          byte[] body;
          try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
          }
          exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
          exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    System.out.println("echo backend listening on http://127.0.0.1:" + args[0]);
  }
}
