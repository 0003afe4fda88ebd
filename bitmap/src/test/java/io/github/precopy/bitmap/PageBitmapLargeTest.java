package io.github.precopy.bitmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A 2^34-bit bitmap (2 GiB of words): bit indices far past {@code int} range. */
final class PageBitmapLargeTest {

  private static final long SIZE = 1L << 34;

  @Test
  void bitmapOf2To34BitsWorksAtItsHighEnd() {
    long maxMemory = Runtime.getRuntime().maxMemory();
    assumeTrue(
        maxMemory > 3L << 30,
        "a 2^34-bit bitmap needs 2 GiB of words and a heap above 3 GiB; max heap is "
            + (maxMemory >> 20)
            + " MiB");
    PageBitmap bitmap = new PageBitmap(SIZE);
    long top = SIZE - 1;
    bitmap.set(top);
    bitmap.set(top - 64);
    bitmap.set(top - 65);
    bitmap.set(1L << 32);

    assertThat(bitmap.size()).isEqualTo(SIZE);
    assertThat(bitmap.get(top)).isTrue();
    assertThat(bitmap.get(top - 1)).isFalse();
    assertThat(bitmap.cardinality()).isEqualTo(4);
    assertThat(bitmap.cardinality(SIZE - 200, SIZE)).isEqualTo(3);
    assertThat(bitmap.nextSetBit(0)).isEqualTo(1L << 32);
    assertThat(bitmap.nextSetBit((1L << 32) + 1)).isEqualTo(top - 65);
    assertThat(bitmap.nextSetBit(top - 63)).isEqualTo(top);
    assertThat(bitmap.nextSetBit(SIZE)).isEqualTo(-1);
    assertThat(bitmap.nextClearBit(top - 65)).isEqualTo(top - 63);

    List<Long> visited = new ArrayList<>();
    assertThat(bitmap.forEachSetBit(SIZE - 1000, SIZE, visited::add)).isEqualTo(3);
    assertThat(visited).containsExactly(top - 65, top - 64, top);

    assertThat(bitmap.setRange(SIZE - 130, SIZE)).isEqualTo(127);
    assertThat(bitmap.nextClearBit(SIZE - 130)).isEqualTo(-1);
    assertThat(bitmap.testAndClear(top)).isTrue();
    assertThat(bitmap.clearRange(SIZE - 130, SIZE)).isEqualTo(129);
    assertThat(bitmap.cardinality()).isEqualTo(1);
  }
}
