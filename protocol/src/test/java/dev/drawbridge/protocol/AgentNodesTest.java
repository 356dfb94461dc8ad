package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class AgentNodesTest {

  @Test
  void roundTrips() {
    List<AgentNodes.Entry> entries = List.of(
        new AgentNodes.Entry("edge.example.com/10.0.0.5:443", "connected"),
        new AgentNodes.Entry("[::1]:8080", "failing"));
    String header = AgentNodes.format(entries);
    assertEquals("edge.example.com/10.0.0.5:443=connected,[::1]:8080=failing", header);
    assertEquals(entries, AgentNodes.parse(header));
  }

  @Test
  void readsLenientlyAndBounded() {
    assertEquals(List.of(), AgentNodes.parse(null));
    assertEquals(List.of(new AgentNodes.Entry("a:1", "connected")),
        AgentNodes.parse(" a:1 = connected ,nonsense,=x,b:2=,c d:3=up,e:4=<script>" + "x".repeat(20)));
    assertEquals(AgentNodes.MAX_ENTRIES, AgentNodes.parse("n=s,".repeat(100)).size());
    assertEquals(List.of(), AgentNodes.parse("x".repeat(AgentNodes.MAX_NODE_LENGTH + 1) + "=up"));
  }
}
