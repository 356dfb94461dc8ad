package dev.drawbridge.agent;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.WireJson;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.ResponseHead;
import java.util.concurrent.Future;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleResponseConsumer;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.entity.AsyncEntityProducers;
import org.apache.hc.core5.http.nio.support.AsyncRequestBuilder;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The agent-to-proxy leg: one method per protocol call. Requests are created separately from their
 * execution so that the caller can keep them and cancel them from another thread.
 */
final class ProxyClient implements Closeable {

  /** Longest error body kept for a log line; the proxy's are one sentence. */
  private static final int MAX_MESSAGE = 512;

  private final PoolingHttpClientConnectionManager pool;
  private final CloseableHttpClient proxyClient;
  /**
   * Calls of upgraded connections: long-lived and silent at times, so without a read timeout, and
   * asynchronous, so an open connection holds no thread.
   */
  private final CloseableHttpAsyncClient upgradedClient;
  private final String base;
  private final String backendParam;
  private final Supplier<String> nodesReport;
  /** Where batches go, parsed once. */
  private final URI batchUri;

  /**
   * A client of one proxy node.
   *
   * @param token the agent's token, the same for all its nodes
   * @param instance this agent process's instance, sent on every call
   * @param nodesReport the agent's nodes and their states, sent on every poll
   */
  ProxyClient(AgentConfig config, ProxyNode node, TokenSource token, String instance, Supplier<String> nodesReport) {
    this.pool = ClientFactory.proxyPool(config, node);
    this.proxyClient = ClientFactory.proxyClient(config, pool, token, instance, () -> lastCallNanos = System.nanoTime());
    this.upgradedClient = ClientFactory.upgradedClient(config, UpgradedConnections.DEFAULT_MAX, node, token, instance);
    this.base = node.url().toString();
    this.backendParam = URLEncoder.encode(config.backend(), StandardCharsets.UTF_8);
    this.nodesReport = nodesReport;
    this.batchUri = URI.create(base + Protocol.RESPONSES_PATH + "?" + Protocol.BACKEND_PARAM + "=" + backendParam);
  }

  /** When the last call to the proxy went out, on {@link System#nanoTime()}. */
  private volatile long lastCallNanos = System.nanoTime();

  long lastCallNanos() {
    return lastCallNanos;
  }

  /** The software version the proxy named in its last successful poll answer, or null. */
  private volatile String proxyVersion;

  String proxyVersion() {
    return proxyVersion;
  }

  /** True once a poll answer said this node reads keepalive frames in the streams the agent sends it. */
  private volatile boolean readsKeepalives;

  boolean readsKeepalives() {
    return readsKeepalives;
  }

  /** A plain poll asking for at most {@code max} exchanges, saying when the backend is down. */
  HttpPost pollRequest(int max, boolean backendUp) {
    return pollRequest(max, backendUp, false);
  }

  /** A poll asking for at most {@code max} exchanges, streamed when {@code streamed}. */
  HttpPost pollRequest(int max, boolean backendUp, boolean streamed) {
    HttpPost poll = new HttpPost(URI.create(base + Protocol.POLL_PATH + "?" + Protocol.BACKEND_PARAM + "="
        + backendParam + "&" + Protocol.MAX_PARAM + "=" + max));
    if (!backendUp) {
      poll.setHeader(Protocol.BACKEND_HEALTH_HEADER, Protocol.BACKEND_DOWN);
    }
    poll.setHeader(Protocol.AGENT_FEATURES_HEADER, streamed
        ? Protocol.FEATURE_UPGRADE + "," + Protocol.FEATURE_POLL_STREAM : Protocol.FEATURE_UPGRADE);
    String nodes = nodesReport.get();
    if (!nodes.isEmpty()) {
      poll.setHeader(Protocol.AGENT_NODES_HEADER, nodes);
    }
    return poll;
  }

  /**
   * Tells the proxy this agent is shutting down, so it stops handing work to polls nobody reads
   * any more. Best effort and quick: a proxy that cannot be reached learns it from the silence.
   */
  void leave() {
    briefCall(Protocol.AGENT_LEAVING_HEADER, Timeout.ofSeconds(2));
  }

  /**
   * Shows the proxy that this agent is alive, when work it took from a streamed poll leads to no
   * other call in time. Best effort: a proxy that cannot be reached counts the agent as lost, and
   * the poll loop notices the lost connection too.
   */
  void alive() {
    briefCall(Protocol.AGENT_ALIVE_HEADER, Timeout.ofSeconds(5));
  }

