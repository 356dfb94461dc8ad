package dev.drawbridge.proxy.config;

/** The configuration cannot be used; the message names the file, the key and the reason. */
public class ConfigException extends Exception {

  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
