package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.sim.WorkloadOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link GuestFidelity}'s scenarios: {@code label=workload:options}, the defaults, a bad one's
 * one-line error; and the QEMU harness's JSON lines.
 */
final class FidelityScenarioTest {

  @Test
  void parsesLabelWorkloadAndOptions() {
    FidelityScenario scenario = FidelityScenario.parse(" x = idle:touched=10%,in-use=5% ");

    assertThat(scenario.label()).isEqualTo("x");
    assertThat(scenario.workload()).isEqualTo("idle");
    assertThat(scenario.options().values())
        .containsExactly(Map.entry("touched", "10%"), Map.entry("in-use", "5%"));
    assertThat(FidelityScenario.parse("busy=busy").options()).isEqualTo(WorkloadOptions.defaults());
    assertThat(scenario).hasToString("x (idle: touched=10%,in-use=5%)");
    scenario.validate();
  }

  @Test
  void theDefaultsAreTheReferencesGuestsAndTheSeedRows() {
    List<FidelityScenario> defaults =
        Arrays.stream(FidelityScenario.DEFAULTS.split(";")).map(FidelityScenario::parse).toList();

    assertThat(defaults)
        .extracting(FidelityScenario::label)
        .containsExactly(
            "idle-fresh",
            "used",
            "busy",
            "seed-idle",
            "seed-compile",
            "zeroing-idle",
            "zeroing-used");
    assertThat(defaults)
        .extracting(FidelityScenario::workload)
        .containsExactly("idle", "idle", "busy", "idle", "busy", "idle", "idle");
    assertThat(defaults)
        .extracting(s -> s.options().toString())
        .containsExactly(
            "profile=fresh",
            "profile=used",
            "profile=fresh",
            "profile=used,touched=15%",
            "profile=used,touched=15%",
            "profile=fresh,init-on-alloc=on",
            "profile=used,init-on-alloc=on");
    assertThat(defaults)
        .extracting(s -> s.reference().orElseThrow())
        .containsExactly(
            FidelityReference.Guest.IDLE,
            FidelityReference.Guest.USED,
            FidelityReference.Guest.BUSY,
            FidelityReference.Guest.SEED_IDLE,
            FidelityReference.Guest.SEED_COMPILE,
            FidelityReference.Guest.ZEROING_IDLE,
            FidelityReference.Guest.ZEROING_USED);
  }

  @Test
  void aBadScenarioIsOneLineNamingIt() {
    assertThatThrownBy(() -> FidelityScenario.parse("idle"))
        .hasMessage(
            "scenario 'idle' is not label=workload[:options], e.g. idle-fresh=idle:touched=10%");
    assertThatThrownBy(() -> FidelityScenario.parse("x=:touched=1%"))
        .hasMessage("scenario 'x' names no workload");
    assertThatThrownBy(() -> FidelityScenario.parse("x=idle:touched"))
        .hasMessage("scenario 'x': workload option 'touched' is not of the form key=value");
    assertThatThrownBy(() -> FidelityScenario.parse("x=nosuch").validate())
        .hasMessageStartingWith("scenario 'x': unknown workload 'nosuch'; valid workloads: idle");
    assertThatThrownBy(() -> FidelityScenario.parse("x=idle:bogus=1").validate())
        .hasMessageStartingWith("scenario 'x': workload idle has no option 'bogus'");
  }

  @Test
  void onTheCommandLineABadScenarioIsOneLineWithExitCode2() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        Cli.run(
            new GuestFidelity(),
            new String[] {"--scenarios", "a=idle;b=nosuch", "--sizes", "256m"},
            new PrintWriter(out, true),
            new PrintWriter(err, true));

    assertThat(exitCode).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString().lines().findFirst())
        .hasValue(
            "GuestFidelity: --scenarios: scenario 'b': unknown workload 'nosuch'; valid"
                + " workloads: idle, compile, busy, hot-set, uniform, sparse-writes");
    assertThat(err.toString()).doesNotContain("\tat ");
  }

  @Test
  void readsTheHarnessesJsonLines() throws IOException {
    List<FphHarness.Run> runs =
        FphHarness.parse(
            List.of(
                "{\"mode\": \"legacy\", \"status\": \"completed\", \"derived\": {\"total_time_ms\":"
                    + " 9426, \"downtime_ms\": 420, \"transferred_mib\": 1208.3,"
                    + " \"dirty_sync_count\": 4}, \"churn\": {\"baseline_mib_s\": 540.0,"
                    + " \"span_mib_s\": 356.4}}",
                "",
                "{\"mode\": \"hinted\", \"skipped\": \"MemAvailable 3.0 GiB\"}",
                "{\"mode\": \"hinted\", \"status\": \"not-converged\", \"derived\":"
                    + " {\"total_time_ms\": null}}"));

    assertThat(runs).hasSize(3);
    FphHarness.Run legacy = runs.get(0);
    assertThat(legacy.hinted()).isFalse();
    assertThat(legacy.problem()).isNull();
    assertThat(legacy.totalMillis()).isEqualTo(9426);
    assertThat(legacy.transferredMib()).isEqualTo(1208.3);
    assertThat(legacy.dirtySyncs()).isEqualTo(4);
    assertThat(legacy.workRatio()).isEqualTo(356.4 / 540.0);
    assertThat(runs.get(1).problem()).isEqualTo("skipped: MemAvailable 3.0 GiB");
    assertThat(runs.get(2).problem()).isEqualTo("status not-converged");
    assertThat(runs.get(2).totalMillis()).isNaN();
  }
}
