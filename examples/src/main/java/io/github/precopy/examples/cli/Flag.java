package io.github.precopy.examples.cli;

import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Lets the library judge a flag's value: its {@link IllegalArgumentException} becomes picocli's
 * usage error naming the flag, so the command line does not repeat the library's rules.
 */
final class Flag {

  private Flag() {}

  /** What {@code build} returns, or a usage error {@code "FLAG: the library's reason"}. */
  static <T> T check(CommandSpec spec, String flag, Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), flag + ": " + e.getMessage(), e);
    }
  }
}
