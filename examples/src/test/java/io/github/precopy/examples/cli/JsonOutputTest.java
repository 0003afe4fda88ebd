package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.sim.WorkloadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON of both ends follows QEMU's {@code query-migrate}: {@code error-desc} only when there is
 * an error, {@code expected-downtime} only while active, and the same {@code ram} fields at the
 * destination as at the source.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class JsonOutputTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");
  private static final long MIB = 1 << 20;

  @Test
  void aFailedMigrationCarriesItsErrorDescAndACompletedOneNone() throws Exception {
    Cli failing = new Cli();
    Cli completing = new Cli();

    int failed =
        failing.execute(
            "migrate",
            "--memory",
            "64m",
            "--vcpus",
            "2",
            "--workload",
            "hot-set",
            "--downtime-limit",
            "1",
            "--max-syncs",
            "2",
            "--give-up",
            "fail",
            "--output",
            "json");
    int completed = completing.execute("migrate", "--memory", "32m", "--output", "json");

    assertThat(failed).isEqualTo(1);
    JsonNode failure = JSON.readTree(failing.out());
    assertThat(failure.get("status").asText()).isEqualTo("failed");
    assertThat(failure.get("error-desc").asText()).startsWith("convergence policy gave up");
    assertThat(failure.has("expected-downtime")).as("not active").isFalse();
    assertThat(completed).as(completing.err()).isZero();
    JsonNode success = JSON.readTree(completing.out());
    assertThat(success.get("status").asText()).isEqualTo("completed");
    assertThat(success.has("error-desc")).isFalse();
    assertThat(success.has("expected-downtime")).isFalse();
    assertThat(success.has("downtime")).isTrue();
  }

  /**
   * A snapshot taken while the migration is active (64 MiB at 16 MiB/s, so the bulk round lasts 4
   * s) reports the downtime it expects: the written pages still to send at what data pages cost
   * lately (7 pages in 8 of this guest were written), the others at what zero pages cost.
   */
  @Test
  void anActiveMigrationReportsItsExpectedDowntime() throws Exception {
    CompletableFuture<MigrationStats> active = new CompletableFuture<>();
    GuestSpec spec = new GuestSpec(64 * MIB, 1, "test", WorkloadOptions.defaults(), 3);
    try (TestGuest guest = TestGuest.filled(64 * MIB, 3);
        GuestMemory destination = GuestMemory.anonymous(64 * MIB)) {
      PrecopyMigration migration =
          MigrationEngine.create()
              .startInProcess(
                  guest,
                  destination,
                  MigrationConfig.builder().maxBandwidth(16 * MIB).build(),
                  snapshot -> {
                    if (snapshot.status() == MigrationStatus.ACTIVE
                        && snapshot.ram().mbps() > 0
                        && snapshot.ram().remaining() > 0) {
                      active.complete(snapshot);
                    }
                  });
      MigrationStats snapshot = active.get(30, TimeUnit.SECONDS);
      migration.cancel();
      MigrationStats cancelled = migration.await(30, TimeUnit.SECONDS);

      JsonNode whileActive = json(snapshot, spec);
      long bytesPerSecond = (long) (snapshot.ram().mbps() * 1_000_000 / 8);
      assertThat(whileActive.get("status").asText()).isEqualTo("active");
      assertThat(whileActive.get("expected-downtime").asLong())
          .isEqualTo(snapshot.expectedDowntimeMillis())
          .isPositive()
          .isBetween(
              snapshot.ram().remaining() * 7 / 8 * 1000 / bytesPerSecond / 2,
              snapshot.ram().remaining() * 1000 / bytesPerSecond * 2);
      assertThat(whileActive.has("error-desc")).isFalse();
      assertThat(cancelled).isNotNull();
      JsonNode afterwards = json(cancelled, spec);
      assertThat(afterwards.get("status").asText()).isEqualTo("cancelled");
      assertThat(afterwards.has("expected-downtime")).isFalse();
      assertThat(afterwards.has("error-desc")).as("a cancel is not an error").isFalse();
    }
  }

  @Test
  void incomingReportsTheSameRamFieldsAsTheSource() throws Exception {
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () ->
                destination.execute(
                    "incoming",
                    "--listen",
                    "127.0.0.1:0",
                    "--memory",
                    "32m",
                    "--timeout",
                    "30s",
                    "--output",
                    "json"));
    Matcher listening = destination.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
    assertThat(listening).as(destination.err()).isNotNull();
    Cli source = new Cli();

    int sourceExit =
        source.execute(
            "migrate",
            "--memory",
            "32m",
            "--vcpus",
            "2",
            "--transport",
            "tcp",
            "--to",
            listening.group(1),
            "--output",
            "json");

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    JsonNode sent = JSON.readTree(source.out()).get("ram");
    JsonNode received = JSON.readTree(destination.out());
    JsonNode ram = received.get("ram");
    assertThat(names(ram)).containsExactlyElementsOf(names(sent));
    assertThat(ram.get("transferred").asLong()).isEqualTo(sent.get("transferred").asLong());
    assertThat(ram.get("remaining").asLong()).isZero();
    assertThat(ram.get("total").asLong()).isEqualTo(sent.get("total").asLong());
    assertThat(ram.get("normal").asLong()).isEqualTo(sent.get("normal").asLong());
    assertThat(ram.get("duplicate").asLong()).isEqualTo(sent.get("duplicate").asLong());
    for (String sourceOnly : IncomingCommand.SOURCE_ONLY_RAM_FIELDS) {
      assertThat(ram.get(sourceOnly).isNull()).as(sourceOnly).isTrue();
    }
    assertThat(received.has("error-desc")).isFalse();
  }

  @Test
  void aFailedRestoreCarriesItsErrorDescAndNoRemaining(@TempDir Path directory) throws Exception {
    Path snapshot = directory.resolve("guest.snapshot");
    assertThat(
            new Cli()
                .execute(
                    "migrate",
                    "--memory",
                    "16m",
                    "--transport",
                    "file",
                    "--to",
                    snapshot.toString()))
        .isZero();
    byte[] bytes = Files.readAllBytes(snapshot);
    Files.write(snapshot, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    Cli restore = new Cli();

    int exit =
        restore.execute(
            "incoming", "--from-file", snapshot.toString(), "--memory", "16m", "--output", "json");

    assertThat(exit).isEqualTo(1);
    JsonNode result = JSON.readTree(restore.out());
    assertThat(result.get("status").asText()).isEqualTo("failed");
    assertThat(result.get("error-desc").asText()).startsWith("failed: ");
    assertThat(result.get("ram").get("remaining").isNull()).isTrue();
  }

  private static JsonNode json(MigrationStats stats, GuestSpec spec) throws Exception {
    return JSON.readTree(
        StatsJson.of(
            new RunResult("legacy", List.of(), stats, List.of(), null), spec, "in-process"));
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  private static org.assertj.core.data.Offset<Long> within(long millis) {
    return org.assertj.core.data.Offset.offset(millis);
  }
}
