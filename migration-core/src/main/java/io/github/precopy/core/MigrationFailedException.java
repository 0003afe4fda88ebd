package io.github.precopy.core;

/** A migration could not complete; its message says why. */
public final class MigrationFailedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** With a message naming the cause. */
  public MigrationFailedException(String message) {
    super(message);
  }

  /** With a message and the underlying cause. */
  public MigrationFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
