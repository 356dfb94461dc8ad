package dev.drawbridge.agent;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The agent's {@code --concurrency} exchange slots: one budget shared by the polls of every proxy
 * node. A poll reserves slots before it asks its node for work, so the agent never receives more
 * requests than it can run at once, however many nodes it polls.
 *
 * <p>A slot is free, reserved by a poll in flight (a node may fill it with work at any moment, so
 * it cannot be lent to another node meanwhile), or held by a running exchange. Three rules keep a
 * busy node from starving the others, and an idle one from hoarding:
 *
 * <ul>
 *   <li>A poll reserves at most its part of its node's fair share: {@code ceil(ceil(concurrency /
 *       nodes) / polls)}. An idle node thus parks no more than its share.
 *   <li>A node that has no slot reserved and takes work ("starving") is owed one: another node's
 *       further poll goes ahead only while enough slots stay free for every starving node.
 *   <li>When slots are short, the next free slot goes to the waiting poll whose node reserves the
 *       fewest now, first come first served among equals.
 * </ul>
 */
final class Capacity {

  /** A node sharing the budget. */
  interface Owner {
    /** False while the node is unreachable, draining or refusing the agent: it is owed nothing. */
    boolean takesWork();
  }

  /**
   * Longest a blocked poll waits before looking again. A node going down frees the slot held back
   * for it without any call here, so a waiting poll must notice by itself.
   */
  private static final long RECHECK_MILLIS = 250;

  private final int total;
  private final int polls;
  private int free;
  private final Map<Owner, Integer> reservedBy = new HashMap<>();
  private final Set<Owner> owners = new LinkedHashSet<>();
  private final ArrayDeque<Ticket> waiting = new ArrayDeque<>();

  /** A poll waiting for its turn; compared by identity, since a node may have several waiting. */
  private static final class Ticket {
    final Owner owner;

    Ticket(Owner owner) {
      this.owner = owner;
    }
  }

  /**
   * @param concurrency the budget
   * @param polls polls asking for work on each node, which split that node's share
   */
  Capacity(int concurrency, int polls) {
    this.total = concurrency;
    this.polls = Math.max(1, polls);
    this.free = concurrency;
  }

  /** A node starts sharing the budget; its fair share shrinks the others'. */
  synchronized void join(Owner owner) {
    owners.add(owner);
    notifyAll();
  }

  /** A node stops sharing the budget (its polls ended). */
  synchronized void leave(Owner owner) {
    owners.remove(owner);
    notifyAll();
  }

  /**
   * Blocks until this node's turn for a free slot, then reserves it and as many more free slots as
   * the rules allow, up to {@code max}. Returns how many were reserved, at least one.
   */
  synchronized int reserve(Owner owner, int max) throws InterruptedException {
    Ticket ticket = new Ticket(owner);
    waiting.add(ticket);
    try {
      while (!mayGo(ticket)) {
        wait(RECHECK_MILLIS);
      }
    } finally {
      waiting.remove(ticket);
      // Whoever is next now may be able to go.
      notifyAll();
    }
    int already = reservedBy.getOrDefault(owner, 0);
    int share = ceilDiv(total, Math.max(1, owners.size()));
    int perPoll = ceilDiv(share, polls);
    // Keep a free slot for each poll still waiting and each starving node.
    int spare = free - 1 - waiting.size() - starving(owner);
    int extra = Math.min(spare, Math.min(perPoll, max) - 1);
    int taken = 1 + Math.max(0, extra);
    free -= taken;
    reservedBy.merge(owner, taken, Integer::sum);
    return taken;
  }

  private boolean mayGo(Ticket ticket) {
    if (free == 0 || next() != ticket) {
      return false;
    }
    boolean alreadyReserves = reservedBy.getOrDefault(ticket.owner, 0) > 0;
    return !alreadyReserves || free > starving(ticket.owner);
  }

  /**
   * A poll of {@code owner} that reserved {@code reserved} slots ended, having handed {@code used}
   * of them to exchanges, which give theirs back with {@link #release} when they end.
   */
  synchronized void settle(Owner owner, int reserved, int used) {
    if (reserved > 0) {
      reservedBy.computeIfPresent(owner, (key, count) -> count == reserved ? null : count - reserved);
      free += reserved - Math.min(used, reserved);
    }
    // Even with nothing freed: the node may now be owed a slot or no longer be.
    notifyAll();
  }

  /** Exchanges that held {@code count} slots ended. */
  synchronized void release(int count) {
    if (count > 0) {
      free += count;
      notifyAll();
    }
  }

  /** Slots free right now. */
  synchronized int free() {
    return free;
  }

  /** Slots reserved right now by {@code owner}'s polls in flight. */
  synchronized int reservedBy(Owner owner) {
    return reservedBy.getOrDefault(owner, 0);
  }

  /** Nodes other than {@code except} that take work and have no slot reserved. */
  private int starving(Owner except) {
    int count = 0;
    for (Owner owner : owners) {
      if (owner != except && !reservedBy.containsKey(owner) && owner.takesWork()) {
        count++;
      }
    }
    return count;
  }

  /** The waiting poll whose node reserves least now; the earliest among equals. */
  private Ticket next() {
    Ticket best = null;
    int fewest = Integer.MAX_VALUE;
    for (Ticket ticket : waiting) {
      int reserved = reservedBy.getOrDefault(ticket.owner, 0);
      if (reserved < fewest) {
        fewest = reserved;
        best = ticket;
      }
    }
    return best;
  }

  private static int ceilDiv(int dividend, int divisor) {
    return -Math.floorDiv(-dividend, divisor);
  }
}
