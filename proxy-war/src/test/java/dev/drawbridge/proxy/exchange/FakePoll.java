package dev.drawbridge.proxy.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A poll whose answers land in a queue, one list per answer: exchange ids, "cancelled id" lines,
 * and a last line "draining" when the answer says the proxy drains. Its deadline never comes.
 */
final class FakePoll implements PendingPoll {
  final BlockingQueue<List<String>> answers = new LinkedBlockingQueue<>();
  private final String agentId;
  private final int max;

  FakePoll(String agentId, int max) {
    this.agentId = agentId;
    this.max = max;
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
    return System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
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