  /** A poll for no work that says {@code header: true}, which the proxy answers at once; failures are ignored. */
  private void briefCall(String header, Timeout responseTimeout) {
    HttpPost call = pollRequest(0, true);
    call.setHeader(header, "true");
    call.setConfig(
        RequestConfig.custom()
            .setConnectionRequestTimeout(Timeout.ofSeconds(2))
            .setResponseTimeout(responseTimeout)
            .build());
    try {
      proxyClient.execute(call, proxyResponse -> null);
    } catch (IOException | RuntimeException e) {
      // Best effort, as said by the callers.
    }
  }

  /**
   * Closes every pooled connection to the proxy not in use. Called after a call failed on its
   * connection: the idle ones most likely went the same way (a NAT or firewall that forgot them, a
   * restarted proxy), and since a streamed response upload is never sent twice, the next one on such
   * a connection would be lost.
   */
  void dropIdleConnections() {
    pool.closeIdle(TimeValue.ZERO_MILLISECONDS);
  }

  /**
   * Runs a poll. Its answers come as a stream: one for a plain poll, any number for a streamed one.
   *
   * @throws ProxyStatusException when the proxy answers anything but 200
   * @throws IOException on connection failures and malformed answers
   */
  PollStream poll(HttpPost agentPoll) throws IOException {
    ClassicHttpResponse proxyResponse = proxyClient.executeOpen(null, agentPoll, null);
    try {
      if (proxyResponse.getCode() != 200) {
        throw statusException(proxyResponse);
      }
      proxyVersion = headerValue(proxyResponse, Protocol.PROXY_VERSION_HEADER);
      readsKeepalives = Protocol.declares(headerValue(proxyResponse, Protocol.PROXY_FEATURES_HEADER), Protocol.FEATURE_KEEPALIVE);
      HttpEntity entity = proxyResponse.getEntity();
      if (entity != null && entity.getContentType() != null
          && entity.getContentType().startsWith(Protocol.POLL_STREAM_TYPE)) {
        PollStream stream = PollStream.open(proxyResponse, callWithin(proxyResponse));
        proxyResponse = null;
        return stream;
      }
      byte[] json = EntityUtils.toByteArray(entity);
      return PollStream.of(PollStream.withLists(WireJson.readPollResult(json)));
    } finally {
      if (proxyResponse != null) {
        proxyResponse.close();
      }
    }
  }

  /** The streamed poll's time to call after taking work; a second when the proxy named none. */
  private static long callWithin(ClassicHttpResponse proxyResponse) {
    try {
      String value = headerValue(proxyResponse, Protocol.CALL_WITHIN_HEADER);
      return value == null ? 1_000 : Math.max(1, Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return 1_000;
    }
  }

  /** The fetch of an exchange's streamed request body. */
  HttpGet requestBodyRequest(String exchangeId) {
    return new HttpGet(URI.create(base + Protocol.exchangePath(exchangeId, Protocol.REQUEST_BODY_SUFFIX)));
  }

  /** Opens {@code requestBody}; the caller must close the response. */
  ClassicHttpResponse open(HttpGet requestBody) throws IOException {
    return proxyClient.executeOpen(null, requestBody, null);
  }

  /** The upload of an exchange's framed response. */
  HttpPost responseRequest(String exchangeId, HttpEntity framedResponse) {
    HttpPost upload = new HttpPost(responseUri(exchangeId));
    upload.setEntity(framedResponse);
    return upload;
  }

  private URI responseUri(String exchangeId) {
    return URI.create(base + Protocol.exchangePath(exchangeId, Protocol.RESPONSE_SUFFIX));
  }

  /** Sends {@code upload} and returns the proxy's status; the proxy's body, if any, is in {@code message}. */
  Answer send(HttpPost upload) throws IOException {
    return proxyClient.execute(
        upload, proxyResponse -> new Answer(proxyResponse.getCode(), message(proxyResponse)));
  }

  /**
   * Starts an upgraded connection's response call, which streams {@code framedStream} for as long
   * as the connection is open; {@code done} hears how it ended.
   */
  Future<SimpleHttpResponse> sendUpgradedStream(
      String exchangeId, AsyncEntityProducer framedStream, FutureCallback<SimpleHttpResponse> done) {
    return upgradedClient.execute(
        AsyncRequestBuilder.post(responseUri(exchangeId))
            .setEntity(framedStream)
            .build(),
        SimpleResponseConsumer.create(),
        done);
  }

  /**
   * Starts an upgraded connection's request-body call, read by {@code clientSide}, which skips the
   * keepalive frames the call says it reads.
   */
  Future<Void> openUpgradedStream(String exchangeId, AsyncResponseConsumer<Void> clientSide, FutureCallback<Void> done) {
    return upgradedClient.execute(
        AsyncRequestBuilder.get(URI.create(base + Protocol.exchangePath(exchangeId, Protocol.REQUEST_BODY_SUFFIX)))
            // The client's side may be quiet for long: the proxy may keep the call open with keepalives.
            .setHeader(Protocol.AGENT_FEATURES_HEADER, Protocol.FEATURE_KEEPALIVE)
            .build(),
        clientSide,
        done);
  }

  /**
   * Tells the proxy that a switched connection could not be relayed, so its client hears it now,
   * not at the handshake timeout. Best effort, without waiting.
   */
  void reportUpgradeFailure(String exchangeId) {
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    frames.writeBytes(Frames.frame(Frames.HEAD, WireJson.write(ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
        "The agent could not relay the switched connection."))));
    frames.writeBytes(Frames.end());
    try {
      upgradedClient.execute(
          AsyncRequestBuilder.post(responseUri(exchangeId))
              .setEntity(AsyncEntityProducers.create(frames.toByteArray(), ContentType.create(Protocol.FRAMES_TYPE)))
              .build(),
          SimpleResponseConsumer.create(),
          null);
    } catch (RuntimeException e) {
      // The client is closing: the proxy times the handshake out.
    }
  }

