package io.github.precopy.xbzrle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** QEMU's XBZRLE byte format, its limits, and a decoder that withstands any input. */
final class XbzrleEncodingTest {

  private static final int PAGE = XbzrleEncoding.PAGE_SIZE;
  private static final int LIMIT = XbzrleEncoding.MAX_ENCODED_BYTES;
  private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

  /** The example of QEMU's docs/xbzrle.txt. */
  private static final byte[] DOCS_OLD =
      page(1001, "05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 68 00 00 6b 00 6d");

  private static final byte[] DOCS_NEW =
      page(1001, "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 68 00 00 67 00 69");
  private static final String DOCS_ENCODED =
      "e9 07 0f 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 03 01 67 01 01 69";

  private static byte[] page(int at, String hex) {
    byte[] page = new byte[PAGE];
    byte[] bytes = HEX.parseHex(hex);
    System.arraycopy(bytes, 0, page, at, bytes.length);
    return page;
  }

  private static String encodeHex(byte[] old, byte[] cur) {
    byte[] dst = new byte[LIMIT];
    int length = XbzrleEncoding.encode(old, 0, cur, 0, dst, LIMIT);
    assertThat(length).isPositive();
    return HEX.formatHex(dst, 0, length);
  }

  private static byte[] decoded(byte[] old, byte[] encoding) {
    byte[] page = old.clone();
    XbzrleEncoding.decode(ByteBuffer.wrap(encoding), page, 0);
    return page;
  }

  @Test
  void theExampleOfQemusDocsEncodesToItsBytes() {
    assertThat(encodeHex(DOCS_OLD, DOCS_NEW)).isEqualTo(DOCS_ENCODED);
    assertThat(decoded(DOCS_OLD, HEX.parseHex(DOCS_ENCODED))).isEqualTo(DOCS_NEW);
  }

  @Test
  void equalPagesEncodeToNothing() {
    byte[] old = randomPage(new Random(1));
    assertThat(XbzrleEncoding.encode(old, 0, old.clone(), 0, new byte[LIMIT], LIMIT)).isZero();
  }

  @Test
  void aPageThatChangedEverywhereOverflows() {
    byte[] old = new byte[PAGE];
    byte[] cur = new byte[PAGE];
    Arrays.fill(cur, (byte) 1);
    assertThat(XbzrleEncoding.encode(old, 0, cur, 0, new byte[LIMIT], LIMIT)).isEqualTo(-1);
  }

  @Test
  void everySecondByteChangedOverflows() {
    byte[] old = new byte[PAGE];
    byte[] cur = new byte[PAGE];
    for (int i = 0; i < PAGE; i += 2) {
      cur[i] = 7;
    }
    assertThat(XbzrleEncoding.encode(old, 0, cur, 0, new byte[LIMIT], LIMIT)).isEqualTo(-1);
  }

  @Test
  void aChangeAtByteZeroStartsWithAnEmptyZeroRun() {
    assertThat(encodeHex(new byte[PAGE], page(0, "aa"))).isEqualTo("00 01 aa");
  }

  @Test
  void aChangeAtTheLastByteIsOneLongZeroRun() {
    assertThat(encodeHex(new byte[PAGE], page(4095, "bb"))).isEqualTo("ff 1f 01 bb");
  }

  @Test
  void runLengthsCrossTheOneByteBoundaryOfUleb128() {
    assertThat(encodeHex(new byte[PAGE], page(127, "01"))).isEqualTo("7f 01 01");
    assertThat(encodeHex(new byte[PAGE], page(128, "01"))).isEqualTo("80 01 01 01");

    byte[] cur = new byte[PAGE];
    Arrays.fill(cur, 10, 10 + 127, (byte) 3);
    assertThat(encodeHex(new byte[PAGE], cur)).startsWith("0a 7f 03").hasSize(3 * (2 + 127) - 1);
    cur[10 + 127] = 3;
    assertThat(encodeHex(new byte[PAGE], cur)).startsWith("0a 80 01 03").hasSize(3 * (3 + 128) - 1);
    assertThat(decoded(new byte[PAGE], HEX.parseHex(encodeHex(new byte[PAGE], cur))))
        .isEqualTo(cur);
  }

