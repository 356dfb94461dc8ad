package dev.drawbridge.proxy.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A poll whose answers land in a queue, one list per answer: exchange ids, "cancelled id" lines,
 * and a last line "draining" when the answer says the proxy drains. Its deadline never comes unless
 * the test gives it one.
 */
final class FakePoll implements PendingPoll {

  /** A deadline no {@link ManualClock} reaches. */
  private static final long NEVER = Long.MAX_VALUE;

  final BlockingQueue<List<String>> answers = new LinkedBlockingQueue<>();
  private final String agentId;
  private final int max;
  private final long deadlineNanos;
  private final boolean streams;
  private boolean upgrades;

  FakePoll(String agentId, int max) {
    this(agentId, max, NEVER);
  }

  /** A poll whose wait ends at {@code deadlineNanos} on the tunnel's clock. */
  FakePoll(String agentId, int max, long deadlineNanos) {
    this(agentId, max, deadlineNanos, false);
  }

  private FakePoll(String agentId, int max, long deadlineNanos, boolean streams) {
    this.agentId = agentId;
    this.max = max;
    this.deadlineNanos = deadlineNanos;
    this.streams = streams;
  }

  /** A streamed poll: the test parks it again after an answer, with {@link Backend#pollAgain}. */
  static FakePoll streamed(String agentId, int max) {
    return new FakePoll(agentId, max, NEVER, true);
  }

  /** A plain poll of an agent that relays upgraded connections, so it may take handshakes. */
  static FakePoll relayingUpgrades(String agentId, int max) {
    FakePoll poll = new FakePoll(agentId, max);
    poll.upgrades = true;
    return poll;
  }

  @Override
  public boolean upgrades() {
    return upgrades;
  }

  @Override
  public boolean streams() {
    return streams;
  }

  @Override
  public String agentId() {
    return agentId;
  }

  @Override
  public int max() {
    return max;
  }

  @Override
  public long deadlineNanos() {
    return deadlineNanos;
  }

  @Override
  public void answer(List<Exchange> exchanges, List<String> cancelled, boolean draining) {
    List<String> lines = new ArrayList<>();
    exchanges.forEach(e -> lines.add(e.id()));
    cancelled.forEach(id -> lines.add("cancelled " + id));
    if (draining) {
      lines.add("draining");
    }
    answers.add(lines);
  }
}
