package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.TestCodecsProvider;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import io.github.precopy.spi.ConvergencePolicy;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migrations with the engine's codec paths: a page codec (the test plugin's {@code test-delta},
 * found through ServiceLoader at both ends) encodes the pages the guest changes again after the
 * bulk round, and a frame codec ({@code test-deflate}, selected by {@code multifd-compression})
 * compresses the stream; every page arrives byte for byte (the digest of the pages in use, checked
 * by the destination).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class CodecMigrationTest {

  private static final long MIB = 1 << 20;

  private static final int REWRITTEN_PAGES = 64;

  private final MigrationEngine engine = MigrationEngine.create();

  /**
   * A policy that acts as the guest too: at each sync it changes a few bytes of each of the first
   * 64 pages, so that every round sends them again, and switches over after six rounds that sent
   * nothing else.
   */
  private static ConvergencePolicy rewriting(GuestMemory memory) {
    int[] round = {0};
    int[] onlyRewritten = {0};
    return state -> {
      round[0]++;
      for (int page = 0; page < REWRITTEN_PAGES; page++) {
        memory.writeLong((long) page * 4096 + 8 * (round[0] % 512), round[0] * 1_000_003L + page);
      }
      if (state.remainingBytes() <= REWRITTEN_PAGES * 4096L) {
        onlyRewritten[0]++;
      }
      return onlyRewritten[0] >= 6
          ? ConvergencePolicy.Decision.STOP_AND_COPY
          : ConvergencePolicy.Decision.CONTINUE;
    };
  }

  private static MigrationConfig.Builder config(TestGuest guest) {
    return MigrationConfig.builder()
        .capability(TestCodecsProvider.CAPABILITY)
        .convergencePolicy(rewriting(guest.memory()));
  }

  private static Map<String, Object> figures(MigrationStats stats, String name) {
    assertThat(stats.optimizations()).containsKey(name);
    return stats.optimizations().get(name);
  }

  @Test
  void pagesSentAgainTravelEncodedAndArriveByteForByte() throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, TestMemories.seed("CodecMigrationTest"));
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      MigrationConfig config = config(guest).option("multifd-compression", "none").build();

      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status())
          .as("%s", stats.errorDescription())
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
      assertThat(stats.verification().pagesChecked()).isEqualTo(16 * MIB / 4096);
      assertThat(stats.optimizations()).doesNotContainKey("multifd-compression");
      Map<String, Object> delta = figures(stats, TestCodecsProvider.CAPABILITY);
      assertThat((Long) delta.get("encoded")).isGreaterThanOrEqualTo(3 * REWRITTEN_PAGES);
      assertThat(stats.ram().dirtySyncCount()).isGreaterThanOrEqualTo(6);
    }
  }

  @Test
  void aCompressedStreamCountsTheBytesThatTravel() throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, TestMemories.seed("CodecMigrationTest"));
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      MigrationConfig config =
          config(guest)
              .option("multifd-compression", TestCodecsProvider.FRAME_CODEC)
              .option("test-deflate-level", "1")
              .build();

      MigrationStats stats = engine.startInProcess(guest, destination, config).await();

      assertThat(stats.status())
          .as("%s", stats.errorDescription())
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
      Map<String, Object> compression = figures(stats, "multifd-compression");
      assertThat(compression.get("codec")).isEqualTo(TestCodecsProvider.FRAME_CODEC);
      assertThat(compression.get("compressed-bytes")).isEqualTo(stats.ram().transferred());
      assertThat((Long) compression.get("uncompressed-bytes"))
          .isGreaterThan(stats.ram().normalBytes());
      assertThat((Double) compression.get("compression-rate")).isGreaterThan(0.1);
    }
  }

  @Test
  void enablingACapabilityWithFrameCodecsCompressesWithItsFirst() throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, TestMemories.seed("CodecMigrationTest"));
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      MigrationStats stats =
          engine.startInProcess(guest, destination, config(guest).build()).await();

      assertThat(stats.status())
          .as("%s", stats.errorDescription())
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().mismatches()).isZero();
      assertThat(figures(stats, "multifd-compression").get("codec"))
          .isEqualTo(TestCodecsProvider.FRAME_CODEC);
    }
  }

  @ParameterizedTest(name = "{0} channels")
  @ValueSource(ints = {1, 4})
  void encodedAndCompressedOverTcpTheDestinationCountsEveryRecord(int channels) throws Exception {
    try (TestGuest guest = TestGuest.filled(16 * MIB, TestMemories.seed("CodecMigrationTest"));
        GuestMemory destination = GuestMemory.anonymous(16 * MIB)) {
      TransportOptions options = TransportOptions.builder().channels(channels).build();
      Loopback loopback = Loopback.receive(destination, options);
      MigrationConfig config =
          config(guest).option("multifd-compression", TestCodecsProvider.FRAME_CODEC).build();

      MigrationStats stats =
          engine
              .start(guest, config, MigrationTarget.tcp("127.0.0.1", loopback.port(), options))
              .await();
      DestinationReport report = loopback.awaitReport();

      assertThat(stats.status())
          .as("%s", stats.errorDescription())
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(report.verified()).isTrue();
      assertThat(report.encodedPages()).isGreaterThanOrEqualTo(3 * REWRITTEN_PAGES);
      assertThat(report.encodedPages())
          .isEqualTo((Long) figures(stats, TestCodecsProvider.CAPABILITY).get("encoded"));
      assertThat(report.bytesRead()).isEqualTo(stats.ram().transferred());
    }
  }

  @Test
  void anUnknownFrameCodecOrABadLevelIsRefusedBeforeStarting() {
    assertThatThrownBy(
            () ->
                engine.check(
                    MigrationConfig.builder().option("multifd-compression", "zstd").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "multifd-compression 'zstd' is not a codec of the plugins here; available: none,"
                + " test-deflate");
    assertThatThrownBy(
            () ->
                engine.check(
                    MigrationConfig.builder()
                        .option("multifd-compression", TestCodecsProvider.FRAME_CODEC)
                        .option("test-deflate-level", "12")
                        .build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("multifd-compression test-deflate: test-deflate-level 12 not in [0, 9]");
    engine.check(MigrationConfig.builder().option("multifd-compression", "none").build());
  }
}
