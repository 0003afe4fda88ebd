package io.github.precopy.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class RamRegionTest {

  @Test
  void aNamedRegionAtANonNegativeAddressKeepsItsFigures() {
    RamRegion region = new RamRegion("pc.ram", 1L << 32, 64L << 20);

    assertThat(region.name()).isEqualTo("pc.ram");
    assertThat(region.guestAddress()).isEqualTo(1L << 32);
    assertThat(region.lengthBytes()).isEqualTo(64L << 20);
  }

  @Test
  void anEmptyRegionAtAddressZeroIsAllowed() {
    RamRegion region = new RamRegion("empty", 0, 0);

    assertThat(region.guestAddress()).isZero();
    assertThat(region.lengthBytes()).isZero();
  }

  @Test
  void aNullNameIsRejected() {
    assertThatThrownBy(() -> new RamRegion(null, 0, 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RAM region name must not be empty");
  }

  @Test
  void anEmptyNameIsRejected() {
    assertThatThrownBy(() -> new RamRegion("", 0, 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RAM region name must not be empty");
  }

  @Test
  void aNegativeAddressIsRejectedNamingTheRegionAndBothFigures() {
    assertThatThrownBy(() -> new RamRegion("pc.ram", -4096, 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RAM region pc.ram: negative address -4096 or length 4096");
  }

  @Test
  void aNegativeLengthIsRejectedNamingTheRegionAndBothFigures() {
    assertThatThrownBy(() -> new RamRegion("vga.vram", 8192, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RAM region vga.vram: negative address 8192 or length -1");
  }
}
