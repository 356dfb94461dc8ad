package dev.drawbridge.agent;

import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.FramedInputStream;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;

/**
 * One client request carried through the agent, on one worker thread:
 *
 * <pre>
 *   [STREAM body] GET request-body from the proxy
 *   -> backend request (body streamed from the proxy's frames)
 *   -> response to the proxy: a body of declared length up to 64 KiB is read whole and goes in
 *      the next batch ({@link ResponseBatcher}); any other is POSTed on its own, streamed (head
 *      frame, backend body as it arrives, end or abort frame)
 * </pre>
 *
 * {@link #cancel()} may come from a poller thread at any point; it aborts every call in progress,
 * and the worker then ends quietly.
 *
 * <p>The exchange ends (its {@code ended} task runs, exactly once) when the worker is done with it,
 * except for a response that goes in a batch: then it ends once the proxy answered the call that
 * carried the response, on the thread that made the call, and the worker is free at once instead
 * of waiting for that answer.
 */
final class Exchange {

  private static final Logger LOG = Logger.getLogger(Exchange.class.getName());

  private static final byte[] NO_BODY = new byte[0];

  /** Read buffer for the request-body frames. */
  private static final int REQUEST_BODY_BUFFER = 64 * 1024;

  private final RequestHead clientRequest;
  private final AgentConfig config;
  private final ProxyClient proxyClient;
  private final ResponseBatcher batcher;
  private final CloseableHttpClient backendClient;
  private final HttpHost target;
  private final boolean agentDraining;
  private final Keepalives keepalives;
  private final List<Cancellable> callsInProgress = new CopyOnWriteArrayList<>();
  private volatile boolean cancelled;
  /** Set once the exchange's access line is written, so a cancelled one still gets a line of its own. */
  private volatile boolean accessLogged;
  /** When {@link #run} began, on {@link System#nanoTime()}. */
  private long startNanos;
  private volatile IOException requestBodyFailure;
  /** Runs once when the exchange is over; set by {@link #run}. */
  private Runnable ended;
  /** True once a batched response's outcome has taken over running {@link #ended}; worker only. */
  private boolean endHandedOver;

  Exchange(RequestHead clientRequest, AgentConfig config, ProxyClient proxyClient, ResponseBatcher batcher,
      CloseableHttpClient backendClient, HttpHost target, boolean agentDraining, Keepalives keepalives) {
    this.clientRequest = clientRequest;
    this.config = config;
    this.proxyClient = proxyClient;
    this.batcher = batcher;
    this.backendClient = backendClient;
    this.target = target;
    this.agentDraining = agentDraining;
    this.keepalives = keepalives;
  }

  String id() {
    return clientRequest.id();
  }

  /** True when this exchange was fetched through {@code node}'s client. */
  boolean from(ProxyClient node) {
    return proxyClient == node;
  }

  /** Stops work on this exchange: the client went away or the proxy gave up on it. */
  void cancel() {
    cancelled = true;
    for (Cancellable call : callsInProgress) {
      call.cancel();
    }
  }

  /** Carries the exchange through, then runs {@code ended} (see the class comment for when). */
  void run(Runnable ended) {
    this.ended = ended;
    startNanos = System.nanoTime();
    try {
      if (agentDraining) {
        sendWhole(ResponseHead.failed(Failure.AGENT_DRAINING,
            "The agent is shutting down and did not start the request."), NO_BODY);
        return;
      }
      forward();
    } catch (RuntimeException e) {
      // HttpClient may report a cancelled call with an unchecked exception; only others are bugs.
      if (!cancelled) {
        LOG.log(Level.SEVERE, log("unexpected failure; the proxy will time the exchange out"), e);
      }
    } finally {
      if (!endHandedOver) {
        logIfCancelled();
        ended.run();
      }
    }
  }

  private void forward() {
    ClassicHttpResponse requestBody = null;
    FramedInputStream requestBodyFrames = null;
    try {
      BackendRequest backendRequest =
          BackendRequest.of(clientRequest, target, config.targetBasePath(), config.preserveHost());
      if (clientRequest.body() == BodyMode.STREAM) {
        requestBody = openRequestBody();
        if (requestBody == null) {
          return;
        }
        requestBodyFrames = new FramedInputStream(requestBody.getEntity().getContent(), REQUEST_BODY_BUFFER);
        backendRequest.setEntity(new InputStreamEntity(
            new WatchedInputStream(requestBodyFrames, failure -> requestBodyBroke(failure, backendRequest)),
            clientRequest.bodyLength(), null));
      } else {
        backendRequest.setEntity(BackendRequest.inlineEntity(clientRequest));
      }
      register(backendRequest);
      ClassicHttpResponse backendResponse;
      try {
        backendResponse = backendClient.executeOpen(target, backendRequest, null);
      } catch (IOException e) {
        backendFailed(e);
        return;
      }
      try {
        register(() -> {
          closeQuietly(backendResponse);
          return true;
        });
        relay(backendResponse);
      } finally {
        // Quietly: after a broken body, closing fails again with the failure already reported.
        closeQuietly(backendResponse);
      }
    } catch (IOException e) {
      if (!cancelled) {
        LOG.warning(log("failed: " + Reasons.describe(e)));
      }
    } finally {
      if (requestBody != null && requestBodyFailure == null && !cancelled) {
        // Reading past the end frame to the end of the chunked body lets the proxy connection be
        // reused. After an early answer (a 401 or 413 to an upload) this discards the rest until the
        // proxy, having delivered that answer, ends the fetch; closing it first could let the proxy
        // take the broken fetch for a lost agent before the answer arrives. Only here, after the
        // answer went out: the backend leg leaves the body open (see WatchedInputStream).
        closeQuietly(requestBodyFrames);
        EntityUtils.consumeQuietly(requestBody.getEntity());
      }
      closeQuietly(requestBody);
    }
  }

