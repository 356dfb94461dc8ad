package dev.drawbridge.proxy.web.client;

import dev.drawbridge.proxy.exchange.ClientLeg;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client's side of a protocol-switch handshake. Its request thread waits in the servlet's
 * {@code service} call for one {@link HandshakeAnswer} (containers switch protocols only from
 * there), so ending the exchange before the answer only hands that thread an error to write.
 * After a switch the {@link UpgradeRelay} closes the client's connection when the exchange ends;
 * after a relayed refusal an ordinary {@link ServletClientLeg} carries the response.
 */
final class UpgradeClientLeg implements ClientLeg {

  private final CompletableFuture<HandshakeAnswer> answer = new CompletableFuture<>();
  private volatile ServletClientLeg responding;
  private volatile String cutReason;
  private volatile UpgradeRelay relay;

  /** Binds the relay once it exists, before the exchange is submitted. */
  void bind(UpgradeRelay upgradeRelay) {
    relay = upgradeRelay;
  }

  UpgradeRelay relay() {
    return relay;
  }

  /** Gives the waiting thread the backend's answer; false when it already has another answer. */
  boolean decide(HandshakeAnswer backendAnswer) {
    return answer.complete(backendAnswer);
  }

  /** The answer, or null when none came within {@code millis}. */
  HandshakeAnswer await(long millis) throws InterruptedException {
    try {
      return answer.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException("handshake answers never complete exceptionally", e);
    }
  }

  /**
   * From now on a relayed refusal's response is {@code leg}'s. Returns the reason to cut it when
   * the exchange ended before the leg existed, else null.
   */
  String respondingWith(ServletClientLeg leg) {
    responding = leg;
    return cutReason;
  }

  @Override
  public boolean isCommitted() {
    return answer.isDone() && !answer.join().isError();
  }

  @Override
  public void sendError(int status, String message, int retryAfterSeconds) {
    if (!answer.complete(HandshakeAnswer.error(status, message, retryAfterSeconds))) {
      abort(message);
    }
  }

  @Override
  public void complete() {
    ServletClientLeg leg = responding;
    if (leg != null) {
      leg.complete();
    }
  }

  @Override
  public void abort(String reason) {
    ServletClientLeg leg = responding;
    if (leg != null) {
      leg.abort(reason);
    } else {
      // A switched connection is closed by its relay; a refusal not yet under way is cut by the
      // request thread as soon as it has its leg.
      cutReason = reason;
    }
  }

  @Override
  public void discard() {
    complete();
  }
}
