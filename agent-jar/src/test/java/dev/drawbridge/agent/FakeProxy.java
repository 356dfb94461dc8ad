package dev.drawbridge.agent;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A scripted stand-in for the proxy, at context path {@code /drawbridge}: polls answer with what
 * the test queued (or nothing after a short hold), never with more exchanges than the poll's {@code
 * max}, as the real proxy; request bodies are served as queued, and every response upload is decoded
 * frame by frame as it arrives so tests can watch streaming.
 */
final class FakeProxy extends Handler.Abstract {

  static final String CONTEXT = "/drawbridge";

  private static final Pattern MAX_PARAM = Pattern.compile("(?:^|&)max=(\\d+)");

  /** A poll as the proxy saw it. */
  record Poll(String query, HttpFields headers) {}

  /** One response upload, filled in as its frames arrive. */
  static final class Upload {
    final CompletableFuture<ResponseHead> head = new CompletableFuture<>();
    final BlockingQueue<String> chunks = new LinkedBlockingQueue<>();
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    /** "END", "ABORT: reason", or "CUT: ..." when the stream broke without either. */
    final CompletableFuture<String> end = new CompletableFuture<>();
    volatile HttpFields headers;
    /** True when the response came whole in a batch rather than streamed in its own call. */
    volatile boolean batched;

    ResponseHead head() throws Exception {
      return head.get(10, TimeUnit.SECONDS);
    }

    String end() throws Exception {
      return end.get(10, TimeUnit.SECONDS);
    }

    String chunk() throws InterruptedException {
      return chunks.poll(10, TimeUnit.SECONDS);
    }

