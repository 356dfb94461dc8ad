package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.http.ClientSentences;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import dev.drawbridge.proxy.web.BufferReads;
import dev.drawbridge.proxy.web.ReadReadiness;
import dev.drawbridge.proxy.web.agent.AgentCaller;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * The downstream direction of an {@link UpgradeRelay}: the agent's response call, framed, decoded
 * onto the client. Its head decides the client's handshake; its data frames go to the client's
 * upgraded connection (or to the client's request, for a refused handshake); its end frame
 * completes the exchange once the bytes reached the client. Runs only in the relay's lane, holds
 * at most one buffer of {@value UpgradeRelay#CHUNK} bytes, reads from the agent only once the
 * client took the previous piece, and holds no buffer while the direction is quiet.
 */
final class UpgradeDownstream {

  private static final Logger LOG = Logger.getLogger(UpgradeDownstream.class.getName());

  private final UpgradeRelay relay;
  private final Exchange exchange;
  private final UpgradeClientLeg client;
  private final String viaEntry;
  private final ReadReadiness agentReadiness;

  // The lane's own state.
  private final FrameReader downFrames = new FrameReader(true);
  /** Bytes from the agent not yet decoded or written; null while the direction is quiet. */
  private ByteBuffer downBuffer;
  private int downOffset;
  private int downLength;
  private boolean downEnd;
  private boolean downFlushNeeded;
  /** This run's legs, as {@link #pump} got them. */
  private ServletInputStream agentIn;
  private ServletOutputStream clientOut;
  private boolean upgraded;

  UpgradeDownstream(
      UpgradeRelay relay, Exchange exchange, UpgradeClientLeg client, String viaEntry, ReadReadiness agentReadiness) {
    this.relay = relay;
    this.exchange = exchange;
    this.client = client;
    this.viaEntry = viaEntry;
    this.agentReadiness = agentReadiness;
  }

  /** True when bytes were written to the client since its last flush. */
  boolean flushNeeded() {
    return downFlushNeeded;
  }

  /**
   * Moves what the agent's response call {@code agentIn} carries to the client's output {@code
   * clientOut} until either side cannot go on now; both are null until they arrived.
   *
   * @param upgraded true once the client's connection switched protocols, false while its
   *     handshake is open or for a refused handshake, answered on the client's request
   */
  void pump(ServletInputStream agentIn, ServletOutputStream clientOut, boolean upgraded) {
    this.agentIn = agentIn;
    this.clientOut = clientOut;
    this.upgraded = upgraded;
    while (relay.isOpen()) {
      if (downLength > 0) {
        if (!clientReady()) {
          return;
        }
        if (!writeToClient()) {
          return;
        }
        continue;
      }
      if (downEnd) {
        if (clientReady() && flushClient() && clientReady()) {
          exchange.complete();
        }
        return;
      }
      if (agentIn == null || !relay.answerCallLive()) {
        return;
      }
      FrameReader.Event event;
      try {
        event = downBuffer == null ? FrameReader.Event.NEED_MORE : downFrames.next(downBuffer);
      } catch (FrameException e) {
        relay.answerAgent(400, "Malformed upgraded stream: " + e.getMessage());
        exchange.fail(502, "The agent sent a malformed response.");
        return;
      }
      switch (event) {
        case HEAD:
          if (!applyHead()) {
            return;
          }
          break;
        case DATA:
          downOffset = downFrames.dataOffset();
          downLength = downFrames.dataLength();
          break;
        case END:
          downEnd = true;
          break;
        case ABORT:
          relay.answerAgent(204, null);
          exchange.fail(502, "The backend's side of the connection broke off.");
          LOG.fine(() -> "exchange " + exchange.id() + ": agent aborted: " + downFrames.abortReason());
          return;
        default:
          if (!readFromAgent()) {
            return;
          }
      }
    }
  }

  /** True when the client's side exists and can take bytes now (else its listener calls back). */
  private boolean clientReady() {
    ServletOutputStream out = clientOut;
    if (out == null || !relay.clientLive()) {
      return false;
    }
    try {
      return out.isReady();
    } catch (IllegalStateException e) {
      exchange.clientGone("The client's connection ended: " + e);
      return false;
    }
  }

  private boolean writeToClient() {
    try {
      if (upgraded) {
        // An exact copy for an upgraded connection: Undertow's (WildFly's) upgraded output, in
        // non-blocking mode, writes the whole array it is given, whatever the offset and length.
        clientOut.write(Arrays.copyOfRange(downBuffer.array(), downOffset, downOffset + downLength));
      } else {
        clientOut.write(downBuffer.array(), downOffset, downLength);
      }
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke: " + e);
      return false;
    }
    exchange.addBytesToClient(downLength);
    exchange.touch();
    downLength = 0;
    downFlushNeeded = true;
    return true;
  }

  private boolean flushClient() {
    if (!downFlushNeeded || !relay.clientLive()) {
      return true;
    }
    downFlushNeeded = false;
    try {
      clientOut.flush();
      return true;
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke: " + e);
      return false;
    }
  }

  /** Reads more of the agent's stream; false when nothing is available now (or it failed). */
  private boolean readFromAgent() {
    // The client's output may still hold the buffer's array until its last write completed.
    if (clientOut != null && !clientReady()) {
      return false;
    }
    try {
      if (agentIn.isFinished()) {
        agentStreamCut();
        return false;
      }
      if (!agentReadiness.isReady(agentIn)) {
        if (downFlushNeeded && clientOut != null) {
          flushClient();
        }
        if (downBuffer != null && !downBuffer.hasRemaining()) {
          // Quiet: nothing half-read, nothing the client's output still holds.
          downBuffer = null;
        }
        return false;
      }
      if (downBuffer == null) {
        downBuffer = ByteBuffer.allocate(UpgradeRelay.CHUNK).flip();
      }
      int n = BufferReads.readInto(agentIn, downBuffer);
      if (n < 0) {
        agentStreamCut();
        return false;
      }
      return true;
    } catch (IOException | IllegalStateException e) {
      relay.agentBroke(e);
      return false;
    }
  }

  private void agentStreamCut() {
    relay.answerAgent(400, "The upgraded stream ended without an end frame.");
    exchange.fail(502, "The agent's side of the connection ended before it was complete.");
  }

  /** Checks the backend's answer and hands it to the client's waiting thread. */
  private boolean applyHead() {
    ResponseHead head;
    try {
      head = WireJson.readResponseHead(downFrames.head());
    } catch (FrameException e) {
      relay.answerAgent(400, "Malformed response head: " + e.getMessage());
      exchange.fail(502, "The agent sent a malformed response head.");
      return false;
    }
    if (head.failure() != null) {
      relay.answerAgent(204, null);
      // The client gets the proxy's own sentence; the agent's account is for the operator.
      String report = head.message() == null || head.message().isBlank()
          ? "The agent could not get a response from the backend (" + head.failure() + ")."
          : "The agent reports " + head.failure() + ": " + AgentCaller.sanitize(head.message(), 200);
      exchange.fail(head.failure().status(), ClientSentences.of(head.failure()).sentence(exchange.id()), report);
      return false;
    }
    ResponseHeadRules.Verdict verdict = ResponseHeadRules.judgeUpgrade(head, viaEntry, exchange.head().upgrade());
    if (!verdict.accepted()) {
      relay.answerAgent(400, "Response head refused: it had " + verdict.error() + ".");
      exchange.fail(502, "The backend's response was refused: it had " + verdict.error() + ".");
      return false;
    }
    if (!exchange.startResponse(verdict.status())) {
      relay.answerAgent(exchange.state().isTerminal() ? 410 : 409, "This exchange already ended or was answered.");
      return false;
    }
    if (!client.decide(HandshakeAnswer.backend(verdict))) {
      // The waiting thread gave up first and ended the exchange; the end closes the rest.
      return false;
    }
    return true;
  }
}
