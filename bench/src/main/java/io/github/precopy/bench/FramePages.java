package io.github.precopy.bench;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded contents of one frame of guest pages for the compression benchmark: {@value #PAGES} pages
 * of {@value #PAGE_SIZE} bytes (a channel stripe, the unit the engine sends on one channel), well
 * under the stream's 1 MiB frame limit.
 */
public enum FramePages {
  /** Uniformly random bytes: incompressible, the worst case (encrypted or compressed data). */
  RANDOM {
    @Override
    void page(SplittableRandom random, byte[] frame, int offset) {
      randomPage(random, frame, offset);
    }
  },
  /** English-like text: words drawn from a small vocabulary, skewed to the first, and spaces. */
  TEXT {
    @Override
    void page(SplittableRandom random, byte[] frame, int offset) {
      textPage(random, frame, offset, PAGE_SIZE);
    }
  },
  /**
   * A mixed frame: half the pages mostly zero with a few words (a fresh heap, page tables), a
   * quarter text, an eighth code-like bytes, an eighth random.
   */
  MIXED {
    @Override
    void page(SplittableRandom random, byte[] frame, int offset) {
      int kind = random.nextInt(8);
      if (kind < 4) {
        for (int i = random.nextInt(4); i > 0; i--) {
          textPage(random, frame, offset + random.nextInt(PAGE_SIZE - 64), 48);
        }
      } else if (kind < 6) {
        textPage(random, frame, offset, PAGE_SIZE);
      } else if (kind == 6) {
        codePage(random, frame, offset);
      } else {
        randomPage(random, frame, offset);
      }
    }
  };

  static final int PAGE_SIZE = 4096;
  static final int PAGES = 64;
  static final int FRAME_BYTES = PAGES * PAGE_SIZE;

  private static final byte[][] WORDS = words();

  /** The frame's bytes, the same for a given content on every call. */
  byte[] frame() {
    SplittableRandom random = new SplittableRandom(Content.SEED + ordinal());
    byte[] frame = new byte[FRAME_BYTES];
    for (int p = 0; p < PAGES; p++) {
      page(random, frame, p * PAGE_SIZE);
    }
    return frame;
  }

  abstract void page(SplittableRandom random, byte[] frame, int offset);

  private static void randomPage(SplittableRandom random, byte[] frame, int offset) {
    for (int i = 0; i < PAGE_SIZE; i += 8) {
      long v = random.nextLong();
      for (int b = 0; b < 8; b++) {
        frame[offset + i + b] = (byte) (v >>> (8 * b));
      }
    }
  }

  private static void textPage(SplittableRandom random, byte[] frame, int offset, int length) {
    int end = offset + length;
    int i = offset;
    while (i < end) {
      // Zipf-like: the minimum of two uniform draws favours the first words.
      byte[] word = WORDS[Math.min(random.nextInt(WORDS.length), random.nextInt(WORDS.length))];
      for (int b = 0; b < word.length && i < end; b++) {
        frame[i++] = word[b];
      }
      if (i < end) {
        frame[i++] = (byte) (random.nextInt(12) == 0 ? '\n' : ' ');
      }
    }
  }

  /** x86-like code: a few frequent opcodes, small immediates, and random 32-bit displacements. */
  private static void codePage(SplittableRandom random, byte[] frame, int offset) {
    byte[] opcodes = {
      0x48, (byte) 0x89, (byte) 0x8b, (byte) 0xe8, (byte) 0xc3, 0x55, 0x5d, 0x0f, (byte) 0x85, 0x74
    };
    int end = offset + PAGE_SIZE;
    int i = offset;
    while (i < end) {
      frame[i++] =
          opcodes[Math.min(random.nextInt(opcodes.length), random.nextInt(opcodes.length))];
      if (i < end && random.nextInt(3) == 0) {
        frame[i++] = (byte) random.nextInt(16);
      }
      if (random.nextInt(6) == 0) {
        int displacement = random.nextInt();
        for (int b = 0; b < 4 && i < end; b++) {
          frame[i++] = (byte) (displacement >>> (8 * b));
        }
      }
    }
  }

  private static byte[][] words() {
    String[] words =
        ("the of and to in is that it was for on are as with his they at be this from have or by"
                + " one had not but what all were when we there can an your which their said if do"
                + " will each about how up out them then she many some so these would other into"
                + " has more her two like him see time could no make than first been its who now"
                + " people my made over did down only way find use may water long little very"
                + " after words called just where most know memory page migration guest host"
                + " network channel frame compression throughput latency")
            .split(" ");
    byte[][] bytes = new byte[words.length][];
    for (int i = 0; i < words.length; i++) {
      bytes[i] = words[i].getBytes(StandardCharsets.US_ASCII);
    }
    return bytes;
  }
}
