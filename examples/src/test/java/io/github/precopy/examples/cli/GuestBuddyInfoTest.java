package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code migrate --guest-buddyinfo} prints the guest's free blocks before migrating in the format
 * of Linux's {@code /proc/buddyinfo}, and the JSON carries them as {@code guest-buddyinfo}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class GuestBuddyInfoTest {

  private static final String LINE = "Node 0, zone +\\S+( +\\d+){11} ";

  @Test
  void textShowsOneBuddyinfoLineBeforeTheReport() {
    Cli cli = new Cli();
    int exit =
        cli.execute(
            "migrate",
            "--memory",
            "32m",
            "--workload-option",
            "profile=fresh",
            "--guest-buddyinfo");

    assertThat(exit).as(cli.err()).isZero();
    List<String> lines = cli.out().lines().toList();
    int title = lines.indexOf("guest /proc/buddyinfo before migrating (legacy):");
    assertThat(title).as(cli.out()).isPositive();
    assertThat(lines.get(title + 1)).matches(LINE);
  }

  @Test
  void aBusyGuestThatSettlesHasItsWorkingSetAllocatedBeforeMigrating() throws Exception {
    long workingSet = 128L << 20;
    Cli cli = new Cli();
    int exit =
        cli.execute(
            "migrate",
            "--memory",
            "256m",
            "--workload",
            "busy",
            "--workload-option",
            "profile=fresh,working-set=128m,max-chunk=16m",
            "--settle",
            "1s",
            "--output",
            "json",
            "--guest-buddyinfo");

    assertThat(exit).as(cli.err()).isZero();
    JsonNode run = new ObjectMapper().readTree(cli.out());
    assertThat(run.get("guest").get("settle").asLong()).isEqualTo(1000);
    String line = run.get("guest-buddyinfo").get(0).asText();
    String[] counts = line.trim().split(" +");
    long freeBytes = 0;
    for (int order = 0; order <= 10; order++) {
      freeBytes += Long.parseLong(counts[counts.length - 11 + order]) * (4096L << order);
    }
    assertThat(256L * (1 << 20) - freeBytes)
        .as("memory not free after 1 s of a 128 MiB working set at 512 MiB/s: %s", line)
        .isGreaterThan(workingSet / 2);
  }

  @Test
  void jsonCarriesTheLinesOnlyWhenAskedFor() throws Exception {
    Cli asked = new Cli();
    Cli plain = new Cli();
    assertThat(asked.execute("migrate", "--memory", "32m", "--output", "json", "--guest-buddyinfo"))
        .as(asked.err())
        .isZero();
    assertThat(plain.execute("migrate", "--memory", "32m", "--output", "json"))
        .as(plain.err())
        .isZero();

    JsonNode buddyInfo = new ObjectMapper().readTree(asked.out()).get("guest-buddyinfo");
    List<String> lines = new ArrayList<>();
    buddyInfo.forEach(line -> lines.add(line.asText()));
    assertThat(lines).singleElement().asString().matches(LINE);
    assertThat(new ObjectMapper().readTree(plain.out()).has("guest-buddyinfo")).isFalse();
  }
}
