package io.github.precopy.compression;

import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded frame contents and buffers for the codec tests. */
final class TestFrames {

  static final int PAGE = 4096;

  /** Seed of a randomized test: {@code -Dprecopy.seed=N} replays a printed one. */
  static long seed(String test) {
    String given = System.getProperty("precopy.seed");
    long seed = given != null ? Long.parseLong(given) : System.nanoTime();
    System.out.println(test + ": seed " + seed + " (replay with -Dprecopy.seed=" + seed + ")");
    return seed;
  }

  static List<FrameCodec> codecs() {
    return new CompressionProvider().frameCodecs();
  }

  enum Content {
    EMPTY,
    ONE_BYTE,
    ZERO,
    RANDOM,
    TEXT,
    MIXED;

    byte[] bytes(SplittableRandom random, int pages) {
      switch (this) {
        case EMPTY:
          return new byte[0];
        case ONE_BYTE:
          return new byte[] {(byte) random.nextInt(256)};
        case ZERO:
          return new byte[pages * PAGE];
        case RANDOM:
          byte[] bytes = new byte[pages * PAGE];
          fillRandom(random, bytes, 0, bytes.length);
          return bytes;
        case TEXT:
          byte[] text = new byte[pages * PAGE];
          fillText(random, text, 0, text.length);
          return text;
        default:
          return mixed(random, pages);
      }
    }
  }

  /** Mostly-zero pages with a few words, text pages, code-like pages and random pages. */
  static byte[] mixed(SplittableRandom random, int pages) {
    byte[] frame = new byte[pages * PAGE];
    for (int p = 0; p < pages; p++) {
      int offset = p * PAGE;
      switch (random.nextInt(4)) {
        case 0:
          fillText(random, frame, offset + random.nextInt(PAGE - 64), 40);
          break;
        case 1:
          fillText(random, frame, offset, PAGE);
          break;
        case 2:
          for (int i = 0; i < PAGE; i++) {
            frame[offset + i] =
                (byte) (random.nextInt(5) == 0 ? random.nextInt(256) : 0x48 + i % 3);
          }
          break;
        default:
          fillRandom(random, frame, offset, PAGE);
      }
    }
    return frame;
  }

  private static final String[] WORDS =
      "the of and to a in is page memory guest host frame migration dirty bitmap channel"
          .split(" ");

  static void fillText(SplittableRandom random, byte[] bytes, int offset, int length) {
    int i = offset;
    int end = offset + length;
    while (i < end) {
      byte[] word = WORDS[random.nextInt(WORDS.length)].getBytes(StandardCharsets.US_ASCII);
      for (int b = 0; b < word.length && i < end; b++) {
        bytes[i++] = word[b];
      }
      if (i < end) {
        bytes[i++] = ' ';
      }
    }
  }

  static void fillRandom(SplittableRandom random, byte[] bytes, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
  }

  /** A buffer holding {@code bytes} between a position and a limit inside a larger buffer. */
  static ByteBuffer source(byte[] bytes, boolean direct, int slack) {
    ByteBuffer buffer =
        direct
            ? ByteBuffer.allocateDirect(bytes.length + 2 * slack)
            : ByteBuffer.allocate(bytes.length + 2 * slack);
    buffer.position(slack);
    buffer.put(bytes);
    buffer.position(slack).limit(slack + bytes.length);
    // An odd slack gives a slice, whose array offset is not zero.
    return slack % 2 == 1 ? buffer.slice() : buffer;
  }

  /** Compresses all of {@code bytes} into a fresh array holding just the frame body. */
  static byte[] compress(FrameCodec codec, Map<String, String> options, byte[] bytes) {
    ByteBuffer target = ByteBuffer.allocate(codec.maxCompressedLength(bytes.length));
    codec.compressor(options).compress(ByteBuffer.wrap(bytes), target);
    byte[] compressed = new byte[target.position()];
    target.flip().get(compressed);
    return compressed;
  }

  private TestFrames() {}
}
