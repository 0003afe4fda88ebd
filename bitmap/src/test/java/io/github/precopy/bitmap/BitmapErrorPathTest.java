package io.github.precopy.bitmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every rejected argument, and that each message names the value and the bound. */
final class BitmapErrorPathTest {

  private static final long MAX = PageBitmap.MAX_SIZE_BITS;

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {-1, -64, Long.MIN_VALUE, MAX + 1, Long.MAX_VALUE})
  void sizeOutsideTheSupportedRangeIsRejected(long size) {
    String message = "size in bits " + size + " out of range [0, " + MAX + "]";

    assertThatThrownBy(() -> new PageBitmap(size))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
    assertThatThrownBy(() -> new AtomicPageBitmap(size))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 64, 100})
  void indexBelowZeroOrAtSizeIsRejectedAndChangesNothing(long size) {
    PageBitmap bitmap = new PageBitmap(size);
    AtomicPageBitmap log = new AtomicPageBitmap(size);
    for (long index : new long[] {-1, size, Long.MIN_VALUE, Long.MAX_VALUE}) {
      Map<String, ThrowingCallable> calls = new LinkedHashMap<>();
      calls.put("get", () -> bitmap.get(index));
      calls.put("set", () -> bitmap.set(index));
      calls.put("clear", () -> bitmap.clear(index));
      calls.put("testAndClear", () -> bitmap.testAndClear(index));
      calls.put("markDirty", () -> log.markDirty(index));
      calls.put("isDirty", () -> log.isDirty(index));
      calls.forEach(
          (name, call) ->
              assertThatThrownBy(call)
                  .as("%s(%d) on size %d", name, index, size)
                  .isInstanceOf(IndexOutOfBoundsException.class)
                  .hasMessage("bit index " + index + " out of range [0, " + size + ")"));
    }
    assertNothingSet(bitmap, log);
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 64, 100})
  void scanStartsAtSizeButNotBelowZeroOrAfterIt(long size) {
    PageBitmap bitmap = new PageBitmap(size);
    bitmap.setRange(0, size);

    assertThat(bitmap.nextSetBit(size)).isEqualTo(-1);
    assertThat(bitmap.nextClearBit(size)).isEqualTo(-1);
    for (long from : new long[] {-1, size + 1, Long.MIN_VALUE, Long.MAX_VALUE}) {
      String message = "from index " + from + " out of range [0, " + size + "]";
      assertThatThrownBy(() -> bitmap.nextSetBit(from))
          .as("nextSetBit(%d) on size %d", from, size)
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage(message);
      assertThatThrownBy(() -> bitmap.nextClearBit(from))
          .as("nextClearBit(%d) on size %d", from, size)
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage(message);
    }
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 64, 100})
  void rangeOutsideTheBitmapIsRejectedAndChangesNothing(long size) {
    PageBitmap bitmap = new PageBitmap(size);
    AtomicPageBitmap log = new AtomicPageBitmap(size);
    assertRangeRejected(bitmap, log, -1, 0, IndexOutOfBoundsException.class, fromMessage(-1, size));
    assertRangeRejected(
        bitmap,
        log,
        Long.MIN_VALUE,
        size,
        IndexOutOfBoundsException.class,
        fromMessage(Long.MIN_VALUE, size));
    assertRangeRejected(
        bitmap,
        log,
        0,
        size + 1,
        IndexOutOfBoundsException.class,
        "to index " + (size + 1) + " out of range [0, " + size + "]");
    assertRangeRejected(
        bitmap,
        log,
        size,
        Long.MAX_VALUE,
        IndexOutOfBoundsException.class,
        "to index " + Long.MAX_VALUE + " out of range [0, " + size + "]");
    assertNothingSet(bitmap, log);
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 64, 100})
  void reversedRangeIsRejectedNamingBothEnds(long size) {
    PageBitmap bitmap = new PageBitmap(size);
    AtomicPageBitmap log = new AtomicPageBitmap(size);
    assertRangeRejected(
        bitmap, log, 1, 0, IllegalArgumentException.class, "from index 1 > to index 0");
    assertRangeRejected(
        bitmap,
        log,
        size + 5,
        size + 2,
        IllegalArgumentException.class,
        "from index " + (size + 5) + " > to index " + (size + 2));
    assertNothingSet(bitmap, log);
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 64})
  void nullArgumentsAreRejected(long size) {
    PageBitmap bitmap = new PageBitmap(size);
    AtomicPageBitmap log = new AtomicPageBitmap(size);

    assertThatThrownBy(() -> bitmap.forEachSetBit(0, size, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("visitor is null");
    assertThatThrownBy(() -> log.drainInto(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("target is null");
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 64, 100})
  void drainIntoATargetOfAnotherSizeIsRejected(long size) {
    AtomicPageBitmap log = new AtomicPageBitmap(size);

    assertThatThrownBy(() -> log.drainInto(new PageBitmap(size + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target size " + (size + 1) + " != dirty log size " + size);
  }

  private static void assertRangeRejected(
      PageBitmap bitmap,
      AtomicPageBitmap log,
      long from,
      long to,
      Class<? extends RuntimeException> type,
      String message) {
    Map<String, ThrowingCallable> calls = new LinkedHashMap<>();
    calls.put("cardinality", () -> bitmap.cardinality(from, to));
    calls.put("setRange", () -> bitmap.setRange(from, to));
    calls.put("clearRange", () -> bitmap.clearRange(from, to));
    calls.put("forEachSetBit", () -> bitmap.forEachSetBit(from, to, index -> true));
    calls.put("markDirtyRange", () -> log.markDirtyRange(from, to));
    calls.forEach(
        (name, call) ->
            assertThatThrownBy(call)
                .as("%s(%d, %d) on size %d", name, from, to, bitmap.size())
                .isInstanceOf(type)
                .hasMessage(message));
  }

  private static String fromMessage(long from, long size) {
    return "from index " + from + " out of range [0, " + size + "]";
  }

  private static void assertNothingSet(PageBitmap bitmap, AtomicPageBitmap log) {
    assertThat(bitmap.cardinality()).as("bitmap after rejected calls").isZero();
    assertThat(log.cardinality()).as("log after rejected calls").isZero();
  }
}
