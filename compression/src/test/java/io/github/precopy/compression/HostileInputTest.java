package io.github.precopy.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.github.luben.zstd.ZstdCompressCtx;
import io.github.precopy.compression.TestFrames.Content;
import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Decompressors take input from the network: every truncation and random single-byte corruptions of
 * real frames either throw {@link IllegalArgumentException} or produce output within the target,
 * never write outside it and never hang; frames bigger than the target are refused.
 */
final class HostileInputTest {

  /** A hang guard only: the whole test takes a few seconds. */
  private static final Duration HANG_GUARD = Duration.ofMinutes(3);

  private static final int CORRUPTIONS = 3000;

  @Test
  void everyTruncationIsRefused() {
    SplittableRandom random = new SplittableRandom(TestFrames.seed("truncations"));
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          for (FrameCodec codec : TestFrames.codecs()) {
            FrameCodec.Decompressor decompressor = codec.decompressor();
            for (Content content : new Content[] {Content.MIXED, Content.ZERO, Content.ONE_BYTE}) {
              byte[] original = content.bytes(random, 3);
              byte[] frame = TestFrames.compress(codec, Map.of(), original);
              for (int length = 0; length < frame.length; length++) {
                String as = codec.name() + " " + content + " truncated to " + length;
                boolean direct = (length & 1) != 0;
                CanaryTarget target = new CanaryTarget(original.length, direct);
                ByteBuffer input = TestFrames.source(Arrays.copyOf(frame, length), direct, 3);
                assertThatThrownBy(() -> decompressor.decompress(input, target.buffer))
                    .as(as)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith(codec.name() + " frame does not decompress: ");
                target.assertIntact();
              }
              // The decompressor is still good for the next frame of its channel.
              CanaryTarget target = new CanaryTarget(original.length, false);
              decompressor.decompress(ByteBuffer.wrap(frame), target.buffer);
              assertThat(target.written()).isEqualTo(original);
            }
          }
        });
  }

  @Test
  void corruptedBytesAreRefusedOrDecodeWithinTheTarget() {
    SplittableRandom random = new SplittableRandom(TestFrames.seed("corruptions"));
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          for (FrameCodec codec : TestFrames.codecs()) {
            FrameCodec.Decompressor decompressor = codec.decompressor();
            for (Content content : new Content[] {Content.MIXED, Content.TEXT, Content.ZERO}) {
              byte[] original = content.bytes(random, 2);
              byte[] frame = TestFrames.compress(codec, Map.of(), original);
              int refused = 0;
              for (int i = 0; i < CORRUPTIONS; i++) {
                byte[] corrupt = frame.clone();
                int position = random.nextInt(frame.length);
                corrupt[position] ^= (byte) (1 + random.nextInt(255));
                boolean direct = (i & 1) != 0;
                CanaryTarget target = new CanaryTarget(original.length, direct);
                ByteBuffer input = TestFrames.source(corrupt, (i & 2) != 0, 5);
                try {
                  int length = decompressor.decompress(input, target.buffer);
                  assertThat(length).isEqualTo(target.written().length);
                } catch (IllegalArgumentException e) {
                  assertThat(e)
                      .hasMessageStartingWith(codec.name() + " frame does not decompress: ");
                  refused++;
                } catch (RuntimeException | Error e) {
                  throw new AssertionError(
                      codec.name() + " " + content + ": byte " + position + " corrupted", e);
                }
                target.assertIntact();
              }
              System.out.printf(
                  "%s %s: %d of %d corruptions refused%n",
                  codec.name(), content, refused, CORRUPTIONS);
            }
          }
        });
  }

  @Test
  void aFrameLargerThanTheTargetIsRefused() {
    SplittableRandom random = new SplittableRandom(TestFrames.seed("too large"));
    for (FrameCodec codec : TestFrames.codecs()) {
      for (Content content : new Content[] {Content.MIXED, Content.ZERO, Content.ONE_BYTE}) {
        byte[] original = content.bytes(random, 4);
        byte[] frame = TestFrames.compress(codec, Map.of(), original);
        for (boolean direct : new boolean[] {false, true}) {
          for (int room : new int[] {0, original.length - 1}) {
            CanaryTarget target = new CanaryTarget(room, direct);
            assertThatThrownBy(
                    () -> codec.decompressor().decompress(ByteBuffer.wrap(frame), target.buffer))
                .as("%s %s into %d bytes", codec.name(), content, room)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(codec.name() + " frame does not decompress: ");
            target.assertIntact();
          }
        }
      }
    }
  }

  @Test
  void aHighlyCompressedBombIsRefusedQuickly() {
    byte[] zeros = new byte[16 << 20];
    for (FrameCodec codec : TestFrames.codecs()) {
      byte[] bomb = TestFrames.compress(codec, Map.of(), zeros);
      CanaryTarget target = new CanaryTarget(64 * TestFrames.PAGE, false);
      assertTimeoutPreemptively(
          HANG_GUARD,
          () ->
              assertThatThrownBy(
                      () -> codec.decompressor().decompress(ByteBuffer.wrap(bomb), target.buffer))
                  .isInstanceOf(IllegalArgumentException.class));
      target.assertIntact();
    }
  }

  @Test
  void bytesAfterTheFrameAreRefused() {
    byte[] original = TestFrames.mixed(new SplittableRandom(3), 2);
    for (FrameCodec codec : TestFrames.codecs()) {
      byte[] frame = TestFrames.compress(codec, Map.of(), original);
      byte[] longer = Arrays.copyOf(frame, frame.length + 1);
      CanaryTarget target = new CanaryTarget(original.length + 100, false);
      assertThatThrownBy(
              () -> codec.decompressor().decompress(ByteBuffer.wrap(longer), target.buffer))
          .as(codec.name())
          .isInstanceOf(IllegalArgumentException.class);
      target.assertIntact();
    }
  }

  @Test
  void aZstdFrameWithoutItsContentSizeIsStillBoundedByTheTarget() {
    byte[] original = TestFrames.mixed(new SplittableRandom(5), 4);
    byte[] frame;
    try (ZstdCompressCtx context = new ZstdCompressCtx().setLevel(1).setContentSize(false)) {
      frame = context.compress(original);
    }
    FrameCodec codec = new ZstdCodec();
    CanaryTarget small = new CanaryTarget(original.length - 1, true);
    assertThatThrownBy(() -> codec.decompressor().decompress(ByteBuffer.wrap(frame), small.buffer))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("zstd frame does not decompress: ");
    small.assertIntact();
    CanaryTarget fits = new CanaryTarget(original.length, false);
    codec.decompressor().decompress(ByteBuffer.wrap(frame), fits.buffer);
    assertThat(fits.written()).isEqualTo(original);
  }

  @Test
  void anLz4HeaderThatLiesIsRefused() {
    byte[] original = TestFrames.mixed(new SplittableRandom(9), 2);
    FrameCodec codec = new Lz4Codec();
    byte[] frame = TestFrames.compress(codec, Map.of(), original);
    for (int declared :
        new int[] {-1, Integer.MIN_VALUE, original.length - 1, original.length + 1}) {
      ByteBuffer lying = ByteBuffer.wrap(frame.clone()).putInt(0, declared);
      CanaryTarget target = new CanaryTarget(original.length + 10, false);
      assertThatThrownBy(() -> codec.decompressor().decompress(lying, target.buffer))
          .as("declared %d", declared)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("lz4 frame does not decompress: ");
      target.assertIntact();
    }
  }
}
