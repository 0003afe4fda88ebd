package io.github.precopy.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.FrameCodec;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@code multifd-zlib-level} and {@code multifd-zstd-level}: QEMU's ranges, every level works. */
final class LevelsTest {

  private final FrameCodec zlib = new ZlibCodec();
  private final FrameCodec zstd = new ZstdCodec();

  @Test
  void invalidLevelsAreRefusedNamingTheParameterAndTheRange() {
    for (String bad : new String[] {"-1", "10", "x", "", "1.5"}) {
      assertThatThrownBy(() -> zlib.compressor(Map.of("multifd-zlib-level", bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("multifd-zlib-level")
          .hasMessageContaining("0 to 9");
    }
    for (String bad : new String[] {"-1", "21", "22", "fast"}) {
      assertThatThrownBy(() -> zstd.compressor(Map.of("multifd-zstd-level", bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("multifd-zstd-level")
          .hasMessageContaining("0 to 20");
    }
  }

  @Test
  void everyLevelProducesOutputThatDecompresses() {
    SplittableRandom random = new SplittableRandom(TestFrames.seed("LevelsTest"));
    byte[] mixed = TestFrames.mixed(random, 16);
    byte[] noise = TestFrames.Content.RANDOM.bytes(random, 4);
    int[] zlibSizes = new int[10];
    for (int level = 0; level <= 9; level++) {
      zlibSizes[level] = roundTrip(zlib, "multifd-zlib-level", level, mixed);
      roundTrip(zlib, "multifd-zlib-level", level, noise);
    }
    int[] zstdSizes = new int[21];
    for (int level = 0; level <= 20; level++) {
      zstdSizes[level] = roundTrip(zstd, "multifd-zstd-level", level, mixed);
      roundTrip(zstd, "multifd-zstd-level", level, noise);
    }
    assertThat(zlibSizes[0]).as("level 0 stores").isGreaterThan(mixed.length);
    assertThat(zlibSizes[9]).isLessThan(zlibSizes[1]);
    assertThat(zstdSizes[19]).isLessThan(zstdSizes[1]);
  }

  @Test
  void theDefaultLevelIsOne() {
    byte[] mixed = TestFrames.mixed(new SplittableRandom(7), 8);
    assertThat(TestFrames.compress(zlib, Map.of(), mixed))
        .isEqualTo(TestFrames.compress(zlib, Map.of("multifd-zlib-level", "1"), mixed));
    assertThat(TestFrames.compress(zstd, Map.of(), mixed))
        .isEqualTo(TestFrames.compress(zstd, Map.of("multifd-zstd-level", "1"), mixed));
  }

  private static int roundTrip(FrameCodec codec, String parameter, int level, byte[] original) {
    Map<String, String> options = Map.of(parameter, Integer.toString(level));
    byte[] compressed = TestFrames.compress(codec, options, original);
    assertThat(compressed.length)
        .as("%s %d", parameter, level)
        .isLessThanOrEqualTo(codec.maxCompressedLength(original.length));
    CanaryTarget restored = new CanaryTarget(original.length, false);
    codec.decompressor().decompress(java.nio.ByteBuffer.wrap(compressed), restored.buffer);
    restored.assertIntact();
    assertThat(restored.written()).as("%s %d", parameter, level).isEqualTo(original);
    return compressed.length;
  }
}
