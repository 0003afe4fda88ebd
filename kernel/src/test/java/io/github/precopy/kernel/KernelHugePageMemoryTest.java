package io.github.precopy.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.HugePageMemoryProvider;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
final class KernelHugePageMemoryTest {

  private static final long MIB = 1L << 20;

  private final KernelHugePageMemory provider = new KernelHugePageMemory();

  @Test
  void isAvailableHereAndFoundByTheServiceLoader() {
    assertThat(provider.unavailableReason()).isEmpty();
    assertThat(ServiceLoader.load(HugePageMemoryProvider.class).findFirst())
        .hasValueSatisfying(found -> assertThat(found).isInstanceOf(KernelHugePageMemory.class));
  }

  @Test
  void touchedMemoryIsBackedByHugePagesAndReadsBackWhatWasWritten() throws IOException {
    try (HugePageMemoryProvider.Mapping mapping = provider.map(64 * MIB)) {
      ByteBuffer region = mapping.regions().get(0);
      long address = MemorySegment.ofBuffer(region).address();
      assertThat(address % (2 * MIB)).as("2 MiB aligned").isZero();
      assertThat(region.capacity()).isEqualTo(64 * MIB);
      assertThat(region.getLong(12345 * 8)).as("zeroed").isZero();
      for (int at = 0; at < region.capacity(); at += 4096) {
        region.putInt(at, at);
      }
      for (int at = 0; at < region.capacity(); at += 4096) {
        assertThat(region.getInt(at)).isEqualTo(at);
      }

      assertThat(anonHugePagesKib(address)).as("AnonHugePages of the mapping").isPositive();
    }
  }

  @Test
  void largeMemoryComesInRegionsOfOneGibibyte() {
    try (HugePageMemoryProvider.Mapping mapping = provider.map((2L << 30) + 8 * MIB)) {
      List<ByteBuffer> regions = mapping.regions();
      assertThat(regions)
          .extracting(ByteBuffer::capacity)
          .containsExactly(1 << 30, 1 << 30, 8 << 20);
    }
  }

  @Test
  void aClosedMappingCannotBeTouched() {
    HugePageMemoryProvider.Mapping mapping = provider.map(4 * MIB);
    ByteBuffer region = mapping.regions().get(0);
    region.putLong(0, 1);

    mapping.close();
    mapping.close();

    assertThatThrownBy(() -> region.getLong(0)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aSizeThatIsNotWholePagesIsRefused() {
    assertThatThrownBy(() -> provider.map(4097))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("huge-page memory of 4097 bytes: not a positive multiple of 4096");
  }

  /** The {@code AnonHugePages} of the mapping that holds {@code address}, from smaps. */
  private static long anonHugePagesKib(long address) throws IOException {
    boolean inside = false;
    for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
      if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
        String[] range = line.substring(0, line.indexOf(' ')).split("-");
        inside =
            Long.parseUnsignedLong(range[0], 16) <= address
                && address < Long.parseUnsignedLong(range[1], 16);
      } else if (inside && line.startsWith("AnonHugePages:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new AssertionError("no mapping holds 0x" + Long.toHexString(address));
  }
}
