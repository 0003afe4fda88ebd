package io.github.precopy.compression;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.compression.TestFrames.Content;
import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every codec restores what it compressed, for every content, with heap, direct and read-only
 * buffers on either side, at offsets inside larger buffers, with one compressor and decompressor
 * reused across frames as a channel does.
 */
final class RoundTripTest {

  @Test
  void everyCodecRestoresEveryContentWithEveryKindOfBuffer() {
    long seed = TestFrames.seed("RoundTripTest");
    SplittableRandom random = new SplittableRandom(seed);
    for (FrameCodec codec : TestFrames.codecs()) {
      FrameCodec.Compressor compressor = codec.compressor(Map.of());
      FrameCodec.Decompressor decompressor = codec.decompressor();
      for (Content content : Content.values()) {
        for (int kinds = 0; kinds < 16; kinds++) {
          int pages = 1 + random.nextInt(64);
          byte[] original = content.bytes(random, pages);
          String as = codec.name() + " " + content + " " + pages + " pages, buffers " + kinds;
          roundTrip(compressor, decompressor, codec, original, kinds, random.nextInt(9), as);
        }
      }
    }
  }

  @Test
  void aStripeOfSixtyFourPagesCompressesAndTheEmptyFrameRoundTrips() {
    SplittableRandom random = new SplittableRandom(TestFrames.seed("stripe"));
    for (FrameCodec codec : TestFrames.codecs()) {
      byte[] zero = new byte[64 * TestFrames.PAGE];
      assertThat(TestFrames.compress(codec, Map.of(), zero).length)
          .as(codec.name())
          .isLessThan(zero.length / 100);
      byte[] text = Content.TEXT.bytes(random, 64);
      assertThat(TestFrames.compress(codec, Map.of(), text).length)
          .as(codec.name())
          .isLessThan(text.length / 2);
      byte[] noise = Content.RANDOM.bytes(random, 64);
      assertThat(TestFrames.compress(codec, Map.of(), noise).length)
          .as(codec.name())
          .isLessThanOrEqualTo(codec.maxCompressedLength(noise.length));
    }
  }

  /**
   * Bits of {@code kinds}: direct source, direct target, read-only source, direct decompressed
   * target.
   */
  static void roundTrip(
      FrameCodec.Compressor compressor,
      FrameCodec.Decompressor decompressor,
      FrameCodec codec,
      byte[] original,
      int kinds,
      int slack,
      String as) {
    ByteBuffer source = TestFrames.source(original, (kinds & 1) != 0, slack);
    if ((kinds & 4) != 0) {
      source = source.asReadOnlyBuffer();
    }
    int bound = codec.maxCompressedLength(original.length);
    CanaryTarget compressed = new CanaryTarget(bound, (kinds & 2) != 0);
    int length = compressor.compress(source, compressed.buffer);
    assertThat(source.hasRemaining()).as(as + ": source consumed").isFalse();
    compressed.assertIntact();
    assertThat(compressed.written()).as(as).hasSize(length);

    ByteBuffer input = TestFrames.source(compressed.written(), (kinds & 2) != 0, slack);
    CanaryTarget restored = new CanaryTarget(original.length + slack, (kinds & 8) != 0);
    int restoredLength = decompressor.decompress(input, restored.buffer);
    assertThat(input.hasRemaining()).as(as + ": input consumed").isFalse();
    restored.assertIntact();
    assertThat(restoredLength).as(as).isEqualTo(original.length);
    assertThat(restored.written()).as(as).isEqualTo(original);
  }
}
