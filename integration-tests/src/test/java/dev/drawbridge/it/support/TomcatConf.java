package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.NodeList;

/**
 * The shipped {@code tomcat-conf/} as embedded Tomcat needs it, read from the files operators copy,
 * so the suite tests the settings users get and follows every change to them.
 */
final class TomcatConf {

  /** Failsafe passes the directory; the fallback works from this module in an IDE. */
  private static final String DIRECTORY_PROPERTY = "drawbridge.it.tomcatConf";

  /** {@code ${name}} or {@code ${name:-default}}, as Tomcat resolves them in server.xml. */
  private static final Pattern PROPERTY = Pattern.compile("\\$\\{([^}:]+)(?::-([^}]*))?}");

  private TomcatConf() {}

  static Path directory() {
    Path directory = Path.of(System.getProperty(DIRECTORY_PROPERTY, "../tomcat-conf")).toAbsolutePath();
    if (!Files.isRegularFile(directory.resolve("server.xml"))) {
      throw new IllegalStateException("no tomcat-conf/server.xml under " + directory + "; set -D" + DIRECTORY_PROPERTY);
    }
    return directory;
  }

  /**
   * The attributes of server.xml's first plain HTTP {@code <Connector>} (commented-out ones do not
   * count), properties resolved, in file order. The harness itself sets what a test owns: address
   * and port.
   */
  static Map<String, String> httpConnector() {
    NodeList connectors = serverXml().getElementsByTagName("Connector");
    for (int i = 0; i < connectors.getLength(); i++) {
      Element connector = (Element) connectors.item(i);
      if (!"true".equalsIgnoreCase(connector.getAttribute("SSLEnabled"))) {
        return attributes(connector);
      }
    }
    throw new IllegalStateException("tomcat-conf/server.xml has no plain HTTP Connector");
  }

  /**
   * The attributes of the {@code <Context>} in tomcat-conf's one context descriptor
   * ({@code Catalina/localhost/*.xml}), properties resolved, without {@code docBase} and {@code
   * path}: the harness deploys the built WAR at the context path a test asks for.
   */
  static Map<String, String> contextDescriptor() {
    Path descriptors = directory().resolve("Catalina/localhost");
    List<Path> files;
    try (Stream<Path> listed = Files.list(descriptors)) {
      files = listed.filter(file -> file.getFileName().toString().endsWith(".xml")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (files.size() != 1) {
      throw new IllegalStateException("expected one context descriptor in " + descriptors + ", found " + files);
    }
    Map<String, String> attributes = attributes(parse(files.get(0)).getDocumentElement());
    attributes.remove("docBase");
    attributes.remove("path");
    return attributes;
  }

  /**
   * The jars catalina.properties tells Tomcat not to scan for TLDs and web fragments; the
   * distribution applies the list to both scans.
   */
  static String jarsToSkip() {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(directory().resolve("catalina.properties"))) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String skip = properties.getProperty("tomcat.util.scan.StandardJarScanFilter.jarsToSkip");
    if (skip == null) {
      throw new IllegalStateException("tomcat-conf/catalina.properties no longer lists jarsToSkip");
    }
    return skip;
  }

  private static Document serverXml() {
    return parse(directory().resolve("server.xml"));
  }

  private static Document parse(Path file) {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      return factory.newDocumentBuilder().parse(file.toFile());
    } catch (Exception e) {
      throw new IllegalStateException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /** An element's attributes in file order, properties resolved. */
  private static Map<String, String> attributes(Element element) {
    Map<String, String> attributes = new LinkedHashMap<>();
    NamedNodeMap all = element.getAttributes();
    for (int i = 0; i < all.getLength(); i++) {
      attributes.put(all.item(i).getNodeName(), resolve(all.item(i).getNodeValue()));
    }
    return attributes;
  }

  private static String resolve(String value) {
    Matcher matcher = PROPERTY.matcher(value);
    StringBuilder resolved = new StringBuilder();
    while (matcher.find()) {
      String fallback = matcher.group(2) != null ? matcher.group(2) : matcher.group();
      matcher.appendReplacement(resolved, Matcher.quoteReplacement(System.getProperty(matcher.group(1), fallback)));
    }
    return matcher.appendTail(resolved).toString();
  }
}
