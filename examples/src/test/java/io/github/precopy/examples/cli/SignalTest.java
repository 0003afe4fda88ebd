package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGINT (Ctrl-C) and SIGTERM on {@code precopy} in a JVM of its own: the running migration is
 * cancelled, what it had done is printed with the reason, and the process exits with 128 + the
 * signal. Each signal is sent once the child has said, on its output, that the work it interrupts
 * is under way; nothing sleeps to wait for it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class SignalTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:(\\d+))");
  private static final long MIB = 1 << 20;

  @Test
  void ctrlCOnMigrateCancelsItAndPrintsWhatItHadDone() throws Exception {
    assumeSigintIsNotIgnored();
    Child child =
        Child.start(
            "migrate", "--memory", "64m", "--vcpus", "2", "--max-bandwidth", "1m", "--seed", "5");
    try {
      String header = child.awaitOut(line -> line.startsWith("migrate: "));

      child.signal("INT");

      assertThat(child.exitCode()).as(child.err()).isEqualTo(130);
      assertThat(header)
          .isEqualTo("migrate: 64.00 MiB guest, idle workload, 2 vCPUs, seed 5, in-process");
      assertThat(child.out())
          .containsPattern("status +cancelled")
          .containsPattern("transferred +.*\\(([\\d,]+) bytes\\)")
          .containsPattern("verification +not done");
      assertThat(child.err().lines())
          .singleElement()
          .asString()
          .startsWith("precopy migrate: interrupted by a signal: migration cancelled after ")
          .contains(" sent, ")
          .endsWith("still dirty; the guest ran on at the source");
      assertNoStackTrace(child);
    } finally {
      child.kill();
    }
  }

  @Test
  void ctrlCWhileTheGuestSettlesStartsNoMigration() throws Exception {
    assumeSigintIsNotIgnored();
    Child child = Child.start("migrate", "--memory", "64m", "--vcpus", "2", "--settle", "1h");
    try {
      String header = child.awaitOut(line -> line.startsWith("migrate: "));

      child.signal("INT");

      assertThat(child.exitCode()).as(child.err()).isEqualTo(130);
      assertThat(header)
          .isEqualTo(
              "migrate: 64.00 MiB guest, idle workload, 2 vCPUs, seed 0, settles 3600 s,"
                  + " in-process");
      assertThat(child.out()).doesNotContain("status");
      assertThat(child.err().lines())
          .singleElement()
          .isEqualTo("precopy migrate: interrupted by a signal before the migration started");
      assertNoStackTrace(child);
    } finally {
      child.kill();
    }
  }

  @Test
  void sigtermOnIncomingWaitingForASourceSaysSo() throws Exception {
    Child child = Child.start("incoming", "--listen", "127.0.0.1:0", "--memory", "64m");
    try {
      String address = child.awaitErr(LISTENING).group(1);

      child.signal("TERM");

      assertThat(child.exitCode()).as(child.err()).isEqualTo(143);
      assertThat(child.out()).isEmpty();
      assertThat(child.err().lines())
          .containsExactly(
              "listening on " + address,
              "precopy incoming: interrupted by a signal while waiting for a source on " + address);
      assertNoStackTrace(child);
    } finally {
      child.kill();
    }
  }

  @Test
  void ctrlCOnIncomingWhileReceivingReportsTheBytesReceivedAndTheSourceFails() throws Exception {
    assumeSigintIsNotIgnored();
    Child child =
        Child.start("incoming", "--listen", "127.0.0.1:0", "--memory", "64m", "--output", "text");
    try (SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(64 * MIB)
            .vcpus(1)
            .seed(9)
            .workload("idle", WorkloadOptions.defaults())
            .build()) {
      Matcher listening = child.awaitErr(LISTENING);
      guest.start();
      CompletableFuture<MigrationStats> underway = new CompletableFuture<>();
      PrecopyMigration migration =
          MigrationEngine.create()
              .start(
                  guest,
                  MigrationConfig.builder().maxBandwidth(8 * MIB).build(),
                  MigrationTarget.tcp(
                      "127.0.0.1",
                      Integer.parseInt(listening.group(2)),
                      TransportOptions.builder().build()),
                  progress -> {
                    if (progress.ram().transferred() >= 4 * MIB) {
                      underway.complete(progress);
                    }
                  });
      underway.get(60, TimeUnit.SECONDS);

      child.signal("INT");
      MigrationStats source = migration.await(60, TimeUnit.SECONDS);

      assertThat(child.exitCode()).as(child.err()).isEqualTo(130);
      assertThat(source).isNotNull();
      assertThat(source.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(guest.isRunning()).isTrue();
      Matcher received =
          Pattern.compile(
                  "precopy incoming: interrupted by a signal while receiving from a source on "
                      + Pattern.quote(listening.group(1))
                      + ", ([\\d,]+) bytes received")
              .matcher(child.err());
      assertThat(received.find()).as(child.err()).isTrue();
      assertThat(Long.parseLong(received.group(1).replace(",", ""))).isPositive();
      assertThat(child.out())
          .containsPattern("status +failed")
          .containsPattern("received +.*\\(" + received.group(1) + " bytes\\)")
          .contains("error        interrupted by a signal while receiving");
      assertThat(child.err().lines()).hasSize(2);
      assertNoStackTrace(child);
    } finally {
      child.kill();
    }
  }

  private static void assertNoStackTrace(Child child) {
    assertThat(child.err()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    assertThat(child.out()).doesNotContain("\tat ");
  }

  /**
   * A shell without job control starts background commands with SIGINT ignored, and an ignored
   * signal stays ignored in every child: then no JVM can see Ctrl-C, and the test says so.
   */
  private static void assumeSigintIsNotIgnored() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        long ignored = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        assumeFalse((ignored & 2) != 0, "SIGINT is ignored in this process and its children");
      }
    }
  }

  /** {@code precopy} in a JVM of its own, its stdout read line by line, its stderr captured. */
  private static final class Child {
    private final Process process;
    private final BufferedReader stdout;
    private final StringBuilder out = new StringBuilder();
    private final Capture err = new Capture();

    private Child(Process process) {
      this.process = process;
      this.stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      Thread reader = new Thread(() -> err.readAll(process.getErrorStream()), "child-stderr");
      reader.setDaemon(true);
      reader.start();
    }

    static Child start(String... args) throws IOException {
      List<String> command =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Precopy.class.getName()));
      command.addAll(List.of(args));
      return new Child(new ProcessBuilder(command).start());
    }

    /** Reads stdout until a line {@code matches}, and returns it. */
    String awaitOut(java.util.function.Predicate<String> matches) throws IOException {
      String line;
      while ((line = stdout.readLine()) != null) {
        out.append(line).append('\n');
        if (matches.test(line)) {
          return line;
        }
      }
      throw new AssertionError("the child ended before the line; stderr: " + err);
    }

    /** Waits until stderr holds a match of {@code pattern}. */
    Matcher awaitErr(Pattern pattern) throws InterruptedException {
      return err.await(pattern);
    }

    /** Sends SIGINT or SIGTERM, as Ctrl-C and kill do. */
    void signal(String name) throws IOException, InterruptedException {
      Process kill =
          new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).as("kill -" + name).isZero();
    }

    /** Reads the rest of stdout and waits, bounded, for the exit code. */
    int exitCode() throws IOException, InterruptedException {
      String line;
      while ((line = stdout.readLine()) != null) {
        out.append(line).append('\n');
      }
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the child exits").isTrue();
      err.awaitEnd();
      return process.exitValue();
    }

    String out() {
      return out.toString();
    }

    String err() {
      return err.toString();
    }

    void kill() {
      process.destroyForcibly();
    }
  }

  /** Text read from a stream that a reader can wait on: every read wakes the waiters. */
  private static final class Capture {
    private final StringBuilder text = new StringBuilder();
    private boolean ended;

    void readAll(InputStream in) {
      try (BufferedReader reader =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          append(line + "\n");
        }
      } catch (IOException e) {
        append("(reading stderr failed: " + e + ")\n");
      } finally {
        end();
      }
    }

    private synchronized void append(String line) {
      text.append(line);
      notifyAll();
    }

    private synchronized void end() {
      ended = true;
      notifyAll();
    }

    synchronized Matcher await(Pattern pattern) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        Matcher matcher = pattern.matcher(text);
        if (matcher.find()) {
          return matcher;
        }
        long left = deadline - System.nanoTime();
        if (ended || left <= 0) {
          throw new AssertionError("no " + pattern + " on the child's stderr: " + text);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    synchronized void awaitEnd() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!ended) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    @Override
    public synchronized String toString() {
      return text.toString();
    }
  }
}
