package io.github.precopy.examples.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes in bytes as the command line writes them: a number with an optional binary suffix {@code
 * k}, {@code m}, {@code g} or {@code t} ({@code 64m} is 64 MiB), and their human-readable form.
 */
final class Sizes {

  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)([kmgt]?)");
  private static final String SUFFIXES = "kmgt";
  private static final String[] UNITS = {"bytes", "KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException naming the accepted forms if {@code text} is not a size
   */
  static long parse(String text) {
    String trimmed = text.trim().toLowerCase(Locale.ROOT);
    Matcher matcher = SIZE.matcher(trimmed);
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not a size: write a non-negative number of bytes with an optional k, m, g"
              + " or t suffix (binary), e.g. 64m or 2g");
    }
    int power = matcher.group(2).isEmpty() ? 0 : SUFFIXES.indexOf(matcher.group(2)) + 1;
    BigDecimal bytes =
        new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(1024).pow(power));
    try {
      return bytes.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a whole number of bytes below 8 EiB", e);
    }
  }

  /** {@code bytes} in the largest binary unit that keeps the number at least 1, e.g. "1.50 GiB". */
  static String format(long bytes) {
    int unit = 0;
    double value = bytes;
    while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.2f %s", value, UNITS[unit]);
  }

  /** The picocli converter for size options. */
  static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
