package dev.drawbridge.it.container;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The container's own JVM, reached through the JMX port Arquillian started it with (on
 * 127.0.0.1, see arquillian.xml). It runs the JVM's diagnostic command {@code GC.class_histogram},
 * the one {@code jcmd <pid> GC.class_histogram} runs, so a test can count what is still reachable
 * after a full GC without looking for the container's process id.
 */
final class ContainerJvm implements AutoCloseable {

  /** Tomcat's class loader of one web application. */
  static final String TOMCAT_WEBAPP_CLASS_LOADER = "org.apache.catalina.loader.ParallelWebappClassLoader";

  /** A histogram row: rank, instances, bytes, class name (and, for JDK classes, its module). */
  private static final Pattern ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+\\d+\\s+(\\S+)");

  private final JMXConnector connector;
  private final MBeanServerConnection server;

  private ContainerJvm(JMXConnector connector) throws IOException {
    this.connector = connector;
    this.server = connector.getMBeanServerConnection();
  }

  static ContainerJvm connect(int jmxPort) {
    try {
      JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi");
      return new ContainerJvm(JMXConnectorFactory.connect(url));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach the container's JVM on JMX port " + jmxPort, e);
    }
  }

  /** Instances of {@code className} still reachable after the full GC the histogram starts with. */
  long liveInstances(String className) {
    for (String line : classHistogram().split("\n")) {
      Matcher row = ROW.matcher(line);
      if (row.find() && row.group(2).equals(className)) {
        return Long.parseLong(row.group(1));
      }
    }
    return 0;
  }

  private String classHistogram() {
    try {
      return (String)
          server.invoke(
              new ObjectName("com.sun.management:type=DiagnosticCommand"),
              "gcClassHistogram",
              new Object[] {new String[0]},
              new String[] {String[].class.getName()});
    } catch (IOException e) {
      throw new UncheckedIOException("the container's JVM did not answer GC.class_histogram", e);
    } catch (JMException e) {
      throw new IllegalStateException("the container's JVM refused GC.class_histogram", e);
    }
  }

  @Override
  public void close() throws IOException {
    connector.close();
  }
}
