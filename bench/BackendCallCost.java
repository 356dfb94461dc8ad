import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.nio.AsyncRequestProducer;
import org.apache.hc.core5.http.nio.entity.AbstractBinAsyncEntityConsumer;
import org.apache.hc.core5.http.nio.support.AsyncRequestBuilder;
import org.apache.hc.core5.http.nio.support.BasicResponseConsumer;
import org.apache.hc.core5.http.Message;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

/**
 * What one backend call costs the agent's HTTP client: the classic client with a thread per call in
 * flight, as the agent calls its backend, against HttpClient 5's asynchronous client on one I/O
 * thread. Both keep {@code inFlight} GETs of {@code url} going over pooled keep-alive connections
 * and read each body whole into an array, as the agent does with a small response. Cells of
 * {@code seconds} alternate between the two after a warm-up of each; each prints the calls a second
 * and this process's CPU time per call. Run with the agent jar on the class path, against a backend
 * on 127.0.0.1 that serves a small file, e.g. the benchmark's nginx:
 *
 * <pre>
 *   java -XX:+UseSerialGC -Xmx256m -cp agent-jar/target/drawbridge-agent.jar bench/BackendCallCost.java \
 *       http://127.0.0.1:8081/small 64 8 3
 * </pre>
 *
 * Arguments: the URL, calls in flight (64, the agent's default {@code --concurrency}), seconds per
 * cell, and rounds. It measures the client alone: the load generator is this process, so run the
 * backend on the other core (e.g. {@code taskset}) for stable figures.
 */
public class BackendCallCost {

