package io.github.precopy.xbzrle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

final class XbzrleParametersTest {

  @Test
  void withoutOptionsTheCacheIsQemusDefaultOf64MiB() {
    assertThat(XbzrleParameters.from(Map.of())).isEqualTo(new XbzrleParameters(67108864));
    assertThat(XbzrleParameters.DEFAULTS.slots()).isEqualTo(16384);
  }

  @Test
  void theCacheSizeIsBytesWithAnOptionalBinarySuffixAndOtherOptionsAreIgnored() {
    assertThat(size("4096")).isEqualTo(4096);
    assertThat(size(" 256M ")).isEqualTo(256L << 20);
    assertThat(size("8k")).isEqualTo(8192);
    assertThat(size("0.5m")).isEqualTo(512L << 10);
    assertThat(size("1g")).isEqualTo(1L << 30);
    assertThat(XbzrleParameters.from(Map.of("xbzrle-cache-size", "128m", "max-cpu-throttle", "x")))
        .isEqualTo(new XbzrleParameters(128L << 20));
  }

  @Test
  void aCacheSizeThatIsNotAPowerOfTwoOfAtLeastAPageIsRefusedAsQemuRefusesIt() {
    assertThatThrownBy(() -> size("2048"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("xbzrle-cache-size 2048 is not a power of two no less than the page size 4096");
    assertThatThrownBy(() -> size("0"))
        .hasMessage("xbzrle-cache-size 0 is not a power of two no less than the page size 4096");
    assertThatThrownBy(() -> size("12k"))
        .hasMessage(
            "xbzrle-cache-size 12288 is not a power of two no less than the page size 4096");
  }

  @Test
  void aCacheSizeThatIsNotASizeOrTooLargeIsRefusedNamingTheParameter() {
    String form =
        "' is not a size: a number of bytes with an optional binary suffix k, m, g or t,"
            + " e.g. 4096 or 64m";
    assertThatThrownBy(() -> size("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("xbzrle-cache-size 'lots" + form);
    assertThatThrownBy(() -> size("-4096")).hasMessage("xbzrle-cache-size '-4096" + form);
    assertThatThrownBy(() -> size("64 m")).hasMessage("xbzrle-cache-size '64 m" + form);
    assertThatThrownBy(() -> size("")).hasMessage("xbzrle-cache-size '" + form);
    assertThatThrownBy(() -> size("1.5"))
        .hasMessage("xbzrle-cache-size '1.5' is not a whole number of bytes");
    assertThatThrownBy(() -> size("2g"))
        .hasMessage("xbzrle-cache-size '2g' is more than 1g, the largest cache this plugin holds");
    assertThatThrownBy(() -> size("99999999999999999999999t"))
        .hasMessageStartingWith("xbzrle-cache-size '99999999999999999999999t' is more than 1g");
  }

  private static long size(String value) {
    return XbzrleParameters.from(Map.of("xbzrle-cache-size", value)).cacheSize();
  }
}
