package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line with {@code --parameter multifd-compression=...}, end to end: a guest whose boot
 * wrote English-like text ({@code content=text}) migrated with each codec over TCP (4 channels),
 * into a snapshot file, and in process with xbzrle too. Each arrives verified; the bytes that
 * travel, which both ends count alike, are the compressed ones, fewer than before compression.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class CompressionMigrationTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<String> migrate(String codec, String... more) {
    return migrateWorkload(codec, "idle", "content=text", more);
  }

  private static List<String> migrateWorkload(
      String codec, String workload, String workloadOptions, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "migrate",
                "--memory",
                "64m",
                "--vcpus",
                "2",
                "--workload",
                workload,
                "--workload-option",
                workloadOptions,
                "--parameter",
                "multifd-compression=" + codec,
                "--output",
                "json"));
    args.addAll(List.of(more));
    return args;
  }

  @ParameterizedTest(name = "{0} over {1} channel(s)")
  @CsvSource({"zlib, 4", "zstd, 4", "lz4, 4", "zstd, 1"})
  void overTcpEachCodecCompressesTheStreamAndTheGuestArrivesVerified(String codec, int channels)
      throws Exception {
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () ->
                destination.execute(
                    "incoming",
                    "--listen",
                    "127.0.0.1:0",
                    "--memory",
                    "64m",
                    "--timeout",
                    "30s",
                    "--channels",
                    Integer.toString(channels),
                    "--output",
                    "json"));
    Matcher listening = destination.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
    assertThat(listening).as(destination.err()).isNotNull();
    Cli source = new Cli();

    int exit =
        source.execute(
            migrate(
                    codec,
                    "--transport",
                    "tcp",
                    "--to",
                    listening.group(1),
                    "--channels",
                    Integer.toString(channels))
                .toArray(String[]::new));

    assertThat(exit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    assertCompressedAndVerified(sent, codec);
    JsonNode received = JSON.readTree(destination.out());
    assertThat(received.get("status").asText()).isEqualTo("completed");
    assertThat(received.get("ram").get("transferred").asLong())
        .isEqualTo(sent.get("ram").get("transferred").asLong());
  }

  @Test
  void aCompressedSnapshotRestoresVerified(@TempDir Path directory) throws Exception {
    Path snapshot = directory.resolve("guest.precopy");
    Cli source = new Cli();
    assertThat(
            source.execute(
                migrate("lz4", "--transport", "file", "--to", snapshot.toString())
                    .toArray(String[]::new)))
        .as(source.err())
        .isZero();
    Cli restore = new Cli();

    int exit = restore.execute("incoming", "--from-file", snapshot.toString(), "--output", "json");

    assertThat(exit).as(restore.err()).isZero();
    JsonNode restored = JSON.readTree(restore.out());
    assertThat(restored.get("status").asText()).isEqualTo("completed");
    assertThat(restored.get("ram").get("transferred").asLong())
        .isEqualTo(java.nio.file.Files.size(snapshot));
    assertThat(
            JSON.readTree(source.out()).get("multifd-compression").get("compressed-bytes").asLong())
        .isEqualTo(java.nio.file.Files.size(snapshot));
  }

  @Test
  void xbzrleAndCompressionTogetherInProcess() throws Exception {
    Cli source = new Cli();

    int exit =
        source.execute(
            migrateWorkload(
                    "zstd",
                    "uniform",
                    "area=5%,dirty-rate=128m,touched=5%,in-use=5%,content=text",
                    "--capabilities",
                    "xbzrle",
                    "--max-bandwidth",
                    "32m",
                    "--downtime-limit",
                    "1",
                    "--max-syncs",
                    "5",
                    "--give-up",
                    "switch-over")
                .toArray(String[]::new));

    assertThat(exit).as(source.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    assertCompressedAndVerified(sent, "zstd");
    assertThat(sent.get("xbzrle-cache").get("pages").asLong()).isPositive();
  }

  private static void assertCompressedAndVerified(JsonNode result, String codec) {
    assertThat(result.get("status").asText()).as(result.toString()).isEqualTo("completed");
    assertThat(result.get("verification").get("pages-checked").asLong()).isPositive();
    assertThat(result.get("verification").get("mismatches").asLong()).isZero();
    JsonNode compression = result.get("multifd-compression");
    assertThat(compression).as(result.toString()).isNotNull();
    assertThat(compression.get("codec").asText()).isEqualTo(codec);
    long after = compression.get("compressed-bytes").asLong();
    assertThat(after).isEqualTo(result.get("ram").get("transferred").asLong());
    assertThat(compression.get("uncompressed-bytes").asLong()).isGreaterThan(after * 3 / 2);
  }
}