  private static final Timeout TIMEOUT = Timeout.ofSeconds(30);

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 8;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    java.net.URI uri = java.net.URI.create(url);
    if (!uri.getHost().startsWith("127.")) {
      throw new IllegalArgumentException("The backend must be on 127.0.0.0/8: " + url);
    }
    HttpHost host = HttpHost.create(uri);
    try (Classic classic = new Classic(host, uri.getRawPath(), inFlight);
        Async async = new Async(host, uri.getRawPath(), inFlight)) {
      System.out.printf("%d calls in flight, %d s cells, warm-up first%n", inFlight, seconds);
      cell(classic, seconds);
      cell(async, seconds);
      System.out.printf("%-8s %12s %14s%n", "client", "calls/s", "CPU us/call");
      for (int round = 0; round < rounds; round++) {
        report(classic, cell(classic, seconds));
        report(async, cell(async, seconds));
      }
    }
  }

  private static void report(Load load, double[] cell) {
    System.out.printf("%-8s %12.0f %14.1f%n", load.name(), cell[0], cell[1]);
  }

  /** Runs {@code load} for {@code seconds}: calls a second and CPU microseconds a call. */
  private static double[] cell(Load load, int seconds) throws Exception {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    AtomicLong calls = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    long cpuBefore = os.getProcessCpuTime();
    long start = System.nanoTime();
    CountDownLatch done = load.start(calls, stop);
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    stop.set(true);
    if (!done.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(load.name() + ": calls still in flight after 60 s");
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double cpuMicros = (os.getProcessCpuTime() - cpuBefore) / 1e3;
    return new double[] {calls.get() / elapsed, cpuMicros / calls.get()};
  }

  interface Load extends AutoCloseable {
    String name();

    /** Starts the calls; the latch opens once every one has ended after {@code stop}. */
    CountDownLatch start(AtomicLong calls, AtomicBoolean stop);
  }

  /** The agent's way: a thread per call in flight, each blocking on its pooled connection. */
  static final class Classic implements Load {
    private final HttpHost host;
    private final String path;
    private final int inFlight;
    private final CloseableHttpClient client;

    Classic(HttpHost host, String path, int inFlight) {
      this.host = host;
      this.path = path;
      this.inFlight = inFlight;
      this.client = HttpClients.custom()
          .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
              .setMaxConnTotal(inFlight)
              .setMaxConnPerRoute(inFlight)
              .setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).build())
              .setDefaultConnectionConfig(ConnectionConfig.custom()
                  .setConnectTimeout(TIMEOUT).setSocketTimeout(TIMEOUT).build())
              .build())
          .setDefaultRequestConfig(requestConfig())
          .disableRedirectHandling()
          .disableCookieManagement()
          .disableContentCompression()
          .disableAuthCaching()
          .disableDefaultUserAgent()
          .build();
    }

    @Override
    public String name() {
      return "classic";
    }

    @Override
    public CountDownLatch start(AtomicLong calls, AtomicBoolean stop) {
      CountDownLatch done = new CountDownLatch(inFlight);
      for (int i = 0; i < inFlight; i++) {
        Thread worker = new Thread(() -> {
          try {
            while (!stop.get()) {
              call();
              calls.incrementAndGet();
            }
          } catch (IOException e) {
            e.printStackTrace();
          } finally {
            done.countDown();
          }
        }, "classic-" + i);
        worker.start();
      }
      return done;
    }

    private void call() throws IOException {
      try (ClassicHttpResponse response = client.executeOpen(host, new HttpGet(path), null)) {
        HttpEntity entity = response.getEntity();
        int length = (int) entity.getContentLength();
        byte[] body = new byte[length];
        InputStream in = entity.getContent();
        int read = 0;
        while (read < length) {
          int n = in.read(body, read, length - read);
          if (n < 0) {
            throw new IOException("short body");
          }
          read += n;
        }
        EntityUtils.consumeQuietly(entity);
      }
    }

    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  /** HttpClient 5's asynchronous client: one I/O thread, each completed call starting the next. */
  static final class Async implements Load {
    private final HttpHost host;
    private final String path;
    private final int inFlight;
    private final CloseableHttpAsyncClient client;

    Async(HttpHost host, String path, int inFlight) {
      this.host = host;
      this.path = path;
      this.inFlight = inFlight;
      this.client = HttpAsyncClients.custom()
          .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
              .setMaxConnTotal(inFlight)
              .setMaxConnPerRoute(inFlight)
              .setDefaultTlsConfig(TlsConfig.custom().setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1).build())
              .setDefaultConnectionConfig(ConnectionConfig.custom()
                  .setConnectTimeout(TIMEOUT).setSocketTimeout(TIMEOUT).build())
              .build())
          .setIOReactorConfig(IOReactorConfig.custom().setIoThreadCount(1).setTcpNoDelay(true).build())
          .setDefaultRequestConfig(requestConfig())
          .disableRedirectHandling()
          .disableCookieManagement()
          .disableAuthCaching()
          .disableAutomaticRetries()
          .build();
      client.start();
    }

    @Override
    public String name() {
      return "async";
    }

    @Override
    public CountDownLatch start(AtomicLong calls, AtomicBoolean stop) {
      CountDownLatch done = new CountDownLatch(inFlight);
      for (int i = 0; i < inFlight; i++) {
        next(calls, stop, done);
      }
      return done;
    }

    private void next(AtomicLong calls, AtomicBoolean stop, CountDownLatch done) {
      if (stop.get()) {
        done.countDown();
        return;
      }
      AsyncRequestProducer request = AsyncRequestBuilder.get().setHttpHost(host).setPath(path).build();
      Future<Message<HttpResponse, byte[]>> unused = client.execute(
          request,
          new BasicResponseConsumer<>(new WholeBody()),
          null,
          new FutureCallback<>() {
            @Override
            public void completed(Message<HttpResponse, byte[]> result) {
              calls.incrementAndGet();
              next(calls, stop, done);
            }

            @Override
            public void failed(Exception e) {
              e.printStackTrace();
              done.countDown();
            }

            @Override
            public void cancelled() {
              done.countDown();
            }
          });
    }

    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  /** Collects a body of declared length into one array, as the agent keeps a small response. */
  static final class WholeBody extends AbstractBinAsyncEntityConsumer<byte[]> {
    private byte[] body = new byte[0];
    private int read;

    @Override
    protected void streamStart(ContentType contentType) {
      read = 0;
    }

    @Override
    protected int capacityIncrement() {
      return 64 * 1024;
    }

    @Override
    protected void data(ByteBuffer src, boolean endOfStream) {
      int n = src.remaining();
      if (read + n > body.length) {
        body = java.util.Arrays.copyOf(body, Math.max(read + n, 128));
      }
      src.get(body, read, n);
      read += n;
    }

    @Override
    protected byte[] generateContent() {
      return java.util.Arrays.copyOf(body, read);
    }

    @Override
    public void releaseResources() {}
  }

  private static RequestConfig requestConfig() {
    return RequestConfig.custom()
        .setConnectionRequestTimeout(TIMEOUT)
        .setResponseTimeout(TIMEOUT)
        .setRedirectsEnabled(false)
        .setContentCompressionEnabled(false)
        .setExpectContinueEnabled(false)
        .setAuthenticationEnabled(false)
        .build();
  }
}
