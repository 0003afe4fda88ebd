package io.github.precopy.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link LoopbackDestination} in a JVM of its own, started with this JVM's class path, and the
 * lines it prints: its standard error goes to this one's; closing kills it if it still runs.
 */
final class DestinationProcess implements AutoCloseable {

  private final Process process;
  private final BufferedReader lines;

  private DestinationProcess(Process process) {
    this.process = process;
    this.lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Starts {@code java -cp <this class path> LoopbackDestination <options>}. */
  static DestinationProcess start(List<String> options) throws IOException {
    return new DestinationProcess(
        new ProcessBuilder(command(options))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start());
  }

  /** The command {@link #start} runs. */
  static List<String> command(List<String> options) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 22) {
      command.add("--enable-native-access=ALL-UNNAMED"); // the kernel module's huge pages
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(LoopbackDestination.class.getName());
    command.addAll(options);
    return command;
  }

  long pid() {
    return process.pid();
  }

  /** Waits until the destination is ready; returns what it says about its memory. */
  String awaitReady() throws IOException, BenchmarkFailure, InterruptedException {
    return expect("READY").substring("READY".length()).strip();
  }

  /** Waits until the destination listens for the next migration; returns its port. */
  int awaitPort() throws IOException, BenchmarkFailure, InterruptedException {
    return Integer.parseInt(expect("PORT ").substring("PORT ".length()).strip());
  }

  /** Waits for what the destination received of the migration. */
  ReportLine awaitReport() throws IOException, BenchmarkFailure, InterruptedException {
    String line = expect(ReportLine.PREFIX);
    try {
      return ReportLine.parse(line);
    } catch (IllegalArgumentException e) {
      throw new BenchmarkFailure("destination process printed " + line + ": " + e.getMessage());
    }
  }

  /** Waits for the destination to exit, which it must do with status 0 within 60 s. */
  void awaitExit() throws BenchmarkFailure, InterruptedException {
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new BenchmarkFailure("destination process did not exit");
    }
    if (process.exitValue() != 0) {
      throw new BenchmarkFailure("destination process exited with " + process.exitValue());
    }
  }

  /** Reads lines until one starts with {@code prefix}; fails on an error or the process's end. */
  private String expect(String prefix) throws IOException, BenchmarkFailure, InterruptedException {
    String line;
    while ((line = lines.readLine()) != null) {
      if (line.startsWith(prefix)) {
        return line;
      }
      if (line.startsWith("ERROR")) {
        throw new BenchmarkFailure("destination process: " + line);
      }
      System.out.println("  destination says: " + line);
    }
    process.waitFor(10, TimeUnit.SECONDS);
    throw new BenchmarkFailure(
        "destination process ended (exit "
            + (process.isAlive() ? "none yet" : Integer.toString(process.exitValue()))
            + ") while waiting for "
            + prefix.strip());
  }

  @Override
  public void close() throws IOException {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
    lines.close();
  }
}
