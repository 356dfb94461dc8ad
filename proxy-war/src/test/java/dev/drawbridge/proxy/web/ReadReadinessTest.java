package dev.drawbridge.proxy.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import org.junit.jupiter.api.Test;

class ReadReadinessTest {

  /** An input that answers isReady() as told and counts the questions. */
  private static class Input extends ServletInputStream {
    boolean ready;
    int asked;

    @Override
    public boolean isReady() {
      asked++;
      return ready;
    }

    @Override
    public boolean isFinished() {
      return false;
    }

    @Override
    public void setReadListener(ReadListener listener) {}

    @Override
    public int read() {
      return -1;
    }
  }

  private final Input in = new Input();
  private final ReadReadiness readiness = new ReadReadiness();

  @Test
  void asksUntilTheInputAnswersFalseThenWaitsForAnAnnouncement() {
    in.ready = true;
    assertTrue(readiness.isReady(in));
    assertTrue(readiness.isReady(in));
    in.ready = false;
    assertFalse(readiness.isReady(in));
    assertFalse(readiness.isReady(in));
    assertFalse(readiness.isReady(in));
    assertEquals(3, in.asked, "after the false, not asked again");

    in.ready = true;
    readiness.announced();
    assertTrue(readiness.isReady(in), "asked again after the announcement");
    assertEquals(4, in.asked);
  }

  @Test
  void anAnnouncementDuringTheQuestionIsNotLost() {
    ServletInputStream announcingWhileAsked = new Input() {
      @Override
      public boolean isReady() {
        super.isReady();
        // The container's thread announces bytes after the input answered, before the lane notes it.
        readiness.announced();
        return false;
      }
    };
    assertFalse(readiness.isReady(announcingWhileAsked));
    in.ready = true;
    assertTrue(readiness.isReady(in), "the announcement counted after the false lets the lane ask again");
  }

  @Test
  void asksTheFirstTimeWithoutAnAnnouncement() {
    in.ready = true;
    assertTrue(readiness.isReady(in));
    assertEquals(1, in.asked);
  }
}
