package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.Command;

/**
 * The bench tools' command lines: {@code --help} prints the usage and exits 0, an unknown or wrong
 * option is one line and the usage with exit code 2 before any job starts, a failure is one line
 * with exit code 1; none prints a stack trace.
 */
final class ToolCommandLineTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Object command, String... args) {
    return Cli.run(command, args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  private static Object tool(String name) {
    return switch (name) {
      case "FreePageHintReproduction" -> new FreePageHintReproduction();
      case "LoopbackThroughput" -> new LoopbackThroughput();
      default -> new LoopbackDestination();
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"FreePageHintReproduction", "LoopbackThroughput", "LoopbackDestination"})
  void helpPrintsTheUsage(String name) {
    int exitCode = run(tool(name), "--help");

    assertThat(exitCode).isZero();
    assertThat(out.toString()).startsWith("Usage: " + name).contains("--memory");
    assertThat(err.toString()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"FreePageHintReproduction", "LoopbackThroughput"})
  void anUnknownOptionIsRejectedBeforeAnythingRuns(String name) {
    int exitCode = run(tool(name), "--memroy", "1g");

    assertThat(exitCode).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString().lines().findFirst())
        .hasValueSatisfying(
            line -> assertThat(line).startsWith(name + ": Unknown options: '--memroy', '1g'"));
    assertThat(err.toString()).contains("Usage: " + name).doesNotContain("\tat ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"FreePageHintReproduction", "LoopbackThroughput"})
  void aWrongValueIsOneLineNamingTheOption(String name) {
    int exitCode = run(tool(name), "--memory", "lots");

    assertThat(exitCode).isEqualTo(2);
    assertThat(err.toString().lines().findFirst())
        .hasValueSatisfying(
            line ->
                assertThat(line)
                    .startsWith(name + ": Invalid value for option '--memory'")
                    .contains("'lots' is not a memory size"));
  }

  /** A tool that meets a memory fault. */
  @Command(name = "Faulting")
  static final class Faulting implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new InternalError("a fault occurred in an unsafe memory access operation");
    }
  }

  @Test
  void aFailureIsOneLineWithoutAStackTrace() {
    int exitCode = run(new Faulting());

    assertThat(exitCode).isEqualTo(1);
    assertThat(err.toString().lines())
        .singleElement()
        .asString()
        .isEqualTo(
            "Faulting: java.lang.InternalError: a fault occurred in an unsafe memory access"
                + " operation");
  }
}
