package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Statistics keep the order their figures were reported in, so JSON output is stable. */
final class MigrationStatsTest {

  @Test
  void optimisationFiguresKeepTheOrderTheOptimisationReportedThem() {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println("MigrationStatsTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Object> figures = new LinkedHashMap<>();
    for (int i = 0; i < 40; i++) {
      figures.put("figure-" + random.nextInt(1_000_000), (long) i);
    }
    Map<String, Map<String, Object>> optimizations = new LinkedHashMap<>();
    optimizations.put("zeta", figures);
    optimizations.put("alpha", Map.of("active", true));

    MigrationStats stats = stats(optimizations);

    assertThat(stats.optimizations().keySet()).containsExactly("zeta", "alpha");
    assertThat(stats.optimizations().get("zeta").keySet())
        .as("seed %d", seed)
        .containsExactlyElementsOf(figures.keySet());
  }

  @Test
  void aConfigurationListsItsCapabilitiesAndOptionsSorted() {
    MigrationConfig config =
        MigrationConfig.builder()
            .capability("zeta")
            .capability("alpha")
            .capability("mid")
            .option("z", "1")
            .option("a", "2")
            .build();

    assertThat(config.capabilities()).containsExactly("alpha", "mid", "zeta");
    assertThat(config.options().keySet()).containsExactly("a", "z");
  }

  private static MigrationStats stats(Map<String, Map<String, Object>> optimizations) {
    return new MigrationStats(
        MigrationStatus.COMPLETED,
        1,
        0,
        0,
        0,
        false,
        0,
        new MigrationStats.Ram(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
        optimizations,
        null,
        List.of(),
        null);
  }
}