    synchronized String bodyText() {
      return body.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private final BlockingDeque<PollResult> scriptedPolls = new LinkedBlockingDeque<>();
  final BlockingQueue<Poll> polls = new LinkedBlockingQueue<>();
  /** Polls saying the agent is shutting down or letting go of this proxy. */
  final BlockingQueue<Poll> goodbyes = new LinkedBlockingQueue<>();
  /** Answers for listen-only polls; empty, so they are held like the real proxy holds them. */
  private final BlockingQueue<PollResult> listenOnlyPolls = new LinkedBlockingQueue<>();
  final Map<String, byte[]> requestBodies = new ConcurrentHashMap<>();
  final Map<String, Upload> uploads = new ConcurrentHashMap<>();
  final java.util.concurrent.atomic.AtomicInteger batchCalls = new java.util.concurrent.atomic.AtomicInteger();
  volatile int pollStatus = 200;
  volatile int uploadStatus = 204;
  /** The agent protocol version this fake proxy announces on every answer. */
  volatile String protocolVersion = Integer.toString(Protocol.VERSION);

  /** Queues one poll answer carrying {@code exchanges}. */
  void deliver(RequestHead... exchanges) {
    scriptedPolls.add(new PollResult(List.of(exchanges), List.of(), false));
  }

  /** Queues one poll answer that cancels {@code ids}. */
  void cancel(String... ids) {
    scriptedPolls.add(new PollResult(List.of(), List.of(ids), false));
  }

  Upload upload(String id) {
    return uploads.computeIfAbsent(id, key -> new Upload());
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    // Every answer of a real proxy names its version; the agent trusts status codes only then.
    response.getHeaders().put(Protocol.PROXY_VERSION_HEADER, "test");
    response.getHeaders().put(Protocol.PROTOCOL_HEADER, protocolVersion);
    String path = request.getHttpURI().getPath();
    if (path.equals(CONTEXT + Protocol.POLL_PATH)) {
      poll(request, response, callback);
    } else if (path.startsWith(CONTEXT + Protocol.EXCHANGES_PATH) && path.endsWith(Protocol.REQUEST_BODY_SUFFIX)) {
      String id = path.substring((CONTEXT + Protocol.EXCHANGES_PATH).length(),
          path.length() - Protocol.REQUEST_BODY_SUFFIX.length());
      byte[] frames = requestBodies.get(id);
      if (frames == null) {
        text(response, callback, 410, "The client went away.");
      } else {
        response.getHeaders().put("Content-Type", Protocol.FRAMES_TYPE);
        response.write(true, ByteBuffer.wrap(frames), callback);
      }
    } else if (path.startsWith(CONTEXT + Protocol.EXCHANGES_PATH) && path.endsWith(Protocol.RESPONSE_SUFFIX)) {
      String id = path.substring((CONTEXT + Protocol.EXCHANGES_PATH).length(),
          path.length() - Protocol.RESPONSE_SUFFIX.length());
      Upload upload = upload(id);
      upload.headers = request.getHeaders();
      readUpload(Content.Source.asInputStream(request), upload);
      response.setStatus(uploadStatus);
      callback.succeeded();
    } else if (path.equals(CONTEXT + Protocol.RESPONSES_PATH)) {
      batch(request, response, callback);
    } else {
      text(response, callback, 404, "Not a proxy path.");
    }
    return true;
  }

  /** Unpacks a batch into one {@link Upload} per response; {@link #uploadStatus} refuses them all. */
  private void batch(Request request, Response response, Callback callback) throws IOException {
    batchCalls.incrementAndGet();
    byte[] body = Content.Source.asInputStream(request).readAllBytes();
    FrameReader reader = FrameReader.forBatch();
    ByteBuffer buffer = ByteBuffer.wrap(body);
    List<BatchAnswer.Refusal> refused = new ArrayList<>();
    while (reader.next(buffer) == FrameReader.Event.RESPONSE) {
      BatchedResponse batched = BatchedResponse.parse(reader.response());
      Upload upload = upload(batched.exchangeId());
      upload.headers = request.getHeaders();
      upload.batched = true;
      synchronized (upload) {
        upload.body.write(batched.bodyArray(), batched.bodyOffset(), batched.bodyLength());
      }
      upload.head.complete(WireJson.readResponseHead(batched.head()));
      upload.end.complete("END");
      if (uploadStatus != 204) {
        refused.add(new BatchAnswer.Refusal(batched.exchangeId(), uploadStatus, "refused by the test"));
      }
    }
    if (refused.isEmpty()) {
      response.setStatus(204);
      callback.succeeded();
    } else {
      response.getHeaders().put("Content-Type", Protocol.JSON_TYPE);
      response.write(true, ByteBuffer.wrap(WireJson.write(new BatchAnswer(refused))), callback);
    }
  }

  private void poll(Request request, Response response, Callback callback) throws Exception {
    String query = request.getHttpURI().getQuery();
    boolean listenOnly = query != null && query.endsWith("max=0");
    if ("true".equals(request.getHeaders().get(Protocol.AGENT_LEAVING_HEADER))) {
      goodbyes.add(new Poll(query, request.getHeaders()));
      response.getHeaders().put("Content-Type", Protocol.JSON_TYPE);
      response.write(true, ByteBuffer.wrap(WireJson.write(new PollResult(List.of(), List.of(), false))), callback);
      return;
    }
    if (!listenOnly) {
      polls.add(new Poll(query, request.getHeaders()));
    }
    if (pollStatus != 200) {
      text(response, callback, pollStatus, "The agent token is not valid for this backend.");
      return;
    }
    // Hold the poll briefly like the real proxy does, then answer empty. Scripted work is for the
    // polls that asked for some, not for the agent's listen-only poll.
    PollResult result = (listenOnly ? listenOnlyPolls : scriptedPolls).poll(200, TimeUnit.MILLISECONDS);
    if (result == null) {
      result = new PollResult(List.of(), List.of(), false);
    }
    int max = maxOf(query);
    if (result.exchanges().size() > max) {
      // The agent reserved slots for max exchanges only; the rest wait, first in line, for its next poll.
      List<RequestHead> exchanges = result.exchanges();
      scriptedPolls.addFirst(new PollResult(exchanges.subList(max, exchanges.size()), List.of(), false));
      result = new PollResult(exchanges.subList(0, max), result.cancelled(), result.draining());
    }
    response.getHeaders().put("Content-Type", Protocol.JSON_TYPE);
    response.write(true, ByteBuffer.wrap(WireJson.write(result)), callback);
  }

  private static int maxOf(String query) {
    Matcher max = MAX_PARAM.matcher(String.valueOf(query));
    return max.find() ? Integer.parseInt(max.group(1)) : 0;
  }

  private static void readUpload(InputStream in, Upload upload) {
    FrameReader reader = new FrameReader(true);
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    buffer.flip();
    try {
      while (!reader.isFinished()) {
        FrameReader.Event event = reader.next(buffer);
        switch (event) {
          case HEAD:
            upload.head.complete(WireJson.readResponseHead(reader.head()));
            break;
          case DATA:
            String chunk = new String(buffer.array(), reader.dataOffset(), reader.dataLength(), StandardCharsets.ISO_8859_1);
            synchronized (upload) {
              upload.body.write(buffer.array(), reader.dataOffset(), reader.dataLength());
            }
            upload.chunks.add(chunk);
            break;
          case END:
            upload.end.complete("END");
            break;
          case ABORT:
            upload.end.complete("ABORT: " + reader.abortReason());
            break;
          default:
            buffer.compact();
            int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
            if (n < 0) {
              upload.end.complete("CUT: stream ended without an end frame");
              return;
            }
            buffer.position(buffer.position() + n);
            buffer.flip();
        }
      }
    } catch (IOException e) {
      upload.end.complete("CUT: " + e);
    }
  }

  private static void text(Response response, Callback callback, int status, String message) {
    response.setStatus(status);
    response.getHeaders().put("Content-Type", "text/plain; charset=utf-8");
    response.write(true, ByteBuffer.wrap((message + "\n").getBytes(StandardCharsets.UTF_8)), callback);
  }
}
