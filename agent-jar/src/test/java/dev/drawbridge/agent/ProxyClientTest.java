package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.util.List;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ProxyClientTest {

  private final AgentConfig config =
      AgentConfig.defaults(URI.create("http://127.0.0.1:1/drawbridge"), URI.create("http://127.0.0.1:2"), "token");
  private final ProxyClient client =
      new ProxyClient(config, new ProxyNode(URI.create("http://127.0.0.1:1/drawbridge"), null),
          TokenSource.fixed("token"), "instance", () -> "");

  @AfterEach
  void close() throws Exception {
    client.close();
  }

  @Test
  void aPollAsksForAsManyExchangesAsItSays() throws Exception {
    for (int max : new int[] {0, 1, 64, 1000}) {
      HttpPost poll = client.pollRequest(max, true);
      assertEquals(URI.create("http://127.0.0.1:1/drawbridge/_drawbridge/agent/v1/poll?backend=default&max=" + max),
          poll.getUri(), "max " + max);
    }
  }

  @Test
  void aBatchGoesToTheResponsesOfItsBackend() throws Exception {
    assertEquals(URI.create("http://127.0.0.1:1/drawbridge/_drawbridge/agent/v1/responses?backend=default"),
        client.batchRequest(List.of()).getUri());
  }
}
