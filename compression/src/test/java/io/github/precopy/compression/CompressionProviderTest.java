package io.github.precopy.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The provider: found by ServiceLoader, offers the three codecs, checks its parameters. */
final class CompressionProviderTest {

  private final CompressionProvider provider = new CompressionProvider();

  @Test
  void theServiceLoaderFindsTheCapabilityAndItsThreeCodecs() {
    List<MigrationOptimizationProvider> providers = new java.util.ArrayList<>();
    ServiceLoader.load(MigrationOptimizationProvider.class).forEach(providers::add);
    MigrationOptimizationProvider found =
        providers.stream().filter(p -> "compression".equals(p.capability())).findFirst().get();
    assertThat(found).isInstanceOf(CompressionProvider.class);
    assertThat(found.frameCodecs())
        .extracting(FrameCodec::name)
        .containsExactly("zstd", "zlib", "lz4");
    assertThat(found.pageCodec()).isNull();
  }

  @Test
  void validateAcceptsQemusMethodsAndLevels() {
    for (String method : new String[] {"none", "zlib", "zstd", "lz4"}) {
      provider.validate(Map.of("multifd-compression", method));
    }
    provider.validate(Map.of());
    provider.validate(
        Map.of(
            "multifd-zlib-level", "9",
            "multifd-zstd-level", "20",
            "someone-else", "anything"));
    provider.validate(Map.of("multifd-zlib-level", "0", "multifd-zstd-level", "0"));
  }

  @Test
  void validateRefusesNamingTheParameter() {
    assertThatThrownBy(() -> provider.validate(Map.of("multifd-compression", "gzip")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multifd-compression")
        .hasMessageContaining("none, zlib, zstd, lz4")
        .hasMessageContaining("gzip");
    assertThatThrownBy(() -> provider.validate(Map.of("multifd-compression", "ZSTD")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> provider.validate(Map.of("multifd-zlib-level", "10")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multifd-zlib-level");
    assertThatThrownBy(() -> provider.validate(Map.of("multifd-zstd-level", "21")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multifd-zstd-level");
  }

  @Test
  void theOptimisationDoesNothing() {
    FakeOptimizationContext context =
        new FakeOptimizationContext(
            List.of(new RamRegion("pc.ram", 0, 1 << 20)), new RecordingFreePageSink(), null);
    try (MigrationOptimization optimization = provider.create(context)) {
      for (PrecopyPhase phase : PrecopyPhase.values()) {
        optimization.onPhase(phase);
      }
      assertThat(optimization.statistics()).isEmpty();
      assertThat(optimization.pageEncoder()).isNull();
    }
  }
}
