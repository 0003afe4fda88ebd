package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line with capability {@code xbzrle}, end to end: a guest that keeps rewriting a few
 * bytes of the pages it already wrote (workload {@code uniform} over a small area: half its writes
 * change 1 to 8 bytes of a page) migrates in process, over TCP (1 and 4 channels, plain and mutual
 * TLS) and into a snapshot; the pages sent again after the bulk round travel as XBZRLE encodings
 * (ENCODED records) and the destination holds every page in use byte for byte.
 *
 * <p>The guest's seed is random, printed, and can be set with {@code -Dprecopy.test.seed=N}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class XbzrleMigrationTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SEED =
      Long.getLong("precopy.test.seed", ThreadLocalRandom.current().nextLong(1L << 32));

  @TempDir static Path certificates;

  @BeforeAll
  static void printSeed() {
    System.out.println("XbzrleMigrationTest: guest seed " + SEED + " (-Dprecopy.test.seed=N)");
  }

  /**
   * A 64 MiB guest that wrote 5 % of its memory at boot and whose 2 vCPUs rewrite pages of a 3.2
   * MiB area at 128 MB/s, half of the writes a few bytes of a page, migrated with xbzrle.
   */
  private static List<String> migrate(String... more) {
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
                "area=5%,dirty-rate=128m,touched=5%,in-use=5%",
                "--seed",
                Long.toString(SEED),
                "--capabilities",
                "xbzrle",
                // Rounds that last however fast the host: 32 MB/s sends the area in 100 ms, while
                // the guest rewrites it many times over; a limit no round meets and a switch-over
                // after the 5th sync. The 2nd round fills the cache (misses), the later ones find
                // the area's pages in it, changed.
                "--max-bandwidth",
                "32m",
                "--downtime-limit",
                "1",
                "--max-syncs",
                "5",
                "--give-up",
                "switch-over"));
    args.addAll(List.of(more));
    return args;
  }

  @Test
  void inProcessXbzrleEncodesRewrittenPagesAndTheGuestArrivesVerified() throws Exception {
    Cli source = new Cli();

    int exit = source.execute(migrate("--output", "json").toArray(String[]::new));

    assertThat(exit).as(source.err()).isZero();
    JsonNode result = JSON.readTree(source.out());
    assertCompletedAndVerified(result);
    assertEncodedPages(result);
  }

  @Test
  void theTextReportHasAnXbzrleLineAndCompareShowsItBesideLegacy() {
    Cli source = new Cli();

    int exit = source.execute(migrate("--compare").toArray(String[]::new));

    assertThat(exit).as(source.err()).isZero();
    assertThat(source.out())
        .containsPattern("(?m)^ +legacy +xbzrle$")
        .containsPattern("(?m)^xbzrle pages +- +[1-9][\\d,]*$")
        .containsPattern("verification +ok \\([1-9][\\d,]* pages\\) +ok \\([1-9][\\d,]* pages\\)");
    Cli single = new Cli();
    assertThat(single.execute(migrate().toArray(String[]::new))).as(single.err()).isZero();
    assertThat(single.out())
        .containsPattern(
            "(?m)^xbzrle +[1-9][\\d,]* pages encoded \\([\\d.]+ [KMG]?i?B\\), [\\d,]+ cache miss(es)?,"
                + " [\\d,]+ overflows?, 64\\.00 MiB cache$")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
  }

  @ParameterizedTest(name = "{0} channel(s), {1}")
  @CsvSource({"1, plain", "4, plain", "1, mutual TLS", "4, mutual TLS"})
  void overTcpTheDestinationDecodesTheEncodedPagesAndVerifiesEveryPage(int channels, String link)
      throws Exception {
    boolean tls = !link.equals("plain");
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
                Integer.toString(channels)));
    if (tls) {
      incomingArgs.addAll(tls("destination"));
    }
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () -> destination.execute(incomingArgs.toArray(String[]::new)));
    String address = awaitListening(destination);
    List<String> migrateArgs =
        migrate(
            "--transport",
            "tcp",
            "--to",
            address,
            "--channels",
            Integer.toString(channels),
            "--output",
            "json");
    if (tls) {
      migrateArgs.addAll(tls("source"));
    }
    Cli source = new Cli();

    int sourceExit = source.execute(migrateArgs.toArray(String[]::new));

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    assertCompletedAndVerified(sent);
    assertEncodedPages(sent);
    assertThat(destination.out())
        .containsPattern("status +completed, verified")
        .containsPattern("(?m)^pages +normal [\\d,]+, zero [\\d,]+, encoded [1-9][\\d,]*$")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    assertThat(number(destination.out(), "received +.*\\(([\\d,]+) bytes\\)"))
        .isEqualTo(sent.get("ram").get("transferred").asLong());
    if (tls) {
      assertThat(destination.err()).contains("(mutual TLS)");
    }
  }

  @Test
  void aSnapshotCarriesTheEncodedPagesAndRestoresVerified(@TempDir Path directory) {
    Path snapshot = directory.resolve("guest.snapshot");
    Cli source = new Cli();

    int written =
        source.execute(
            migrate("--transport", "file", "--to", snapshot.toString(), "--output", "json")
                .toArray(String[]::new));
    Cli restore = new Cli();
    int restored =
        restore.execute("incoming", "--from-file", snapshot.toString(), "--output", "json");

    assertThat(written).as(source.err()).isZero();
    assertThat(restored).as(restore.err()).isZero();
    JsonNode sent = readTree(source.out());
    assertThat(sent.get("status").asText()).isEqualTo("completed");
    assertEncodedPages(sent);
    JsonNode received = readTree(restore.out());
    assertThat(received.get("status").asText()).isEqualTo("completed");
    assertThat(received.get("verified").asBoolean()).isTrue();
    assertThat(received.get("encoded-pages").asLong()).isPositive();
    assertThat(received.get("verification").get("pages-checked").asLong()).isPositive();
    assertThat(received.get("verification").get("mismatches").asLong()).isZero();
    assertThat(received.get("ram").get("transferred").asLong())
        .isEqualTo(sent.get("ram").get("transferred").asLong());
  }

  /**
   * QEMU's {@code ram.normal} counts the pages sent whole, and the destination counts the PAGE
   * records it applied: both ends agree without xbzrle ({@code JsonOutputTest}), and must with it
   * (a page the encoder declines goes whole and counts as normal; one it encodes does not).
   */
  @Test
  void theSourceCountsAsNormalThePagesTheDestinationAppliedWhole() throws Exception {
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
                    "--output",
                    "json"));
    String address = awaitListening(destination);
    Cli source = new Cli();

    int sourceExit =
        source.execute(
            migrate("--transport", "tcp", "--to", address, "--output", "json")
                .toArray(String[]::new));

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    JsonNode sent = JSON.readTree(source.out());
    JsonNode received = JSON.readTree(destination.out());
    assertThat(received.get("encoded-pages").asLong()).isPositive();
    assertThat(sent.get("ram").get("normal").asLong())
        .as(
            "source ram.normal vs destination's PAGE records (destination encoded-pages %d,"
                + " source xbzrle-cache %s)",
            received.get("encoded-pages").asLong(), sent.get("xbzrle-cache"))
        .isEqualTo(received.get("ram").get("normal").asLong());
  }

  private static void assertCompletedAndVerified(JsonNode result) {
    assertThat(result.get("status").asText()).as(result.toString()).isEqualTo("completed");
    assertThat(result.get("capabilities").toString()).isEqualTo("[\"xbzrle\"]");
    assertThat(result.get("verification").get("pages-checked").asLong()).isPositive();
    assertThat(result.get("verification").get("mismatches").asLong()).isZero();
  }

  /**
   * xbzrle's figures are under QEMU's name {@code xbzrle-cache}, and show pages that went through
   * the cache and bytes of encodings: more bytes than the overflows alone account for, so at least
   * one page travelled as an encoding.
   */
  private static void assertEncodedPages(JsonNode result) {
    assertThat(result.has("xbzrle")).isFalse();
    JsonNode cache = result.get("xbzrle-cache");
    assertThat(cache).as(result.toString()).isNotNull();
    assertThat(cache.get("cache-size").asLong()).isEqualTo(64L << 20);
    assertThat(cache.get("pages").asLong()).as(cache.toString()).isPositive();
    assertThat(cache.get("bytes").asLong())
        .as(cache.toString())
        .isGreaterThan(cache.get("overflow").asLong() * 4096);
  }

  private static List<String> tls(String side) throws Exception {
    return TestCertificates.options(certificates, side);
  }

  private static String awaitListening(Cli cli) throws InterruptedException {
    Matcher matcher = cli.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
    if (matcher == null) {
      throw new AssertionError("incoming did not listen within 20 s: " + cli.err());
    }
    return matcher.group(1);
  }

  private static JsonNode readTree(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  private static long number(String text, String pattern) {
    Matcher matcher = Pattern.compile(pattern).matcher(text);
    assertThat(matcher.find()).as(text).isTrue();
    return Long.parseLong(matcher.group(1).replace(",", ""));
  }
}
