package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line with {@code --parameter multifd-compression=...}, end to end, alone and together
 * with {@code free-page-hint} and {@code xbzrle}: in process, over TCP on 1, 2 and 4 channels,
 * plain and with mutual TLS, and into a snapshot file that is then restored. Every run arrives
 * verified (0 mismatches); the bytes that travel, which both ends count alike, are the compressed
 * ones, fewer than before compression; with xbzrle, pages travelled encoded.
 *
 * <p>The guest rewrites a few bytes of pages of a small area (workload {@code uniform}) over a link
 * slow enough that later rounds send them again, and its boot wrote English-like text ({@code
 * content=text}), which compresses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class CompressionMigrationTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALL = "free-page-hint,xbzrle";

  @TempDir static Path certificates;

  private static List<String> migrate(String capabilities, String codec) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "migrate",
                "--memory",
                "64m",
                "--vcpus",
                "2",
                "--workload",
                "uniform",
                "--workload-option",
                "area=5%,dirty-rate=128m,touched=20%,in-use=5%,content=text",
                "--parameter",
                "multifd-compression=" + codec,
                "--max-bandwidth",
                "64m",
                "--downtime-limit",
                "1",
                "--max-syncs",
                "5",
                "--give-up",
                "switch-over",
                "--output",
                "json"));
    if (!capabilities.isEmpty()) {
      args.addAll(List.of("--capabilities", capabilities));
    }
    return args;
  }

  @ParameterizedTest(name = "{0} with [{1}], {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "zlib | '' | in-process",
        "zstd | '' | in-process",
        "lz4 | '' | in-process",
        "zstd | " + ALL + " | in-process",
        "zlib | '' | tcp 4 plain",
        "zstd | '' | tcp 1 plain",
        "lz4 | '' | tcp 4 tls",
        "zlib | '' | tcp 1 tls",
        "zstd | " + ALL + " | tcp 1 plain",
        "zstd | " + ALL + " | tcp 4 plain",
        "zstd | " + ALL + " | tcp 1 tls",
        "zstd | " + ALL + " | tcp 2 tls",
        "zstd | " + ALL + " | tcp 4 tls"
      })
  void aCompressedMigrationArrivesVerified(String codec, String capabilities, String transport)
      throws Exception {
    List<String> args = migrate(capabilities, codec);
    Cli destination = null;
    CompletableFuture<Integer> incoming = null;
    boolean tls = transport.endsWith("tls");
    if (transport.startsWith("tcp")) {
      String channels = transport.split(" ")[1];
      List<String> incomingArgs =
          new ArrayList<>(
              List.of(
                  "incoming",
                  "--listen",
                  "127.0.0.1:0",
                  "--memory",
                  "64m",
                  "--timeout",
                  "30s",
                  "--channels",
                  channels,
                  "--output",
                  "json"));
      if (tls) {
        incomingArgs.addAll(tls("destination"));
      }
      Cli receiving = new Cli();
      destination = receiving;
      incoming =
          CompletableFuture.supplyAsync(
              () -> receiving.execute(incomingArgs.toArray(String[]::new)));
      Matcher listening = receiving.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
      assertThat(listening).as(receiving.err()).isNotNull();
      args.addAll(
          List.of("--transport", "tcp", "--to", listening.group(1), "--channels", channels));
      if (tls) {
        args.addAll(tls("source"));
      }
    }
    Cli source = new Cli();

    int exit = source.execute(args.toArray(String[]::new));

    assertThat(exit).as(source.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    assertCompressedAndVerified(sent, codec);
    assertThat(sent.get("capabilities").toString())
        .isEqualTo(capabilities.isEmpty() ? "[]" : "[\"free-page-hint\",\"xbzrle\"]");
    if (capabilities.contains("xbzrle")) {
      assertThat(sent.get("xbzrle-cache").get("pages").asLong()).as(sent.toString()).isPositive();
      assertThat(sent.get("free-page-hint")).as(sent.toString()).isNotNull();
    }
    if (incoming != null) {
      assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
      JsonNode received = JSON.readTree(destination.out());
      assertThat(received.get("status").asText()).isEqualTo("completed");
      assertThat(received.get("ram").get("transferred").asLong())
          .isEqualTo(sent.get("ram").get("transferred").asLong());
    }
  }

  @ParameterizedTest(name = "{0} with [{1}]")
  @CsvSource(
      delimiter = '|',
      value = {"lz4 | ''", "zstd | " + ALL})
  void aCompressedSnapshotRestoresVerified(
      String codec, String capabilities, @TempDir Path directory) throws Exception {
    Path snapshot = directory.resolve("guest.precopy");
    List<String> args = migrate(capabilities, codec);
    args.addAll(List.of("--transport", "file", "--to", snapshot.toString()));
    Cli source = new Cli();
    assertThat(source.execute(args.toArray(String[]::new))).as(source.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    Cli restore = new Cli();

    int exit = restore.execute("incoming", "--from-file", snapshot.toString(), "--output", "json");

    assertThat(exit).as(restore.err()).isZero();
    JsonNode restored = JSON.readTree(restore.out());
    assertThat(restored.get("status").asText()).isEqualTo("completed");
    assertThat(restored.get("verification").get("mismatches").asLong()).isZero();
    assertThat(restored.get("ram").get("transferred").asLong()).isEqualTo(Files.size(snapshot));
    assertThat(sent.get("multifd-compression").get("compressed-bytes").asLong())
        .isEqualTo(Files.size(snapshot));
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

  private static List<String> tls(String side) throws Exception {
    return TestCertificates.options(certificates, side);
  }
}
