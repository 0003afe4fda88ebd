package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.precopy.core.MigrationEngine;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code precopy migrate} in process on small guests. */
@Timeout(60)
final class MigrateCommandTest {

  private static final String[] SMALL_IDLE_GUEST = {
    "migrate", "--memory", "64m", "--vcpus", "2", "--seed", "7"
  };

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String[] args(String... more) {
    List<String> all = new ArrayList<>(List.of(SMALL_IDLE_GUEST));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void aSmallIdleGuestMigratesAndPrintsItsFiguresAsText() {
    Cli cli = new Cli();

    int exitCode = cli.execute(args());

    assertThat(exitCode).as(cli.err()).isZero();
    assertThat(cli.out())
        .contains("migrate: 64.00 MiB guest, idle workload, 2 vCPUs, seed 7, in-process")
        .containsPattern("status +completed")
        .containsPattern("total time +[\\d,]+ ms")
        .containsPattern("downtime +[\\d,]+ ms")
        .containsPattern("setup time +[\\d,]+ ms")
        .containsPattern("transferred +.*MiB \\([\\d,]+ bytes\\)")
        .containsPattern("pages +normal [\\d,]+, zero [\\d,]+, hinted 0")
        .containsPattern("syncs +[\\d,]+")
        .contains("mbps")
        .containsPattern("verification +[\\d,]+ pages checked, 0 mismatches");
    assertThat(cli.err()).isEmpty();
  }

  @Test
  void kernelDirtyTrackingMigratesACompilingGuestVerifiedOrSaysWhyNotInOneLine() {
    Cli cli = new Cli();

    int exitCode =
        cli.execute(
            "migrate", "--memory", "64m", "--workload", "compile", "--dirty-tracking", "kernel");

    if (Runtime.version().feature() < 22) {
      assertThat(exitCode).isEqualTo(2);
      assertThat(cli.err())
          .isEqualTo(
              "precopy migrate: --dirty-tracking kernel: kernel dirty tracking needs JDK 22 or"
                  + " later (the foreign function API); this is JDK "
                  + Runtime.version().feature()
                  + " (see precopy migrate --help)"
                  + System.lineSeparator());
      return;
    }
    assertThat(exitCode).as(cli.err()).isZero();
    assertThat(cli.out())
        .contains("compile workload")
        .contains(", kernel dirty tracking")
        .containsPattern("status +completed")
        .containsPattern("verification +[\\d,]+ pages checked, 0 mismatches");
  }

  @Test
  void jsonOutputUsesQemuQueryMigrateNames() throws Exception {
    Cli cli = new Cli();

    int exitCode = cli.execute(args("--capabilities", "free-page-hint", "--output", "json"));

    assertThat(exitCode).as(cli.err()).isZero();
    JsonNode result = JSON.readTree(cli.out());
    assertThat(result.isObject()).isTrue();
    assertThat(result.get("status").asText()).isEqualTo("completed");
    assertThat(result.get("capabilities").toString()).isEqualTo("[\"free-page-hint\"]");
    for (String name : List.of("total-time", "setup-time", "downtime")) {
      assertThat(result.has(name)).as(name).isTrue();
    }
    // As in QEMU: expected-downtime only while active, error-desc only with an error.
    for (String name : List.of("expected-downtime", "error-desc")) {
      assertThat(result.has(name)).as(name).isFalse();
    }
    JsonNode ram = result.get("ram");
    for (String name :
        List.of(
            "transferred",
            "remaining",
            "total",
            "duplicate",
            "normal",
            "normal-bytes",
            "dirty-sync-count",
            "dirty-pages-rate",
            "mbps",
            "pages-per-second",
            "precopy-bytes",
            "downtime-bytes")) {
      assertThat(ram.has(name)).as("ram." + name).isTrue();
    }
    assertThat(ram.get("remaining").asLong()).isZero();
    assertThat(ram.get("total").asLong()).isEqualTo(64L << 20);
    JsonNode hints = result.get("free-page-hint");
    assertThat(hints.get("hinted-pages").asLong()).isPositive();
    assertThat(hints.has("rounds")).isTrue();
    assertThat(hints.has("rejected-hints")).isTrue();
    assertThat(result.get("verification").get("pages-checked").asLong()).isPositive();
    assertThat(result.get("verification").get("mismatches").asLong()).isZero();
    assertThat(result.get("rounds").size()).isEqualTo(ram.get("dirty-sync-count").asInt());
    assertThat(result.get("error-desc")).as("no error-desc without an error").isNull();
  }

  @Test
  void compareRunsLegacyThenEachCapabilityAndPrintsThemSideBySide() {
    Cli cli = new Cli();

    int exitCode = cli.execute(args("--compare"));

    assertThat(exitCode).as(cli.err()).isZero();
    StringBuilder columns = new StringBuilder(" +legacy");
    for (String capability : MigrationEngine.create().capabilities()) {
      columns.append(" +").append(capability);
    }
    assertThat(MigrationEngine.create().capabilities()).contains("auto-converge", "free-page-hint");
    assertThat(cli.out())
        .containsPattern(columns.toString())
        .containsPattern("status +completed +completed")
        .containsPattern("total time +[\\d,]+ ms +[\\d,]+ ms")
        .containsPattern("downtime +[\\d,]+ ms +[\\d,]+ ms")
        .containsPattern("bytes sent +\\S+ \\S+ +\\S+ \\S+")
        .containsPattern("pages sent \\(normal\\) +[\\d,]+ +[\\d,]+")
        .containsPattern("zero pages +[\\d,]+ +[\\d,]+")
        .containsPattern("hinted pages +0 .*[1-9][\\d,]*")
        .containsPattern("syncs +[\\d,]+ +[\\d,]+")
        .containsPattern("time reduction +- +-?[\\d.]+ %")
        .containsPattern("bytes reduction +- +-?[\\d.]+ %")
        .containsPattern("verification +ok \\([\\d,]+ pages\\) +ok \\([\\d,]+ pages\\)");
  }

  @Test
  void compareAsJsonIsAnArrayOfRunsEachNamingItsCapabilities() throws Exception {
    Cli cli = new Cli();

    int exitCode =
        cli.execute(args("--compare", "--capabilities", "free-page-hint", "--output", "json"));

    assertThat(exitCode).as(cli.err()).isZero();
    JsonNode runs = JSON.readTree(cli.out());
    assertThat(runs.isArray()).isTrue();
    assertThat(runs.size()).isEqualTo(2);
    assertThat(runs.get(0).get("capabilities").size()).isZero();
    assertThat(runs.get(1).get("capabilities").get(0).asText()).isEqualTo("free-page-hint");
    for (JsonNode run : runs) {
      assertThat(run.get("status").asText()).isEqualTo("completed");
      assertThat(run.get("ram").get("remaining").asLong()).isZero();
      assertThat(run.get("verification").get("mismatches").asLong()).isZero();
      assertThat(run.get("guest").get("seed").asLong()).isEqualTo(7);
    }
  }

  @Test
  void chartDrawsRemainingBytesAndBytesPerRoundIntoOnePng(@TempDir Path directory)
      throws Exception {
    Path chart = directory.resolve("migration.png");
    Cli cli = new Cli();

    int exitCode = cli.execute(args("--chart", chart.toString()));

    assertThat(exitCode).as(cli.err()).isZero();
    assertThat(cli.out()).contains("chart: " + chart);
    BufferedImage image = ImageIO.read(chart.toFile());
    assertThat(image).isNotNull();
    assertThat(image.getWidth()).isGreaterThanOrEqualTo(1000);
    assertThat(image.getHeight()).isGreaterThanOrEqualTo(400);
    assertThat(Files.size(chart)).isGreaterThan(10_000);
  }

  @Test
  void aMigrationThatGivesUpExitsNonZeroWithOneLine() {
    Cli cli = new Cli();

    int exitCode =
        cli.execute(
            args(
                "--workload", "hot-set",
                "--downtime-limit", "1",
                "--max-syncs", "2",
                "--give-up", "fail"));

    assertThat(exitCode).isEqualTo(1);
    assertThat(cli.out()).containsPattern("status +failed");
    assertThat(cli.err().lines())
        .singleElement()
        .asString()
        .startsWith("precopy migrate: migration failed: convergence policy gave up")
        .contains("the guest dirties", "MB/s, the migration sends")
        .endsWith(
            "it does not converge: enable --capabilities auto-converge, allow --give-up"
                + " switch-over with --max-syncs or --timeout, or raise --max-bandwidth");
  }

  @Test
  void aMigrationThatDoesNotConvergeEvenThrottledSaysHowFarItWasThrottled() {
    Cli cli = new Cli();

    int exitCode =
        cli.execute(
            args(
                "--workload", "hot-set",
                "--capabilities", "auto-converge",
                "--downtime-limit", "1",
                "--max-syncs", "2",
                "--give-up", "fail"));

    assertThat(exitCode).isEqualTo(1);
    assertThat(cli.err().lines())
        .singleElement()
        .asString()
        .containsPattern("it does not converge even with the guest throttled to \\d+ %")
        .doesNotContain("enable --capabilities auto-converge");
  }

  @Test
  void parametersTakeQemusNamesAndTheShorthandsMustNotBeGivenTwice() {
    Cli twice = new Cli();
    assertThat(twice.execute(args("--downtime-limit", "300", "--parameter", "downtime-limit=2s")))
        .isEqualTo(2);
    assertThat(twice.err())
        .contains("--parameter downtime-limit and --downtime-limit both set it; give one");

    Cli invalid = new Cli();
    assertThat(
            invalid.execute(
                args("--capabilities", "auto-converge", "--parameter", "max-cpu-throttle=100")))
        .isEqualTo(2);
    assertThat(invalid.err())
        .contains("auto-converge: max-cpu-throttle 100 is not 1 to 99")
        .doesNotContain("Exception");

    Cli json = new Cli();
    assertThat(
            json.execute(
                args("--parameter", "downtime-limit=2s", "--parameter", "max-bandwidth=1g")))
        .as(json.err())
        .isZero();
  }
}
