package dev.drawbridge.agent;

/** The text of {@code --help}, built from {@link Flag} so it cannot drift from the parser. */
final class Usage {

  static final String COMMAND = "java -jar drawbridge-agent.jar";

  private Usage() {}

  /** One line pointing to {@code --help}, printed after a usage error. */
  static String hint() {
    return "Run '" + COMMAND + " --help' for usage.";
  }

  static String text() {
    StringBuilder out = new StringBuilder();
    out.append("Usage: ").append(COMMAND)
        .append(" --proxy URL[,URL...] (--target URL | --route ID=URL...) (--token TOKEN | --token-file FILE) [options]\n")
        .append("       ").append(COMMAND).append(' ').append(CommandLine.NEW_TOKEN)
        .append("   prints a fresh token and the agentTokenSha256 the proxy lists for it\n\n")
        .append("Publishes a private HTTP service through a Drawbridge proxy. The agent only opens\n")
        .append("outbound connections: it long-polls the proxy for client requests, forwards each to\n")
        .append("the target and streams the response back.\n\n")
        .append("Options (each can also be set with the environment variable shown; a flag wins\n")
        .append("over its variable, and a token flag on the command line overrides both token variables):\n");
    for (Flag flag : Flag.values()) {
      out.append("  ").append(flag.flag()).append(' ').append(flag.placeholder()).append('\n');
      out.append("      ").append(flag.help()).append('\n');
      out.append("      ");
      if (flag.defaultText() != null) {
        out.append("Default: ").append(flag.defaultText()).append(".  ");
      }
      out.append("Env: ").append(flag.env()).append('\n');
    }
    out.append("  --help     Print this help and exit.\n")
        .append("  --version  Print the agent and protocol versions and exit.\n\n")
        .append("Durations: 500ms, 10s, 2m, 1h, or a bare number of seconds.\n")
        .append("TLS toward the proxy is verified against --trust-store, else the JVM's trust store; host\n")
        .append("names are always checked. Plain http:// is refused to a proxy that is not on loopback unless\n")
        .append("--allow-insecure-http is given. The agent never logs its token.\n\n")
        .append("Several proxy nodes (behind a load balancer): the agent attaches to every node, keeps\n")
        .append("--polls polls on each and shares its --concurrency slots among them. A host name that\n")
        .append("resolves to several addresses is one node per address (the name stays the TLS server\n")
        .append("name, the name the certificate must carry and the Host header), and so is each URL of a\n")
        .append("comma-separated --proxy list. Names are looked up again every --resolve-interval. The\n")
        .append("log names every node the agent attaches to or lets go of, and each node's admin page\n")
        .append("lists the nodes the agent reports. Through an egress proxy each URL is one node.\n\n")
        .append("Examples:\n")
        .append("  ").append(COMMAND).append(" --proxy https://edge.example.com \\\n")
        .append("      --target http://127.0.0.1:8080 --token-file /etc/drawbridge/agent.token\n")
        .append("  DRAWBRIDGE_PROXY=https://edge.example.com DRAWBRIDGE_TOKEN=s3cret \\\n")
        .append("      ").append(COMMAND).append(" --target http://intranet:9000/app --backend wiki\n")
        .append("  ").append(COMMAND).append(" --proxy https://edge.example.com --token-file agent.token \\\n")
        .append("      --route wiki=http://10.0.0.5:8080 --route api=http://10.0.0.6:9000/v2 \\\n")
        .append("      --trust-store corp-ca.p12 --egress-proxy http://squid.corp:3128\n")
        .append("  ").append(COMMAND).append(" --proxy https://nodes.edge.example.com \\\n")
        .append("      --target http://127.0.0.1:8080 --token-file agent.token --concurrency 128\n\n")
        .append("Exit codes: 0 stopped normally (after draining on SIGTERM), 1 fatal runtime error,\n")
        .append("2 bad usage (unknown flag, bad or missing value).\n");
    return out.toString();
  }
}
