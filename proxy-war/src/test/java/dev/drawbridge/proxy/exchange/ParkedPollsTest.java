package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which held poll gets work, and which polls each way of taking them out returns. */
@Timeout(10)
class ParkedPollsTest {

  private final ParkedPolls parked = new ParkedPolls();

  private static AgentSession session(String agentId) {
    return new AgentSession(agentId, "", List.of(), "1", "127.0.0.1", 0);
  }

  @Test
  void workGoesToTheLongestHeldPollThatWantsIt() {
    AgentSession one = session("one");
    AgentSession two = session("two");
    FakePoll listening = new FakePoll("one", 0);
    FakePoll first = new FakePoll("one", 2);
    FakePoll second = new FakePoll("two", 2);
    parked.park(listening, one);
    parked.park(first, one);
    parked.park(second, two);

    ParkedPolls.Parked taken = parked.takeFor(null);
    assertSame(first, taken.poll(), "a poll for no work is passed over");
    assertSame(one, taken.session());
    assertSame(second, parked.takeFor(null).poll());
    assertNull(parked.takeFor(null), "only the listening poll is left");
    assertEquals(1, parked.size());
  }

  @Test
  void agentsThatTakeNoWorkArePassedOver() {
    AgentSession down = session("down");
    down.reportBackendDown(true);
    AgentSession leaving = session("leaving");
    leaving.leave();
    AgentSession able = session("able");
    FakePoll ablePoll = new FakePoll("able", 1);
    parked.park(new FakePoll("down", 1), down);
    parked.park(new FakePoll("leaving", 1), leaving);
    parked.park(ablePoll, able);

    assertSame(ablePoll, parked.takeFor(null).poll());
    assertNull(parked.takeFor(null));
    assertEquals(2, parked.size(), "polls passed over stay held");
  }

  @Test
  void takesOneOrEveryPollOfAnAgent() {
    AgentSession one = session("one");
    AgentSession two = session("two");
    FakePoll a = new FakePoll("one", 1);
    FakePoll b = new FakePoll("two", 1);
    FakePoll c = new FakePoll("one", 1);
    parked.park(a, one);
    parked.park(b, two);
    parked.park(c, one);

    assertEquals(List.of(a), parked.takeOf(one, false));
    assertTrue(parked.holdsPollOf(one));
    assertEquals(List.of(c), parked.takeOf(one, true));
    assertFalse(parked.holdsPollOf(one));
    assertTrue(parked.holdsPollOf(two));
  }

  @Test
  void takesOutOnlyPollsWhoseWaitEnded() {
    AgentSession one = session("one");
    FakePoll early = new FakePoll("one", 1, 100);
    FakePoll late = new FakePoll("one", 1, 300);
    parked.park(late, one);
    parked.park(early, one);

    assertEquals(List.of(), parked.takeDue(99));
    List<ParkedPolls.Parked> due = parked.takeDue(100);
    assertEquals(1, due.size());
    assertSame(early, due.get(0).poll());
    assertEquals(1, parked.takeAll().size());
    assertEquals(0, parked.size());
  }
}
