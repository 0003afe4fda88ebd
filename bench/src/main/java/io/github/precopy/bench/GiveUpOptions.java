package io.github.precopy.bench;

import io.github.precopy.core.ConvergencePolicies;
import io.github.precopy.core.MigrationConfig;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options of the bench programs whose migrations may not converge (a picocli mixin): the
 * downtime limit, and after how many syncs without a new low of remaining bytes a migration fails
 * ({@link ConvergencePolicies#untilStalled}). Each program keeps its own {@code --timeout}, whose
 * default depends on how long its migrations may take.
 */
final class GiveUpOptions {

  @Spec(Spec.Target.MIXEE)
  private CommandSpec spec;

  @Option(
      names = "--downtime-limit",
      defaultValue = "300ms",
      converter = Durations.DowntimeLimit.class,
      paramLabel = "DURATION",
      description = "Downtime limit; a bare number is milliseconds (default: ${DEFAULT-VALUE}).")
  private Duration downtimeLimit;

  private int stalledSyncs;

  @Option(
      names = "--stalled-syncs",
      defaultValue = "30",
      paramLabel = "N",
      description =
          "A migration without a new low of remaining bytes for N syncs fails (default:"
              + " ${DEFAULT-VALUE}).")
  private void stalledSyncs(int syncs) {
    if (syncs < 1) {
      throw new ParameterException(spec.commandLine(), "--stalled-syncs must be >= 1");
    }
    stalledSyncs = syncs;
  }

  Duration downtimeLimit() {
    return downtimeLimit;
  }

  int stalledSyncs() {
    return stalledSyncs;
  }

  /** A configuration with the downtime limit and the policy that gives up when stalled. */
  MigrationConfig.Builder config() {
    return MigrationConfig.builder()
        .downtimeLimit(downtimeLimit)
        .convergencePolicy(
            ConvergencePolicies.untilStalled(stalledSyncs, ConvergencePolicies.GiveUp.FAIL));
  }
}
