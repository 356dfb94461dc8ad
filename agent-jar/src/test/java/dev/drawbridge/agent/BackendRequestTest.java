package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.RequestHead;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendRequestTest {

  private static final HttpHost BACKEND = new HttpHost("http", "backend.internal", 9000);

  private static final List<HeaderField> CLIENT_HEADERS = List.of(
      new HeaderField("Host", "public.example.com"),
      new HeaderField("Connection", "keep-alive, X-Per-Hop"),
      new HeaderField("X-Per-Hop", "dropped because Connection names it"),
      new HeaderField("Keep-Alive", "timeout=5"),
      new HeaderField("Proxy-Connection", "keep-alive"),
      new HeaderField("TE", "trailers"),
      new HeaderField("Trailer", "X-Checksum"),
      new HeaderField("Transfer-Encoding", "chunked"),
      new HeaderField("Upgrade", "websocket"),
      new HeaderField("Proxy-Authorization", "Basic cHJveHk6cHc="),
      new HeaderField("Content-Length", "5"),
      new HeaderField("Expect", "100-continue"),
      new HeaderField("Accept", "text/html"),
      new HeaderField("Accept", "application/json"),
      new HeaderField("Authorization", "Bearer end-to-end"),
      new HeaderField("Cookie", "a=1; b=2"),
      new HeaderField("User-Agent", "curl/8.5.0"),
      new HeaderField("Content-Type", "text/plain"),
      new HeaderField("X-Forwarded-Host", "public.example.com"),
      new HeaderField("X-Forwarded-For", "203.0.113.7"),
      new HeaderField("Via", "1.1 drawbridge"),
      new HeaderField("X-Bad Name", "space in the name"),
      new HeaderField("X-Smuggle", "a\r\nX-Injected: 1"));

  private static RequestHead head(String method, String target, List<HeaderField> headers) {
    return new RequestHead("ex1", "default", method, target, headers, BodyMode.NONE, 0, null);
  }

  @ParameterizedTest(name = "''{1}'' + ''{0}'' -> ''{2}''")
  @CsvSource(delimiterString = "||", value = {
    "/                                     || ''   || /",
    "/a%2Fb/c?x=%20y&z                     || ''   || /a%2Fb/c?x=%20y&z",
    "/a%2Fb/c?x=%20y&z                     || /app || /app/a%2Fb/c?x=%20y&z",
    "/a/../b/./c                           || ''   || /a/../b/./c",
    "//double//slashes/                    || ''   || //double//slashes/",
    "/%7Euser/%E2%82%AC;jsessionid=1?q=a+b || /p%20q || /p%20q/%7Euser/%E2%82%AC;jsessionid=1?q=a+b",
    "/raw|pipe{brace}?q=\"quoted\"         || ''   || /raw|pipe{brace}?q=\"quoted\"",
    "/?                                    || ''   || /?",
    "?only=query                           || /app || /app/?only=query",
    "*                                     || ''   || *",
    "*                                     || /app || /app",
  })
  void targetIsKeptByteForByte(String clientTarget, String basePath, String expected) {
    BackendRequest request = BackendRequest.of(head("GET", clientTarget, List.of()), BACKEND, basePath, false);
    assertEquals(expected, request.getPath());
    assertEquals(expected, request.getRequestUri());
    assertEquals("GET", request.getMethod());
  }

  @Test
  void hopByHopAndFramingHeadersAreDroppedAndTheRestKeptInOrder() {
    BackendRequest request = BackendRequest.of(head("POST", "/", CLIENT_HEADERS), BACKEND, "", false);
    assertEquals(List.of(
        "Accept: text/html",
        "Accept: application/json",
        "Authorization: Bearer end-to-end",
        "Cookie: a=1; b=2",
        "User-Agent: curl/8.5.0",
        "Content-Type: text/plain",
        "X-Forwarded-Host: public.example.com",
        "X-Forwarded-For: 203.0.113.7",
        "Via: 1.1 drawbridge"), lines(request.getHeaders()));
  }

  @Test
  void preserveHostSendsTheClientsHost() {
    BackendRequest request = BackendRequest.of(head("GET", "/", CLIENT_HEADERS), BACKEND, "", true);
    assertEquals("public.example.com", request.getFirstHeader("Host").getValue());
    assertEquals(1, request.getHeaders("Host").length);
  }

  @Test
  void withoutPreserveHostTheClientHostIsLeftForHttpClientToReplace() {
    BackendRequest request = BackendRequest.of(head("GET", "/", CLIENT_HEADERS), BACKEND, "", false);
    assertNull(request.getFirstHeader("Host"));
    assertEquals("backend.internal:9000", request.getAuthority().toString());
  }

  @Test
  void inlineBodyIsDecoded() throws Exception {
    byte[] body = {0, 1, 2, (byte) 0xFF, 'h', 'i'};
    RequestHead clientRequest = new RequestHead("ex1", "default", "PUT", "/", List.of(), BodyMode.INLINE,
        body.length, Base64.getEncoder().encodeToString(body));
    HttpEntity entity = BackendRequest.inlineEntity(clientRequest);
    ByteArrayOutputStream copy = new ByteArrayOutputStream();
    entity.writeTo(copy);
    assertArrayEquals(body, copy.toByteArray());
    assertEquals(body.length, entity.getContentLength());
    assertNull(entity.getContentType(), "the client's Content-Type header travels as a header");
  }

  @Test
  void declaredEmptyBodyKeepsItsLengthAndNoBodyMeansNoEntity() {
    HttpEntity empty = BackendRequest.inlineEntity(head("POST", "/", List.of(new HeaderField("Content-Length", "0"))));
    assertEquals(0, empty.getContentLength());
    assertNull(BackendRequest.inlineEntity(head("GET", "/", List.of())));
  }

  private static List<String> lines(Header[] headers) {
    List<String> lines = new ArrayList<>();
    for (Header header : headers) {
      lines.add(header.getName() + ": " + header.getValue());
    }
    return lines;
  }

  static String ascii(byte[] bytes) {
    return new String(bytes, StandardCharsets.US_ASCII);
  }
}
