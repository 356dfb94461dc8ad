package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.drawbridge.protocol.HeaderField;
import java.util.List;
import org.apache.hc.core5.http.HttpHost;
import org.junit.jupiter.api.Test;

class RedirectsTest {

  private static final HttpHost TARGET = new HttpHost("http", "10.0.0.5", 8080);

  /** A request as the proxy forwards it from https://tunnel.example.com/wiki/… with a stripped prefix. */
  private static final List<HeaderField> REQUEST = List.of(
      new HeaderField("Host", "tunnel.example.com"),
      new HeaderField("X-Forwarded-Proto", "https"),
      new HeaderField("X-Forwarded-Host", "tunnel.example.com"),
      new HeaderField("X-Forwarded-Prefix", "/wiki"));

  @Test
  void aRedirectToTheTargetGoesToThePublicAddressUnderThePrefix() {
    assertEquals("https://tunnel.example.com/wiki/docs/?page=2#top",
        Redirects.publicLocation("http://10.0.0.5:8080/docs/?page=2#top", REQUEST, TARGET, ""));
  }

  @Test
  void thePublicHostWithTheServicesPortIsTheServiceNamingItself() {
    // nginx adding a directory's slash: Host's name, its own listening port.
    assertEquals("https://tunnel.example.com/wiki/docs/",
        Redirects.publicLocation("http://tunnel.example.com:8080/docs/", REQUEST, TARGET, ""));
  }

  @Test
  void theTargetsBasePathIsReplacedByThePublicPrefix() {
    assertEquals("https://tunnel.example.com/wiki/login",
        Redirects.publicLocation("http://10.0.0.5:8080/app/login", REQUEST, TARGET, "/app"));
    assertEquals("https://tunnel.example.com/wiki/",
        Redirects.publicLocation("http://10.0.0.5:8080/app", REQUEST, TARGET, "/app/"));
    assertNull(Redirects.publicLocation("http://10.0.0.5:8080/other/login", REQUEST, TARGET, "/app"),
        "outside the base path the proxy publishes nothing, so it stays as the service wrote it");
  }

  @Test
  void defaultPortsAndCaseDoNotHideTheTarget() {
    HttpHost onDefaultPort = new HttpHost("http", "wiki.internal", -1);
    assertEquals("https://tunnel.example.com/wiki/x",
        Redirects.publicLocation("HTTP://Wiki.Internal:80/x", REQUEST, onDefaultPort, ""));
    assertEquals("https://tunnel.example.com/wiki/x",
        Redirects.publicLocation("http://wiki.internal/x", REQUEST, onDefaultPort, ""));
  }

  @Test
  void everyOtherLocationPassesUntouched() {
    for (String location : List.of(
        "/docs/", "docs/", "https://tunnel.example.com/wiki/docs/", "http://10.0.0.5:9090/docs/",
        "https://10.0.0.5:8080/docs/", "http://elsewhere.example.org:8080/", "ftp://10.0.0.5:8080/",
        "http://user@10.0.0.5:8080/", "http://10.0.0.5:8080/a b", "mailto:ops@example.com")) {
      assertNull(Redirects.publicLocation(location, REQUEST, TARGET, ""), location);
    }
  }

  @Test
  void thePublicHostOnTheServicesOwnPortIsNotRewritten() {
    List<HeaderField> sameCoordinates = List.of(
        new HeaderField("X-Forwarded-Proto", "http"), new HeaderField("X-Forwarded-Host", "tunnel.example.com:8080"));
    assertNull(Redirects.publicLocation("http://tunnel.example.com:8080/x", sameCoordinates, TARGET, ""));
  }

  @Test
  void aTrustedChainGivesTheFirstHostAndScheme() {
    List<HeaderField> chain = List.of(
        new HeaderField("X-Forwarded-Proto", "https, http"), new HeaderField("X-Forwarded-Host", "a.example.com, b"));
    assertEquals("https://a.example.com/x", Redirects.publicLocation("http://10.0.0.5:8080/x", chain, TARGET, ""));
  }

  @Test
  void withoutAPublicHostTheRedirectBecomesAPath() {
    assertEquals("/x", Redirects.publicLocation("http://10.0.0.5:8080/x", List.of(), TARGET, ""));
  }

  @Test
  void ipv6HostsCompareWithoutTheirBrackets() {
    HttpHost v6 = new HttpHost("http", "::1", 8080);
    List<HeaderField> request = List.of(
        new HeaderField("X-Forwarded-Proto", "http"), new HeaderField("X-Forwarded-Host", "[::1]:18080"));
    assertEquals("http://[::1]:18080/x", Redirects.publicLocation("http://[::1]:8080/x", request, v6, ""));
  }

  @Test
  void onlyTheLocationFieldChangesAndAnUnchangedListIsReturnedAsItIs() {
    List<HeaderField> response = List.of(
        new HeaderField("Content-Type", "text/html"), new HeaderField("location", "http://10.0.0.5:8080/a"));
    assertEquals(
        List.of(new HeaderField("Content-Type", "text/html"),
            new HeaderField("location", "https://tunnel.example.com/wiki/a")),
        Redirects.toPublic(response, REQUEST, TARGET, ""));
    List<HeaderField> elsewhere = List.of(new HeaderField("Location", "/a"));
    assertSame(elsewhere, Redirects.toPublic(elsewhere, REQUEST, TARGET, ""));
  }
}
