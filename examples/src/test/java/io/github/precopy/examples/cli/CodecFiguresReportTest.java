package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.sim.WorkloadOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the reports show the figures of the codec plugins: xbzrle's under QEMU's {@code xbzrle-cache}
 * in JSON and as one line of text, a frame codec's under {@code multifd-compression} as they come
 * and as one line of text; other optimisations' figures as before.
 */
final class CodecFiguresReportTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static RunResult run() {
    Map<String, Map<String, Object>> figures = new LinkedHashMap<>();
    Map<String, Object> xbzrle = new LinkedHashMap<>();
    xbzrle.put("cache-size", 64L << 20);
    xbzrle.put("bytes", 3L << 20);
    xbzrle.put("pages", 12_345L);
    xbzrle.put("cache-miss", 1L);
    xbzrle.put("cache-miss-rate", 0.25);
    xbzrle.put("encoding-rate", 3.5);
    xbzrle.put("overflow", 7L);
    figures.put("xbzrle", xbzrle);
    Map<String, Object> compression = new LinkedHashMap<>();
    compression.put("codec", "zstd");
    compression.put("uncompressed-bytes", 1L << 30);
    compression.put("compressed-bytes", 256L << 20);
    compression.put("compression-rate", 4.0);
    figures.put("multifd-compression", compression);
    figures.put("free-page-hint", Map.of("hinted-pages", 5L));
    figures.put("compression", Map.of());
    MigrationStats stats =
        new MigrationStats(
            MigrationStatus.COMPLETED,
            1000,
            10,
            5,
            0,
            false,
            0,
            new MigrationStats.Ram(1L << 28, 0, 1L << 30, 0, 0, 0, 3, 0, 0, 0, 0, 0),
            figures,
            new MigrationStats.Verification(10, 0),
            List.of(),
            null);
    return new RunResult("xbzrle", List.of("xbzrle"), stats, List.of(), null);
  }

  @Test
  void jsonNamesXbzrlesSectionXbzrleCacheAndPassesTheCompressionFiguresAsTheyCome()
      throws Exception {
    GuestSpec guest = new GuestSpec(1L << 30, 2, "uniform", WorkloadOptions.defaults(), 1);

    JsonNode result = JSON.readTree(StatsJson.of(run(), guest, "tcp"));

    assertThat(result.has("xbzrle")).isFalse();
    assertThat(result.get("xbzrle-cache").toString())
        .isEqualTo(
            "{\"cache-size\":67108864,\"bytes\":3145728,\"pages\":12345,\"cache-miss\":1,"
                + "\"cache-miss-rate\":0.25,\"encoding-rate\":3.5,\"overflow\":7}");
    assertThat(result.get("multifd-compression").toString())
        .isEqualTo(
            "{\"codec\":\"zstd\",\"uncompressed-bytes\":1073741824,"
                + "\"compressed-bytes\":268435456,\"compression-rate\":4.0}");
    assertThat(result.get("free-page-hint").get("hinted-pages").asLong()).isEqualTo(5);
  }

  @Test
  void textHasOneShortLineForXbzrleAndOneForCompressionAndNoneForAnEmptyCapability() {
    String text = TextReport.of(run());

    assertThat(text)
        .containsPattern(
            "(?m)^xbzrle +12,345 pages encoded \\(3\\.00 MiB\\), 1 cache miss, 7 overflows,"
                + " 64\\.00 MiB cache$")
        .containsPattern(
            "(?m)^multifd-compression +zstd, 1\\.00 GiB -> 256\\.00 MiB \\(ratio 4\\.00\\)$")
        .containsPattern("(?m)^free-page-hint +hinted-pages=5$")
        .doesNotContainPattern("(?m)^compression\\b");
  }
}