  /**
   * The client's body broke off: the client went away, or the proxy cut the fetch. HttpClient
   * closes the body stream it sends even after a failure, and closing a chunked one writes its last
   * chunk, which would give the service the part that arrived as a whole body. So the backend
   * connection is reset first, and the service sees the body break off.
   */
  private void requestBodyBroke(IOException failure, BackendRequest backendRequest) {
    requestBodyFailure = failure;
    backendRequest.cancel();
  }

  /** GETs the streamed request body; null when the exchange is over (logged). */
  private ClassicHttpResponse openRequestBody() throws IOException {
    HttpGet fetch = proxyClient.requestBodyRequest(id());
    ClassicHttpResponse requestBody;
    try {
      requestBody = proxyClient.open(fetch);
    } catch (IOException e) {
      if (!cancelled) {
        LOG.warning(log("could not fetch the request body from the proxy: " + Reasons.describe(e)));
      }
      return null;
    }
    if (requestBody.getCode() == 200 && requestBody.getEntity() != null) {
      // Cancellable only from here on, to stop a body still streaming. Until its answer starts,
      // a fetch needs no cancelling: the proxy ends it itself when the exchange ends. Aborting it
      // from the poller then reset the connection just as the proxy was ending the call, and
      // Tomcat's handling of that reset broke the agent's next call to it.
      register(fetch);
      return requestBody;
    }
    try (requestBody) {
      ProxyStatusException refusal = ProxyClient.statusException(requestBody);
      if (refusal.status() == 410) {
        LOG.fine(log("the client went away before its body was fetched"));
      } else {
        LOG.warning(log("the proxy refused the request body fetch (" + refusal.status() + ": "
            + refusal.getMessage() + ")"));
      }
    }
    return null;
  }

