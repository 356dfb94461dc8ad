package dev.drawbridge.agent;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Checks the backend with {@code GET --health-path} every {@code --health-interval}. While the
 * check fails the agent asks the proxy for no work and says so on its polls, so the proxy answers
 * 503 at once instead of queueing requests into a dead end. Logs one line per change of state.
 * Without {@code --health-path} the backend always counts as up and nothing runs.
 */
final class BackendHealth implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(BackendHealth.class.getName());

  private final URI checkUri;
  private final Duration interval;
  private final CloseableHttpClient healthClient;
  private final ScheduledExecutorService timer;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean up = true;

  BackendHealth(AgentConfig config) {
    this.interval = config.healthInterval();
    if (config.healthPath() == null) {
      this.checkUri = null;
      this.healthClient = null;
      this.timer = null;
      return;
    }
    String base = config.target().toString();
    this.checkUri = URI.create(base + config.healthPath());
    // Its own client: a pool busy with slow requests must not make a healthy backend look down.
    this.healthClient = ClientFactory.healthClient(config);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "drawbridge-health");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Starts checking; the first check runs at once. */
  void start() {
    if (timer != null) {
      timer.scheduleWithFixedDelay(this::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** True unless the latest check failed. */
  boolean isUp() {
    return up;
  }

  /** Runs {@code listener} on the checking thread after every change of state. */
  void onChange(Runnable listener) {
    listeners.add(listener);
  }

  private void check() {
    String failure;
    try {
      HttpGet probe = new HttpGet(checkUri);
      // A check slower than its interval counts as failed; it must never pile up behind itself.
      probe.setConfig(RequestConfig.custom().setResponseTimeout(Timeout.ofMilliseconds(interval.toMillis())).build());
      int status =
          healthClient.execute(
              probe,
              backendResponse -> {
                EntityUtils.consume(backendResponse.getEntity());
                return backendResponse.getCode();
              });
      failure = status >= 200 && status < 400 ? null : "it answered " + status;
    } catch (IOException | RuntimeException e) {
      failure = Reasons.describe(e);
    }
    record(failure);
  }

  private void record(String failure) {
    boolean nowUp = failure == null;
    if (nowUp == up) {
      return;
    }
    up = nowUp;
    if (nowUp) {
      LOG.info("Backend health check GET " + checkUri + " passes again; taking work");
    } else {
      LOG.warning("Backend health check GET " + checkUri + " failed (" + failure
          + "); taking no work and telling the proxy to answer 503 until the backend is reachable");
    }
    listeners.forEach(Runnable::run);
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
      healthClient.close(CloseMode.IMMEDIATE);
    }
  }
}