  @Test
  void lengthsAreUleb128OfAtMostTwoBytes() {
    byte[] dst = new byte[2];
    assertThat(XbzrleEncoding.writeLength(dst, 0, 127)).isEqualTo(1);
    assertThat(dst[0]).isEqualTo((byte) 0x7f);
    assertThat(XbzrleEncoding.writeLength(dst, 0, 128)).isEqualTo(2);
    assertThat(HEX.formatHex(dst)).isEqualTo("80 01");
    assertThat(XbzrleEncoding.writeLength(dst, 0, 16383)).isEqualTo(2);
    assertThat(HEX.formatHex(dst)).isEqualTo("ff 7f");
    assertThatThrownBy(() -> XbzrleEncoding.writeLength(dst, 0, 16384))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("length 16384 is not 0 to 16383");

    assertThat(decoded(new byte[PAGE], HEX.parseHex("80 00 01 05"))).isEqualTo(page(0, "05"));
    assertRejected("ff 7f 01 05", "zero run to byte 16383, past the page of 4096");
    assertRejected("80 80 01 01 05", "zero run length longer than two bytes");
    assertRejected("00 81 80 01 05", "nonzero run length longer than two bytes");
  }

  @Test
  void aFullPageEncodingIsOverflowAtTheLimitOfOneByteLessThanAPage() {
    // The change from byte 3: zero run 3 (1 byte), nonzero run 4093 (2 bytes) and its bytes: 4096.
    byte[] cur = new byte[PAGE];
    Arrays.fill(cur, 3, PAGE, (byte) 9);
    assertThat(XbzrleEncoding.encode(new byte[PAGE], 0, cur, 0, new byte[PAGE], PAGE))
        .isEqualTo(PAGE);
    assertThat(XbzrleEncoding.encode(new byte[PAGE], 0, cur, 0, new byte[LIMIT], LIMIT))
        .isEqualTo(-1);
  }

  @Test
  void likeQemuTheEncoderGivesUpWhenLessThanTwoBytesOfRoomRemainBeforeAZeroRun() {
    // Bytes 0 to n - 1 changed: "00", n as two bytes, the n bytes, then a zero run not written.
    byte[] cur = new byte[PAGE];
    Arrays.fill(cur, 0, 4090, (byte) 1);
    assertThat(XbzrleEncoding.encode(new byte[PAGE], 0, cur, 0, new byte[LIMIT], LIMIT))
        .isEqualTo(3 + 4090);
    cur[4090] = 1;
    assertThat(XbzrleEncoding.encode(new byte[PAGE], 0, cur, 0, new byte[LIMIT], LIMIT))
        .as("4094 bytes would fit, but QEMU checks for room before the last zero run")
        .isEqualTo(-1);
  }

  @Test
  void randomChangesRoundTripAndEncodeAsTheRunsSay() {
    long seed = Long.getLong("xbzrle.seed", System.nanoTime());
    System.out.println("seed=" + seed);
    Random random = new Random(seed);
    byte[] dst = new byte[LIMIT];
    int encoded = 0;
    for (int round = 0; round < 3000; round++) {
      byte[] old = randomPage(random);
      byte[] cur = changed(old, random);
      byte[] expected = naive(old, cur, null);
      int length = XbzrleEncoding.encode(old, 0, cur, 0, dst, LIMIT);
      String where = "seed " + seed + ", round " + round;
      if (expected.length == 0) {
        assertThat(length).as(where).isZero();
      } else if (expected.length <= LIMIT - 2) {
        assertThat(Arrays.copyOf(dst, length)).as(where).isEqualTo(expected);
        assertThat(decoded(old, expected)).as(where).isEqualTo(cur);
        encoded++;
      } else if (length < 0) {
        assertThat(expected.length).as(where).isGreaterThanOrEqualTo(LIMIT - 1);
      } else {
        assertThat(Arrays.copyOf(dst, length)).as(where).isEqualTo(expected);
      }
    }
    assertThat(encoded).as("seed " + seed).isGreaterThan(500);
  }

  @Test
  void aTruncatedEncodingIsRefusedUnlessItEndsBetweenRuns() {
    long seed = Long.getLong("xbzrle.seed", System.nanoTime());
    System.out.println("seed=" + seed);
    Random random = new Random(seed);
    List<byte[][]> cases = new ArrayList<>();
    cases.add(new byte[][] {DOCS_OLD, DOCS_NEW});
    for (int i = 0; i < 20; i++) {
      byte[] old = randomPage(random);
      cases.add(new byte[][] {old, changed(old, random)});
    }
    for (byte[][] pages : cases) {
      List<Integer> ends = new ArrayList<>();
      byte[] encoding = naive(pages[0], pages[1], ends);
      for (int length = 1; length < encoding.length; length++) {
        byte[] page = pages[0].clone();
        ByteBuffer prefix = ByteBuffer.wrap(encoding, 0, length);
        if (ends.contains(length)) {
          XbzrleEncoding.decode(prefix, page, 0);
        } else {
          assertThatThrownBy(() -> XbzrleEncoding.decode(prefix, page, 0))
              .as("seed %d, %d of %d bytes", seed, length, encoding.length)
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageStartingWith("malformed XBZRLE encoding");
          assertThat(page).isEqualTo(pages[0]);
          assertThat(prefix.position()).isZero();
        }
      }
    }
  }

