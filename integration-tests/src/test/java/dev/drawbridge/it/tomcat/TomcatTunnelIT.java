package dev.drawbridge.it.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.BuiltArtifacts;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Tokens;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The built WAR in a real Tomcat 11 distribution (with ../tomcat-conf overlaid), started by
 * Arquillian, tunnelling to a backend through the real agent jar.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
@Timeout(120)
class TomcatTunnelIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Known before deployment: the config the WAR reads at start must already hold its hash. */
  private static final String AGENT_TOKEN = Tokens.random();

  /**
   * The WAR exactly as built. Its config goes where arquillian.xml's {@code -Ddrawbridge.config}
   * points ({@code conf/drawbridge.json}, as in a real install); Arquillian calls this method
   * before it deploys, so the file is in place when the proxy starts.
   */
  @Deployment(testable = false)
  static WebArchive proxyWar() {
    ProxyConfig.singleBackend("default", Tokens.sha256Hex(AGENT_TOKEN))
        .writeTo(BuiltArtifacts.tomcatHome().resolve("conf"));
    Path war = BuiltArtifacts.proxyWarFile();
    return ShrinkWrap.createFromZipFile(WebArchive.class, war.toFile());
  }

  @Test
  void requestTravelsThroughTomcatAndTheAgent(@ArquillianResource URL deployment) throws Exception {
    String proxyUrl = deployment.toExternalForm().replaceAll("/$", "");
    try (Backend backend = Backend.start();
        AgentProcess agent =
            AgentProcess.start(AgentProcess.flags(proxyUrl, backend.url(), "default", AGENT_TOKEN))) {
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);

      HttpResponse<String> clientResponse =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(proxyUrl + "/hello?x=1")).timeout(WAIT).build(),
                  HttpResponse.BodyHandlers.ofString());

      assertEquals(200, clientResponse.statusCode(), clientResponse::body);
      RecordedRequest backendRequest = backend.takeRequest(WAIT);
      assertEquals("/hello?x=1", backendRequest.target());
    }
  }
}
