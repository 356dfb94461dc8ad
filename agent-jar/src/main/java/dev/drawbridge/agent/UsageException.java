package dev.drawbridge.agent;

/** A bad flag or value; the message is one sentence that names the flag or variable. */
final class UsageException extends Exception {

  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
