package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.ResponseHead;
import java.net.URI;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.junit.jupiter.api.Test;

class BackendFailuresTest {

  private final AgentConfig config =
      AgentConfig.defaults(URI.create("http://127.0.0.1:1"), URI.create("http://127.0.0.1:2"), "token");

  @Test
  void aHeadOverTheClientsLimitsIsNamedAsSuchNotAsBrokenHttp() {
    ResponseHead head = BackendFailures.head(new MessageConstraintException("Maximum line length limit exceeded"), config);
    assertEquals(Failure.BAD_BACKEND_RESPONSE, head.failure());
    assertTrue(head.message().contains("response head the agent does not take"), head.message());
    assertTrue(head.message().contains("Maximum line length limit exceeded"), head.message());
  }

  @Test
  void aConnectionClosedWithoutAnAnswerIsUnreachable() {
    ResponseHead head = BackendFailures.head(new NoHttpResponseException("gone"), config);
    assertEquals(Failure.BACKEND_UNREACHABLE, head.failure());
    assertTrue(head.message().contains("closed the connection without answering"), head.message());
  }
}
