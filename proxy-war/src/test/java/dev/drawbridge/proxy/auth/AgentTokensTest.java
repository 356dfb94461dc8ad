package dev.drawbridge.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentTokensTest {

  @Test
  void generatedTokensAreLongAndDistinct() {
    String a = AgentTokens.generate();
    assertEquals(43, a.length());
    assertNotEquals(a, AgentTokens.generate());
  }

  @Test
  void digestMatchesTheShellRecipe() {
    // printf %s abc | sha256sum
    assertEquals(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        HexFormat.of().formatHex(AgentTokens.sha256("abc")));
  }

  @Test
  void matchesAnyConfiguredDigest() {
    List<byte[]> digests = List.of(AgentTokens.sha256("one"), AgentTokens.sha256("two"));
    assertEquals(true, AgentTokens.matches("two", digests));
    assertEquals(false, AgentTokens.matches("three", digests));
    assertEquals(false, AgentTokens.matches("two", List.of()));
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {"Bearer abc, abc", "bearer  abc , abc", "Basic abc, null", "Bearer , null", "null, null", "Bearerabc, null"})
  void readsBearerCredentials(String header, String token) {
    assertEquals(token, AgentTokens.bearer(header));
  }
}