  @Test
  void anyCorruptedByteIsRefusedOrDecodedWithinThePage() {
    byte[] valid = HEX.parseHex(DOCS_ENCODED);
    byte[] guard = new byte[PAGE];
    Arrays.fill(guard, (byte) 0x5a);
    byte[] guarded = new byte[3 * PAGE];
    int refused = 0;
    for (int at = 0; at < valid.length; at++) {
      for (int value = 0; value < 256; value++) {
        byte[] framed = new byte[valid.length + 8];
        Arrays.fill(framed, (byte) 0x80);
        System.arraycopy(valid, 0, framed, 4, valid.length);
        framed[4 + at] = (byte) value;
        ByteBuffer buffer = ByteBuffer.wrap(framed, 4, valid.length);
        Arrays.fill(guarded, (byte) 0x5a);
        String where = "byte " + at + " set to " + value;
        try {
          XbzrleEncoding.decode(buffer, guarded, PAGE);
          assertThat(buffer.position()).as(where).isEqualTo(4 + valid.length);
        } catch (IllegalArgumentException e) {
          assertThat(e).as(where).hasMessageStartingWith("malformed XBZRLE encoding");
          assertThat(Arrays.equals(guarded, PAGE, 2 * PAGE, guard, 0, PAGE))
              .as(where + ": refused, yet the page changed")
              .isTrue();
          refused++;
        }
        assertThat(Arrays.equals(guarded, 0, PAGE, guard, 0, PAGE)).as(where).isTrue();
        assertThat(Arrays.equals(guarded, 2 * PAGE, 3 * PAGE, guard, 0, PAGE)).as(where).isTrue();
      }
    }
    assertThat(refused).isPositive();
  }

  @Test
  void malformedEncodingsAreRefusedWithTheReason() {
    assertRejected("00", "zero run length cut short");
    assertRejected("05 01", "nonzero run length cut short");
    assertRejected("00 00 05", "empty nonzero run");
    assertRejected("00 01 05 00 01 06", "empty zero run");
    assertRejected("80 20 01 05", "nonzero run to byte 4097, past the page of 4096");
    assertRejected("ff 1f 02 05 06", "nonzero run to byte 4097, past the page of 4096");
    assertRejected("00 04 05 06 07", "nonzero run of 4 bytes with 3 left");
    assertRejected("00 01 05 01 01 06 07", "zero run length cut short");
    assertRejected("81 20 01 05", "zero run to byte 4097, past the page of 4096");
  }

  @Test
  void anEmptyEncodingLeavesThePageAsQemuDoes() {
    byte[] old = randomPage(new Random(2));
    assertThat(decoded(old, new byte[0])).isEqualTo(old);
  }

  private static void assertRejected(String hex, String reason) {
    byte[] old = randomPage(new Random(3));
    byte[] page = old.clone();
    assertThatThrownBy(() -> XbzrleEncoding.decode(ByteBuffer.wrap(HEX.parseHex(hex)), page, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(reason);
    assertThat(page).isEqualTo(old);
  }

  static byte[] randomPage(Random random) {
    byte[] page = new byte[PAGE];
    random.nextBytes(page);
    return page;
  }

  /** A copy of {@code old} with a few runs of changed bytes, or none, or one long run. */
  static byte[] changed(byte[] old, Random random) {
    byte[] cur = old.clone();
    int runs = random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 4 : 40);
    int longest = random.nextInt(8) == 0 ? PAGE : 300;
    for (int r = 0; r < runs; r++) {
      int start = random.nextInt(PAGE);
      int end = Math.min(PAGE, start + 1 + random.nextInt(longest));
      for (int i = start; i < end; i++) {
        cur[i] ^= (byte) (1 + random.nextInt(255));
      }
    }
    return cur;
  }

  /**
   * The encoding by the format's grammar alone, without a limit: maximal runs, the last zero run
   * left out. Adds to {@code ends} the lengths at which a run pair ends.
   */
  static byte[] naive(byte[] old, byte[] cur, List<Integer> ends) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (true) {
      int zero = i;
      while (i < PAGE && old[i] == cur[i]) {
        i++;
      }
      if (i == PAGE) {
        return out.toByteArray();
      }
      uleb(out, i - zero);
      int start = i;
      while (i < PAGE && old[i] != cur[i]) {
        i++;
      }
      uleb(out, i - start);
      out.write(cur, start, i - start);
      if (ends != null) {
        ends.add(out.size());
      }
    }
  }

  private static void uleb(ByteArrayOutputStream out, int n) {
    do {
      int b = n & 0x7f;
      n >>>= 7;
      out.write(n == 0 ? b : b | 0x80);
    } while (n != 0);
  }
}
