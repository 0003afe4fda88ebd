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
