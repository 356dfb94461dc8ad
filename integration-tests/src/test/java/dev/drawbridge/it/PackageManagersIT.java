package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Nginx;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real package managers through the tunnel, fetching from a repository that nginx serves as plain
 * files, published on a route that strips its prefix (as an operator publishes an internal mirror
 * beside other services): apt from a flat repository, whose index it asks for as {@code
 * ./Packages}, and pip from a simple index. Each compares what it downloaded with what the
 * repository holds. Skipped where the tool or nginx is missing; {@code .ci/run} installs them.
 */
@Timeout(300)
class PackageManagersIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final long TOOL_SECONDS = 120;
  private static final Path APT_GET = Path.of("/usr/bin/apt-get");
  private static final Path DPKG_DEB = Path.of("/usr/bin/dpkg-deb");

  @TempDir static Path dir;

  private static Path repository;
  private static Nginx files;
  private static ProxyServer proxy;
  private static AgentProcess agent;
  /** Where the route publishes the repository through the proxy. */
  private static String mirror;

  @BeforeAll
  static void start() throws IOException {
    assumeTrue(Nginx.isInstalled(), "nginx is not installed");
    repository = Files.createDirectories(dir.resolve("repository"));
    files = Nginx.serveFiles(repository);
    String token = Tokens.random();
    proxy = ProxyServer.start(ProxyConfig.singleBackend("mirror", Tokens.sha256Hex(token))
        .set("routes", List.of(Map.of("pathPrefix", "/mirror", "stripPrefix", true, "backend", "mirror"))));
    agent = AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), files.url(), "mirror", token));
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
    mirror = proxy.baseUrl() + "/mirror";
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable part : new AutoCloseable[] {agent, proxy, files}) {
      try {
        if (part != null) {
          part.close();
        }
      } catch (Exception e) {
        throw new AssertionError("could not stop " + part, e);
      }
    }
  }

  @Test
  void aptUpdatesFromAFlatRepositoryAndDownloadsAPackage() throws Exception {
    assumeTrue(Files.isExecutable(APT_GET) && Files.isExecutable(DPKG_DEB), "apt is not installed");
    Path debian = Files.createDirectories(repository.resolve("debian"));
    byte[] deb = buildDeb();
    String fileName = "drawbridge-probe_1.0_all.deb";
    Files.write(debian.resolve(fileName), deb);
    String index = "Package: drawbridge-probe\n"
        + "Version: 1.0\n"
        + "Architecture: all\n"
        + "Maintainer: Drawbridge Tests <tests@example.com>\n"
        + "Filename: ./" + fileName + "\n"
        + "Size: " + deb.length + "\n"
        + "SHA256: " + sha256Hex(deb) + "\n"
        + "Description: a package fetched through the tunnel\n"
        + "\n";
    Files.writeString(debian.resolve("Packages"), index, StandardCharsets.UTF_8);
    Files.write(debian.resolve("Packages.gz"), gzip(index.getBytes(StandardCharsets.UTF_8)));

    Path apt = Files.createDirectories(dir.resolve("apt"));
    Path empty = Files.createDirectories(apt.resolve("empty"));
    Files.createDirectories(apt.resolve("state/lists/partial"));
    Files.createDirectories(apt.resolve("cache/archives/partial"));
    Files.writeString(apt.resolve("sources.list"), "deb [trusted=yes] " + mirror + "/debian ./\n");
    // Only this configuration: none of the machine's sources, proxies or lists.
    Path config = apt.resolve("apt.conf");
    Files.writeString(config, "Dir::State \"" + apt.resolve("state") + "\";\n"
        + "Dir::Cache \"" + apt.resolve("cache") + "\";\n"
        + "Dir::Etc::main \"" + empty.resolve("apt.conf") + "\";\n"
        + "Dir::Etc::Parts \"" + empty + "\";\n"
        + "Dir::Etc::SourceList \"" + apt.resolve("sources.list") + "\";\n"
        + "Dir::Etc::SourceParts \"" + empty + "\";\n"
        + "Dir::Etc::Preferences \"" + empty.resolve("preferences") + "\";\n"
        + "Dir::Etc::PreferencesParts \"" + empty + "\";\n"
        + "Debug::NoLocking \"true\";\n"
        + "APT::Sandbox::User \"root\";\n"
        + "Acquire::Languages \"none\";\n");
    Map<String, String> env = Map.of("APT_CONFIG", config.toString());
    run(apt, env, APT_GET.toString(), "update");
    Path downloaded = Files.createDirectories(dir.resolve("downloaded"));
    run(downloaded, env, APT_GET.toString(), "download", "drawbridge-probe");
    assertArrayEquals(deb, Files.readAllBytes(downloaded.resolve(fileName)), "the package arrived as the repository has it");
  }

  @Test
  void pipDownloadsFromASimpleIndex() throws Exception {
    assumeTrue(pipIsInstalled(), "pip is not installed");
    Path project = Files.createDirectories(repository.resolve("pypi/simple/drawbridge-probe"));
    String fileName = "drawbridge_probe-1.0-py3-none-any.whl";
    byte[] wheel = buildWheel();
    Files.write(project.resolve(fileName), wheel);
    Files.writeString(project.resolve("index.html"), "<!DOCTYPE html>\n<html><body>\n<a href=\"" + fileName
        + "#sha256=" + sha256Hex(wheel) + "\">" + fileName + "</a>\n</body></html>\n");
    Path downloaded = dir.resolve("wheels");
    run(dir, pipEnvironment(), "python3", "-m", "pip", "download", "--no-cache-dir", "--no-deps",
        "--disable-pip-version-check", "--index-url", mirror + "/pypi/simple/", "--dest", downloaded.toString(),
        "drawbridge-probe==1.0");
    assertArrayEquals(wheel, Files.readAllBytes(downloaded.resolve(fileName)), "the wheel arrived as the index has it");
  }

  /** A Debian package of one file, built by {@code dpkg-deb}. */
  private static byte[] buildDeb() throws Exception {
    Path root = dir.resolve("deb-root");
    Files.createDirectories(root.resolve("DEBIAN"));
    Files.writeString(root.resolve("DEBIAN/control"), "Package: drawbridge-probe\n"
        + "Version: 1.0\n"
        + "Architecture: all\n"
        + "Maintainer: Drawbridge Tests <tests@example.com>\n"
        + "Description: a package fetched through the tunnel\n");
    Path doc = Files.createDirectories(root.resolve("usr/share/doc/drawbridge-probe"));
    Files.writeString(doc.resolve("README"), "Fetched through the tunnel.\n".repeat(2000));
    Path deb = dir.resolve("drawbridge-probe.deb");
    run(dir, Map.of(), DPKG_DEB.toString(), "--root-owner-group", "--build", root.toString(), deb.toString());
    return Files.readAllBytes(deb);
  }

  /** A pure-Python wheel with one module, its metadata and its record. */
  private static byte[] buildWheel() throws IOException, NoSuchAlgorithmException {
    String info = "drawbridge_probe-1.0.dist-info/";
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("drawbridge_probe/__init__.py", "VERSION = \"1.0\"\n");
    entries.put(info + "METADATA", "Metadata-Version: 2.1\nName: drawbridge-probe\nVersion: 1.0\n"
        + "Summary: a package fetched through the tunnel\n");
    entries.put(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: drawbridge-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
    StringBuilder record = new StringBuilder();
    for (Map.Entry<String, String> entry : entries.entrySet()) {
      byte[] content = entry.getValue().getBytes(StandardCharsets.UTF_8);
      String digest = Base64.getUrlEncoder().withoutPadding()
          .encodeToString(MessageDigest.getInstance("SHA-256").digest(content));
      record.append(entry.getKey()).append(",sha256=").append(digest).append(',').append(content.length).append('\n');
    }
    record.append(info).append("RECORD,,\n");
    entries.put(info + "RECORD", record.toString());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, String> entry : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(entry.getKey()));
        zip.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static boolean pipIsInstalled() {
    try {
      Process pip = new ProcessBuilder("python3", "-m", "pip", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!pip.waitFor(TOOL_SECONDS, TimeUnit.SECONDS)) {
        pip.destroyForcibly();
        return false;
      }
      return pip.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** No configuration file of the machine or the user (no other index, no constraints). */
  private static Map<String, String> pipEnvironment() {
    return Map.of("PIP_CONFIG_FILE", "/dev/null", "PIP_NO_INPUT", "1", "HOME", dir.toString());
  }

  /** Runs {@code command} in {@code workDir}; fails with its output when it fails or runs too long. */
  private static void run(Path workDir, Map<String, String> env, String... command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("PIP_") || name.startsWith("APT_"));
    builder.environment().putAll(env);
    builder.environment().put("LC_ALL", "C");
    Path output = Files.createTempFile(dir, "tool-", ".out");
    Process process = builder.redirectOutput(output.toFile()).start();
    String line = String.join(" ", command);
    if (!process.waitFor(TOOL_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(line + " ran for more than " + TOOL_SECONDS + " s: " + Files.readString(output));
    }
    if (process.exitValue() != 0) {
      throw new AssertionError(line + " exited with " + process.exitValue() + ": " + Files.readString(output));
    }
  }

  private static byte[] gzip(byte[] content) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bytes)) {
      out.write(content);
    }
    return bytes.toByteArray();
  }

  private static String sha256Hex(byte[] content) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
  }
}