  private void backendFailed(IOException e) {
    if (cancelled) {
      LOG.fine(log("cancelled while waiting for the backend"));
      return;
    }
    if (requestBodyFailure != null) {
      // The client's body broke, not the backend; the proxy already knows, this just ends the exchange.
      LOG.fine(log("the client's request body broke: " + Reasons.describe(requestBodyFailure)));
      sendWhole(ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
          "The request body broke before the backend answered."), NO_BODY);
      return;
    }
    ResponseHead failure = BackendFailures.head(e, config);
    String detail = Reasons.describe(e);
    LOG.warning(log(clientRequest.method() + " " + clientRequest.target() + " failed: " + failure.message()
        + (detail.equals("connection refused") ? "" : " (" + detail + ")")));
    sendWhole(failure, NO_BODY);
  }

  private void relay(ClassicHttpResponse backendResponse) throws IOException {
    HttpEntity backendBody = backendResponse.getEntity();
    ResponseHead responseHead = new ResponseHead(backendResponse.getCode(),
        Redirects.toPublic(HopByHop.endToEnd(headers(backendResponse)), clientRequest.headers(), target,
            config.targetBasePath()),
        null, null);
    long declaredLength = backendBody == null ? 0 : backendBody.getContentLength();
    if (declaredLength >= 0 && declaredLength <= Frames.MAX_BATCHED_BODY) {
      relaySmall(responseHead, backendBody, (int) declaredLength);
      return;
    }
    InputStream backendStream = backendBody == null ? null : backendBody.getContent();
    ResponseUpload upload = upload(responseHead, backendStream);
    if (upload != null && upload.backendFailure() != null && !cancelled) {
      LOG.warning(log("the backend connection broke after " + upload.bytesCopied()
          + " body bytes: " + Reasons.describe(upload.backendFailure())));
    } else if (upload != null) {
      logAccess(responseHead, upload.bytesCopied());
    }
    if (backendBody != null && upload != null && upload.backendFailure() == null) {
      // Read to the end already; consuming lets the backend connection return to the pool.
      EntityUtils.consumeQuietly(backendBody);
    }
  }

  /**
   * A response whose declared body fits a batch: read whole, then sent with others in one call.
   * If the backend breaks off mid-body, what arrived goes out streamed and ends in an abort frame,
   * exactly as a large body would.
   */
  private void relaySmall(ResponseHead responseHead, HttpEntity backendBody, int length)
      throws IOException {
    byte[] body = new byte[length];
    int read = 0;
    if (backendBody != null) {
      InputStream backendStream = backendBody.getContent();
      try {
        while (read < length) {
          int n = backendStream.read(body, read, length - read);
          if (n < 0) {
            throw new java.io.EOFException("the backend closed the connection " + (length - read)
                + " bytes short of its Content-Length");
          }
          read += n;
        }
      } catch (IOException e) {
        if (cancelled) {
          return;
        }
        LOG.warning(log("the backend connection broke after " + read + " body bytes: " + Reasons.describe(e)));
        upload(responseHead, new BrokenBody(body, read, e));
        return;
      }
    }
    sendWhole(responseHead, body, () -> logAccess(responseHead, length));
    if (backendBody != null) {
      EntityUtils.consumeQuietly(backendBody);
    }
  }

  /** Sends a whole response in a batch; failure heads go this way too: they have no body. */
  private void sendWhole(ResponseHead responseHead, byte[] body) {
    sendWhole(responseHead, body, () -> {});
  }

  /**
   * Sends a whole response in a batch and hands the end of the exchange to the call's answer,
   * which runs {@code delivered} if the response reached the proxy (otherwise the failure is
   * logged).
   */
  private void sendWhole(ResponseHead responseHead, byte[] body, Runnable delivered) {
    CompletableFuture<ResponseBatcher.Outcome> answered =
        batcher.submit(id(), BatchedResponse.frame(id(), WireJson.write(responseHead), body, body.length));
    // Before the callback is attached: an answer that is already there runs it on this thread.
    endHandedOver = true;
    answered.thenAccept(outcome -> {
      try {
        if (outcome.failure() != null) {
          if (!cancelled) {
            LOG.warning(log("could not send the response to the proxy: " + Reasons.describe(outcome.failure())));
          }
          return;
        }
        logRefusal(id(), outcome.status(), outcome.message());
        delivered.run();
      } finally {
        logIfCancelled();
        ended.run();
      }
    });
  }

  private void logAccess(ResponseHead responseHead, long bytes) {
    accessLogged = true;
    if (LOG.isLoggable(Level.INFO)) {
      // One access line per exchange, carrying the same id as the proxy's access log.
      LOG.info(log(clientRequest.method() + " " + clientRequest.target() + " -> "
          + responseHead.status() + ", " + bytes + " bytes in "
          + (System.nanoTime() - startNanos) / 1_000_000 + " ms"));
    }
  }

  /**
   * The access line of an exchange the proxy called off (its client went away, or it timed out)
   * before the response was through: every exchange gets one line at {@code info}.
   */
  private void logIfCancelled() {
    if (cancelled && !accessLogged && LOG.isLoggable(Level.INFO)) {
      accessLogged = true;
      LOG.info(log(clientRequest.method() + " " + clientRequest.target()
          + " -> called off by the proxy (the client went away or the exchange timed out) after "
          + (System.nanoTime() - startNanos) / 1_000_000 + " ms"));
    }
  }

  /** Logs what the proxy made of a batched response, by its status (see {@code BatchAnswer}). */
  static void logRefusal(String exchangeId, int status, String message) {
    if (status == 410) {
      LOG.fine(() -> "exchange " + exchangeId + ": the client went away before the response reached it");
    } else if (status != 204 && status != 200) {
      LOG.warning("exchange " + exchangeId + ": the proxy refused the response (" + status + ": " + message + ")");
    }
  }

  /** POSTs the framed response; null when the upload itself failed (logged). */
  private ResponseUpload upload(ResponseHead responseHead, InputStream backendBody) {
    ResponseUpload framedResponse = new ResponseUpload(responseHead, backendBody, keepalives.toward(proxyClient));
    HttpPost upload = proxyClient.responseRequest(id(), framedResponse);
    register(upload);
    ProxyClient.Answer answer;
    try {
      answer = proxyClient.send(upload);
    } catch (IOException e) {
      if (cancelled) {
        LOG.fine(log("cancelled while sending the response"));
      } else {
        LOG.warning(log("could not send the response to the proxy: " + Reasons.describe(e)));
      }
      return null;
    }
    logRefusal(id(), answer.status(), answer.message());
    return framedResponse;
  }

  private void register(Cancellable call) {
    callsInProgress.add(call);
    // A cancel that raced with this call's creation must still reach it.
    if (cancelled) {
      call.cancel();
    }
  }

  private static List<HeaderField> headers(ClassicHttpResponse backendResponse) {
    Header[] all = backendResponse.getHeaders();
    List<HeaderField> fields = new ArrayList<>(all.length);
    for (Header header : all) {
      fields.add(new HeaderField(header.getName(), header.getValue()));
    }
    return fields;
  }

  private String log(String message) {
    return "exchange " + id() + ": " + message;
  }

  private static void closeQuietly(Closeable closeable) {
    if (closeable != null) {
      try {
        closeable.close();
      } catch (IOException ignored) {
        // Closing is cleanup; the failure that matters was already reported.
      }
    }
  }
}
