package io.github.precopy.xbzrle;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameters of XBZRLE, named and bounded as QEMU's {@code migrate-set-parameters}.
 *
 * @param cacheSize {@code xbzrle-cache-size}: the page cache's size in bytes, a power of two no
 *     less than the page size (4096), as QEMU requires, and at most 1 GiB, the most one Java array
 *     of pages holds; default 64 MiB, QEMU's
 */
record XbzrleParameters(long cacheSize) {

  static final String CACHE_SIZE = "xbzrle-cache-size";

  /** QEMU's default cache size, 64 MiB. */
  static final long DEFAULT_CACHE_SIZE = 64L << 20;

  /** The largest cache: 2<sup>18</sup> pages in one array. */
  static final long MAX_CACHE_SIZE = 1L << 30;

  /** QEMU's defaults. */
  static final XbzrleParameters DEFAULTS = new XbzrleParameters(DEFAULT_CACHE_SIZE);

  /** As the project's other sizes: digits, an optional fraction and binary suffix k, m, g or t. */
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)([kmgt]?)");

  private static final String SUFFIXES = "kmgt";

  XbzrleParameters {
    if (cacheSize < XbzrleEncoding.PAGE_SIZE || Long.bitCount(cacheSize) != 1) {
      throw new IllegalArgumentException(
          CACHE_SIZE
              + " "
              + cacheSize
              + " is not a power of two no less than the page size "
              + XbzrleEncoding.PAGE_SIZE);
    }
    if (cacheSize > MAX_CACHE_SIZE) {
      throw tooLarge(Long.toString(cacheSize));
    }
  }

  /** The cache's number of pages. */
  int slots() {
    return (int) (cacheSize / XbzrleEncoding.PAGE_SIZE);
  }

  /**
   * The parameters a migration's options set, QEMU's defaults for the others; options of other
   * capabilities are ignored. {@code xbzrle-cache-size} is a number of bytes with an optional
   * binary suffix k, m, g or t ({@code 67108864}, {@code 64m}, {@code 0.5g}).
   *
   * @throws IllegalArgumentException naming {@code xbzrle-cache-size} if its value is not a size or
   *     out of range
   */
  static XbzrleParameters from(Map<String, String> options) {
    String value = options.get(CACHE_SIZE);
    if (value == null) {
      return DEFAULTS;
    }
    Matcher matcher = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          CACHE_SIZE
              + " '"
              + value
              + "' is not a size: a number of bytes with an optional binary suffix k, m, g or t,"
              + " e.g. 4096 or 64m");
    }
    String suffix = matcher.group(2);
    int shift = suffix.isEmpty() ? 0 : 10 * (SUFFIXES.indexOf(suffix) + 1);
    BigDecimal bytes = new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(1L << shift));
    if (bytes.compareTo(BigDecimal.valueOf(MAX_CACHE_SIZE)) > 0) {
      throw tooLarge("'" + value + "'");
    }
    if (bytes.stripTrailingZeros().scale() > 0) {
      throw new IllegalArgumentException(
          CACHE_SIZE + " '" + value + "' is not a whole number of bytes");
    }
    return new XbzrleParameters(bytes.longValueExact());
  }

  private static IllegalArgumentException tooLarge(String value) {
    return new IllegalArgumentException(
        CACHE_SIZE + " " + value + " is more than 1g, the largest cache this plugin holds");
  }
}
