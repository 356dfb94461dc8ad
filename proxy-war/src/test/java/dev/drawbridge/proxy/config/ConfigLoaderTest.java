package dev.drawbridge.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @Test
  void appliesDefaultsToAMinimalFile() throws ConfigException {
    ProxySettings settings =
        ConfigLoader.parse("{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}]}", "test.json");
    assertEquals(Duration.ofSeconds(20), settings.pollWait());
    assertEquals(100L * 1024 * 1024, settings.maxRequestBodyBytes());
    assertEquals("drawbridge", settings.via());
    BackendSettings app = settings.defaultBackend();
    assertEquals("app", app.id());
    assertEquals(1000, app.maxQueued());
    assertEquals(Duration.ofSeconds(30), app.queueTimeout());
    assertEquals(Duration.ofSeconds(60), app.responseTimeout());
    assertEquals(10_000, app.maxInFlight());
    assertEquals(0, settings.routes().size());
    assertEquals(Duration.ofSeconds(10), settings.drainGrace());
  }

  @Test
  void readsEveryKey() throws ConfigException {
    ProxySettings settings =
        ConfigLoader.parse(
            "{\"backends\":[{\"id\":\"a\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"maxQueued\":5,\"queueTimeoutSeconds\":2,\"responseTimeoutSeconds\":3}],"
                + "\"pollWaitSeconds\":4,\"agentGraceSeconds\":5,\"maxRequestBodyBytes\":6,\"inlineBodyMaxBytes\":7,\"retryAfterSeconds\":8,"
                + "\"idleTimeoutSeconds\":9,\"trustedProxies\":[\"10.0.0.1\",\"::1\"],\"via\":\"edge\",\"maxPollBatch\":10,"
                + "\"drainGraceSeconds\":0,\"upgradeKeepaliveSeconds\":11}",
            "t");
    assertEquals(Duration.ofSeconds(4), settings.pollWait());
    assertEquals(Duration.ofSeconds(5), settings.agentGrace());
    assertEquals(6, settings.maxRequestBodyBytes());
    assertEquals(7, settings.inlineBodyMaxBytes());
    assertEquals(8, settings.retryAfterSeconds());
    assertEquals(Duration.ofSeconds(9), settings.idleTimeout());
    assertEquals(2, settings.trustedProxies().size());
    assertEquals("edge", settings.via());
    assertEquals(10, settings.maxPollBatch());
    assertEquals(Duration.ZERO, settings.drainGrace(), "0: cut at once");
    assertEquals(Duration.ofSeconds(11), settings.upgrades().keepaliveInterval());
    assertEquals(true, settings.requeueOnAgentLoss(), "on by default");
    assertEquals(false, settings.viaToService(), "off by default");
    assertEquals(5, settings.defaultBackend().maxQueued());
  }

  @Test
  void readsRoutesInOrder() throws ConfigException {
    ProxySettings settings =
        ConfigLoader.parse(
            "{\"backends\":[{\"id\":\"a\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"maxInFlight\":7}],"
                + "\"routes\":[{\"host\":\"*.Example.com\",\"pathPrefix\":\"/api/\",\"stripPrefix\":true,\"backend\":\"a\","
                + "\"requireRoles\":[\"ops\"],\"allow\":[\"10.0.0.0/8\",\"::1\"],\"rateLimitPerSecond\":2.5},{\"backend\":\"a\"}]}",
            "t");
    assertEquals(7, settings.defaultBackend().maxInFlight());
    assertEquals(2, settings.routes().size());
    RouteSettings first = settings.routes().get(0);
    assertEquals("*.example.com", first.host());
    assertEquals("/api", first.pathPrefix());
    assertEquals(true, first.stripPrefix());
    assertEquals(java.util.List.of("ops"), first.requireRoles());
    assertEquals(2, first.addresses().allow().size());
    assertEquals(3, first.rateBurst(), "burst defaults to one second's worth, rounded up");
    assertEquals(false, settings.routes().get(1).rateLimited());
  }

  static Stream<Arguments> badFiles() {
    String backend = "{\"id\":\"a\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}";
    return Stream.of(
        Arguments.of("{", "not a valid configuration"),
        // Cut short inside lists and objects: refused at once, not parsed on forever.
        Arguments.of("{\"backends\":[", "not a valid configuration"),
        Arguments.of("{\"backends\":[" + backend + ",", "not a valid configuration"),
        Arguments.of("{\"backends\":[{\"id\":\"a\",\"agentTokenSha256\":[\"" + DIGEST + "\",", "not a valid configuration"),
        Arguments.of("{\"trustedProxies\":[\"::1\",[1,", "not a valid configuration"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"allow\":[", "not a valid configuration"),
        Arguments.of("[]", "not a valid configuration"),
        Arguments.of("{}", "key 'backends'"),
        Arguments.of("{\"backends\":[" + backend + "],\"pollWait\":3}", "not a valid configuration"),
        Arguments.of("{\"backends\":[{\"id\":\"a b\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}]}", "key 'backends[0].id'"),
        Arguments.of("{\"backends\":[{\"id\":\"a\"}]}", "key 'backends[0].agentTokenSha256'"),
        Arguments.of("{\"backends\":[{\"id\":\"a\",\"agentTokenSha256\":[\"plain-token\"]}]}", "key 'backends[0].agentTokenSha256[0]'"),
        Arguments.of("{\"backends\":[" + backend + "," + backend + "]}", "used twice"),
        Arguments.of("{\"backends\":[" + backend + "],\"pollWaitSeconds\":0}", "key 'pollWaitSeconds'"),
        Arguments.of("{\"backends\":[" + backend + "],\"upgradeKeepaliveSeconds\":0}", "key 'upgradeKeepaliveSeconds'"),
        Arguments.of("{\"backends\":[" + backend + "],\"drainGraceSeconds\":-1}", "key 'drainGraceSeconds'"),
        Arguments.of("{\"backends\":[" + backend + "],\"trustedProxies\":[\"proxy.example\"]}", "key 'trustedProxies[0]'"),
        Arguments.of("{\"backends\":[" + backend + "],\"via\":\"two words\"}", "key 'via'"),
        Arguments.of("{\"backends\":[" + backend + "],\"requeueOnAgentLoss\":null}", "key 'requeueOnAgentLoss'"),
        Arguments.of("{\"backends\":[" + backend + "],\"requeueOnAgentLoss\":\"maybe\"}", "key 'requeueOnAgentLoss'"),
        Arguments.of("{\"backends\":[" + backend + "],\"viaToService\":\"yes\"}", "key 'viaToService'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"b\"}]}", "key 'routes[0].backend'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"host\":\"a b\"}]}", "key 'routes[0].host'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"pathPrefix\":\"api\"}]}", "key 'routes[0].pathPrefix'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"pathPrefix\":\"/a/../b\"}]}", "key 'routes[0].pathPrefix'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"stripPrefix\":true}]}", "key 'routes[0].stripPrefix'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"allow\":[\"10.0.0.0/40\"]}]}", "key 'routes[0].allow[0]'"),
        Arguments.of("{\"backends\":[" + backend + "],\"routes\":[{\"backend\":\"a\",\"rateLimitPerSecond\":-1}]}", "key 'routes[0].rateLimitPerSecond'"),
        Arguments.of("{\"backends\":[{\"id\":\"a\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"maxInFlight\":-1}]}", "key 'backends[0].maxInFlight'"));
  }

  @ParameterizedTest
  @MethodSource("badFiles")
  @Timeout(10)
  void namesFileKeyAndReason(String json, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(json, "drawbridge.json"));
    assertEquals(true, e.getMessage().startsWith("drawbridge.json: "), e.getMessage());
    assertEquals(true, e.getMessage().contains(expected), e.getMessage());
    assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
  }

  @Test
  void theContextParameterWinsOverTheSystemProperty() {
    String before = System.getProperty(ConfigLoader.CONFIG_PROPERTY);
    try {
      System.setProperty(ConfigLoader.CONFIG_PROPERTY, "/from/property.json");
      assertEquals(java.nio.file.Path.of("/from/context.json"), ConfigLoader.locate(" /from/context.json "));
      assertEquals(java.nio.file.Path.of("/from/property.json"), ConfigLoader.locate("  "));
      assertEquals(java.nio.file.Path.of("/from/property.json"), ConfigLoader.locate(null));
    } finally {
      if (before == null) {
        System.clearProperty(ConfigLoader.CONFIG_PROPERTY);
      } else {
        System.setProperty(ConfigLoader.CONFIG_PROPERTY, before);
      }
    }
  }
}
