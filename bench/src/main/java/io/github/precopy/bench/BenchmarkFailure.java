package io.github.precopy.bench;

/** A migration that did not complete, or was not verified, or a destination process that failed. */
final class BenchmarkFailure extends Exception {
  private static final long serialVersionUID = 1L;

  BenchmarkFailure(String message) {
    super(message);
  }
}
