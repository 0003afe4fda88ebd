package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
      case "DowntimeMatrix" -> new DowntimeMatrix();
      case "AutoConvergeComparison" -> new AutoConvergeComparison();
      case "XbzrleComparison" -> new XbzrleComparison();
      case "CompressionComparison" -> new CompressionComparison();
      case "WriteTrackingComparison" -> new WriteTrackingComparison();
      case "DirtyTrackingComparison" -> new DirtyTrackingComparison();
      case "QemuSideBySide" -> new QemuSideBySide();
      case "GuestFidelity" -> new GuestFidelity();
      default -> new LoopbackDestination();
    };
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "FreePageHintReproduction",
        "LoopbackThroughput",
        "LoopbackDestination",
        "DowntimeMatrix",
        "AutoConvergeComparison",
        "XbzrleComparison",
        "CompressionComparison",
        "WriteTrackingComparison",
        "DirtyTrackingComparison",
        "QemuSideBySide"
      })
  void helpPrintsTheUsage(String name) {
    int exitCode = run(tool(name), "--help");

    assertThat(exitCode).isZero();
    assertThat(out.toString()).startsWith("Usage: " + name).contains("--memory");
    assertThat(err.toString()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "FreePageHintReproduction",
        "LoopbackThroughput",
        "DowntimeMatrix",
        "AutoConvergeComparison",
        "XbzrleComparison",
        "CompressionComparison",
        "WriteTrackingComparison",
        "DirtyTrackingComparison",
        "QemuSideBySide",
        "GuestFidelity"
      })
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
  @ValueSource(
      strings = {
        "FreePageHintReproduction",
        "LoopbackThroughput",
        "DowntimeMatrix",
        "AutoConvergeComparison",
        "XbzrleComparison",
        "CompressionComparison",
        "WriteTrackingComparison",
        "DirtyTrackingComparison",
        "QemuSideBySide"
      })
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

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "DowntimeMatrix|--transports|udp|--transports takes in-process and tcp, got udp",
        "DowntimeMatrix|--capabilities|auto-converge|--capabilities takes none and free-page-hint,"
            + " got auto-converge",
        "DowntimeMatrix|--workloads|build|--workloads takes idle, compile, busy, hot-set, uniform,"
            + " sparse-writes, got build",
        "XbzrleComparison|--runs|0|--runs must be >= 1",
        "XbzrleComparison|--stalled-syncs|0|--stalled-syncs must be >= 1",
        "AutoConvergeComparison|--stalled-syncs|0|--stalled-syncs must be >= 1",
        "CompressionComparison|--codecs|gzip|--codecs: multifd-compression 'gzip' is not a codec"
            + " of the plugins here; available: none, lz4, zlib, zstd",
        "AutoConvergeComparison|--rate-from|guess|--rate-from takes dirty-log or work, got guess",
        "AutoConvergeComparison|--ratios|2,0|--ratios must be positive, got 0.0",
        "WriteTrackingComparison|--fractions|0.5,2|--fractions must be in (0, 1], got 2.0",
        "WriteTrackingComparison|--repeats|0|--repeats must be >= 1",
        "DirtyTrackingComparison|--runs|0|--runs must be >= 1",
        "DirtyTrackingComparison|--workloads|build|--workloads: unknown workload 'build'; valid"
            + " workloads: idle, compile, busy, hot-set, uniform, sparse-writes",
        "QemuSideBySide|--rounds|0|--rounds must be >= 1",
        "QemuSideBySide|--channels|0|--channels takes 1 to 64, got 0",
        "GuestFidelity|--runs|0|--runs must be >= 1",
        "GuestFidelity|--transport|udp|--transport takes tcp or in-process, got udp",
        "GuestFidelity|--scenarios|x=idle;x=idle|--scenarios: label 'x' twice"
      })
  void aValueOutsideTheChoicesIsOneLineBeforeAnythingRuns(
      String name, String option, String value, String message) {
    int exitCode = run(tool(name), option, value);

    assertThat(exitCode).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString().lines().findFirst()).hasValue(name + ": " + message);
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