  /** The first line of a proxy's message, cut to a log-friendly length. */
  static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    String cut = (text.length() > MAX_MESSAGE ? text.substring(0, MAX_MESSAGE) : text).strip();
    int newline = cut.indexOf('\n');
    return newline < 0 ? cut : cut.substring(0, newline).strip();
  }

  /** The proxy's answer to an upload. */
  record Answer(int status, String message) {}

  /** The call that carries {@code frames}, a batch of complete responses, to this node. */
  HttpPost batchRequest(List<byte[]> frames) {
    HttpPost batch = new HttpPost(batchUri);
    batch.setEntity(new ResponseBatchEntity(frames));
    return batch;
  }

  /**
   * POSTs a batch of complete responses ({@code BatchedResponse} frames; the end frame is added).
   *
   * @throws IOException on connection failures and malformed answers
   */
  BatchResult sendBatch(List<byte[]> frames) throws IOException {
    return proxyClient.execute(batchRequest(frames), ProxyClient::batchResult);
  }

  /** POSTs a streamed batch ({@link ResponseStream}): its body is written while the call runs. */
  BatchResult sendStream(AbstractHttpEntity stream) throws IOException {
    HttpPost batch = new HttpPost(batchUri);
    batch.setHeader(Protocol.RESPONSE_STREAM_HEADER, Protocol.STREAM_OPEN);
    batch.setEntity(stream);
    return proxyClient.execute(batch, ProxyClient::batchResult);
  }

  private static BatchResult batchResult(ClassicHttpResponse proxyResponse) throws IOException {
    int status = proxyResponse.getCode();
    String stream = headerValue(proxyResponse, Protocol.RESPONSE_STREAM_HEADER);
    if (status == 200) {
      byte[] json = EntityUtils.toByteArray(proxyResponse.getEntity());
      BatchAnswer answer = WireJson.readBatchAnswer(json);
      return new BatchResult(status, "", answer.refused() == null ? List.of() : answer.refused(), stream);
    }
    return new BatchResult(status, message(proxyResponse), List.of(), stream);
  }

  /**
   * The proxy's answer to a batch: its status, its message when it refused the whole batch, and on
   * a streamed batch its verdict on the way ({@link Protocol#RESPONSE_STREAM_HEADER}), or null.
   */
  record BatchResult(int status, String message, List<BatchAnswer.Refusal> refused, String stream) {

    BatchResult(int status, String message, List<BatchAnswer.Refusal> refused) {
      this(status, message, refused, null);
    }
  }

  static ProxyStatusException statusException(ClassicHttpResponse proxyResponse) throws IOException {
    return new ProxyStatusException(
        proxyResponse.getCode(),
        message(proxyResponse),
        proxyResponse.containsHeader(Protocol.PROXY_VERSION_HEADER),
        headerValue(proxyResponse, Protocol.PROTOCOL_HEADER));
  }

  private static String headerValue(ClassicHttpResponse proxyResponse, String name) {
    org.apache.hc.core5.http.Header header = proxyResponse.getFirstHeader(name);
    return header == null ? null : header.getValue();
  }

  /** The first line of the proxy's text body, cut to a log-friendly length. */
  static String message(ClassicHttpResponse proxyResponse) throws IOException {
    HttpEntity entity = proxyResponse.getEntity();
    if (entity == null) {
      return "";
    }
    try (InputStream in = entity.getContent()) {
      return firstLine(new String(in.readNBytes(MAX_MESSAGE), StandardCharsets.UTF_8));
    }
  }

  @Override
  public void close() {
    proxyClient.close(CloseMode.IMMEDIATE);
    upgradedClient.close(CloseMode.IMMEDIATE);
  }
}
