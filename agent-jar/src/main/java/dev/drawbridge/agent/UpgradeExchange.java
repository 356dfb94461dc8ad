package dev.drawbridge.agent;

import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.impl.io.ChunkedInputStream;
import org.apache.hc.core5.http.impl.io.ContentLengthInputStream;
import org.apache.hc.core5.http.impl.io.IdentityInputStream;

/**
 * A protocol-switch handshake (a WebSocket) carried through the agent, on an exchange worker: the
 * handshake with the backend ({@link BackendHandshake}), then either the switch, handed to {@link
 * UpgradedConnections} so the worker and its slot are free again, or the backend's refusal,
 * relayed as an ordinary streamed response. Every answer goes in a response call of its own:
 * the proxy never takes a handshake's answer from a batch.
 */
final class UpgradeExchange {

  private static final Logger LOG = Logger.getLogger(UpgradeExchange.class.getName());

  private final RequestHead clientRequest;
  private final AgentConfig config;
  private final ProxyClient proxyClient;
  private final UpgradedConnections connections;

  UpgradeExchange(RequestHead clientRequest, AgentConfig config, ProxyClient proxyClient, UpgradedConnections connections) {
    this.clientRequest = clientRequest;
    this.config = config;
    this.proxyClient = proxyClient;
    this.connections = connections;
  }

  String id() {
    return clientRequest.id();
  }

  void run(boolean agentDraining) {
    long started = System.nanoTime();
    if (agentDraining) {
      answerWithFailure(ResponseHead.failed(Failure.AGENT_DRAINING, "The agent is shutting down and did not start the request."));
      return;
    }
    if (!connections.tryReserve()) {
      answerWithFailure(ResponseHead.failed(Failure.AGENT_DRAINING,
          "The agent has " + connections.max() + " upgraded connections open, its limit; retry shortly."));
      return;
    }
    boolean handedOver = false;
    try {
      BackendHandshake handshake;
      try {
        handshake = BackendHandshake.perform(clientRequest, config);
      } catch (IOException e) {
        ResponseHead failure = failure(e);
        LOG.warning(log(clientRequest.method() + " " + clientRequest.target() + " (upgrade to " + clientRequest.upgrade()
            + ") failed: " + failure.message()));
        answerWithFailure(failure);
        return;
      }
      ClassicHttpResponse answer = handshake.answer();
      if (answer.getCode() == 101) {
        ResponseHead head = new ResponseHead(101, switchHeaders(handshake.answerHeaders()), null, null);
        handedOver = connections.open(clientRequest.id(), head, handshake, proxyClient, started);
        if (!handedOver) {
          handshake.close();
        }
        return;
      }
      try {
        relayRefusal(handshake, answer, started);
      } finally {
        handshake.close();
      }
    } finally {
      if (!handedOver) {
        connections.unreserve();
      }
    }
  }

  /** The 101's headers for the proxy: end-to-end ones, plus {@code Upgrade}, which the client needs. */
  static List<HeaderField> switchHeaders(List<HeaderField> backendHeaders) {
    List<HeaderField> kept = new ArrayList<>(HopByHop.endToEnd(backendHeaders));
    for (HeaderField field : backendHeaders) {
      if (field.name().equalsIgnoreCase("upgrade")) {
        kept.add(field);
      }
    }
    return kept;
  }

  /** The backend refused the switch: its answer goes back as any response would, streamed. */
  private void relayRefusal(BackendHandshake handshake, ClassicHttpResponse answer, long started) {
    int status = answer.getCode();
    ResponseHead head = new ResponseHead(status, Redirects.toPublic(HopByHop.endToEnd(handshake.answerHeaders()),
        clientRequest.headers(), config.targetHost(), config.targetBasePath()), null, null);
    InputStream body = body(handshake, answer);
    ResponseUpload upload = new ResponseUpload(head, body);
    try {
      ProxyClient.Answer proxyAnswer = proxyClient.send(proxyClient.responseRequest(id(), upload));
      if (proxyAnswer.status() != 204) {
        LOG.warning(log("the proxy refused the handshake's answer (" + proxyAnswer.status() + ": " + proxyAnswer.message() + ")"));
      } else {
        LOG.info(log(clientRequest.method() + " " + clientRequest.target() + " -> " + status
            + " (the backend did not switch to " + clientRequest.upgrade() + "), " + upload.bytesCopied() + " bytes in "
            + (System.nanoTime() - started) / 1_000_000 + " ms"));
      }
    } catch (IOException e) {
      LOG.warning(log("could not send the handshake's answer to the proxy: " + Reasons.describe(e)));
    }
  }

  /** The refused answer's body, decoded from its framing; null when it has none. */
  private static InputStream body(BackendHandshake handshake, ClassicHttpResponse answer) {
    int status = answer.getCode();
    if (status == 204 || status == 304) {
      return null;
    }
    Header transferEncoding = answer.getFirstHeader("Transfer-Encoding");
    if (transferEncoding != null && transferEncoding.getValue().toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
      return new ChunkedInputStream(handshake.buffer(), handshake.socketIn());
    }
    Header contentLength = answer.getFirstHeader("Content-Length");
    if (contentLength != null) {
      try {
        return new ContentLengthInputStream(handshake.buffer(), handshake.socketIn(), Long.parseLong(contentLength.getValue().trim()));
      } catch (NumberFormatException e) {
        return new IdentityInputStream(handshake.buffer(), handshake.socketIn());
      }
    }
    return new IdentityInputStream(handshake.buffer(), handshake.socketIn());
  }

  private void answerWithFailure(ResponseHead failure) {
    try {
      ProxyClient.Answer answer = proxyClient.send(proxyClient.responseRequest(id(), new ResponseUpload(failure, null)));
      if (answer.status() != 204 && answer.status() != 410) {
        LOG.warning(log("the proxy refused the failure report (" + answer.status() + ": " + answer.message() + ")"));
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, log("could not report the failure to the proxy: " + Reasons.describe(e)));
    }
  }

  private ResponseHead failure(IOException failure) {
    String target = config.target().toString();
    if (failure instanceof UnknownHostException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The backend host of " + target + " could not be resolved.");
    }
    if (failure instanceof ConnectException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The backend at " + target + " refused the connection.");
    }
    if (failure instanceof SocketTimeoutException) {
      return ResponseHead.failed(Failure.BACKEND_TIMEOUT, "The backend at " + target + " did not answer in time.");
    }
    if (failure instanceof SSLException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The TLS handshake with the backend at " + target + " failed.");
    }
    if (failure.getCause() instanceof org.apache.hc.core5.http.ProtocolException
        || failure instanceof org.apache.hc.core5.http.MessageConstraintException) {
      return ResponseHead.failed(Failure.BAD_BACKEND_RESPONSE, "The backend at " + target + " sent a response that is not valid HTTP.");
    }
    if (failure instanceof org.apache.hc.core5.http.NoHttpResponseException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The backend at " + target + " closed the connection without answering.");
    }
    return ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The connection to the backend at " + target + " failed.");
  }

  private String log(String message) {
    return "exchange " + id() + ": " + message;
  }
}
