package io.github.precopy.sim;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one parser of quantities the project's command lines and workload options read: sizes, rates
 * and durations, with the same rules everywhere.
 *
 * <ul>
 *   <li>A number is digits with an optional decimal fraction ({@code 64}, {@code 1.5}); no sign, no
 *       exponent, no blanks inside. Case does not matter.
 *   <li><b>Size</b>: a number of bytes with an optional binary suffix {@code k} (KiB), {@code m}
 *       (MiB), {@code g} (GiB) or {@code t} (TiB): {@code 4096}, {@code 64m}, {@code 1.5g}.
 *   <li><b>Rate</b>: a size per second, optionally written with {@code /s}: {@code 128m} or {@code
 *       128m/s}.
 *   <li><b>Duration</b>: a number with a unit {@code ms}, {@code s}, {@code m} (minutes) or {@code
 *       h}: {@code 300ms}, {@code 60s}, {@code 1.5h}. A bare number is ambiguous and rejected,
 *       except where an option documents a default unit ({@link #parseDurationOrMillis}).
 *   <li>The value must come to a whole number of bytes or milliseconds ({@code 1.5k} is 1536 bytes;
 *       {@code 0.5ms} is rejected) and stay below 2<sup>63</sup>.
 * </ul>
 *
 * <p>Parsing checks the form only; every value from zero up parses. Which values an option accepts
 * (a positive rate, a timeout of 1 ms to 24 h, a whole number of pages) is the option's rule.
 *
 * <p>Every method throws {@link IllegalArgumentException} with a one-line message that quotes the
 * text and names the accepted form. Stateless and thread-safe.
 */
public final class Units {

  private static final Pattern NUMBER_AND_UNIT = Pattern.compile("(\\d+(?:\\.\\d+)?)([a-z]*)");
  private static final String SIZE_SUFFIXES = "kmgt";
  private static final String[] BYTE_UNITS = {"bytes", "KiB", "MiB", "GiB", "TiB"};

  /** How a size is written, for messages and help. */
  public static final String SIZE_FORM =
      "a number of bytes with an optional binary suffix k, m, g or t, e.g. 4096, 64m or 1.5g";

  /** How a rate is written, for messages and help. */
  public static final String RATE_FORM =
      "a number of bytes per second with an optional binary suffix k, m, g or t, e.g. 64k, 128m"
          + " or 1g/s";

  /** How a duration is written, for messages and help. */
  public static final String DURATION_FORM =
      "a number with a unit ms, s, m or h, e.g. 500ms, 60s or 1.5h";

  private Units() {}

  /**
   * Parses a size in bytes: {@code 4096}, {@code 64k}, {@code 1.5g}, {@code 2T}.
   *
   * @throws IllegalArgumentException if {@code text} is not a size
   */
  public static long parseSize(String text) {
    return bytes(text, text == null ? null : normalise(text), "size", SIZE_FORM);
  }

  /**
   * Parses a rate in bytes per second: a size, optionally followed by {@code /s} ({@code 128m},
   * {@code 128m/s}, {@code 1t}).
   *
   * @throws IllegalArgumentException if {@code text} is not a rate
   */
  public static long parseRate(String text) {
    String normal = text == null ? null : normalise(text);
    if (normal != null && normal.endsWith("/s")) {
      normal = normal.substring(0, normal.length() - 2);
    }
    return bytes(text, normal, "rate", RATE_FORM);
  }

  /**
   * Parses a duration with a unit: {@code 300ms}, {@code 60s}, {@code 2m}, {@code 1.5h}.
   *
   * @throws IllegalArgumentException if {@code text} is not a duration with a unit
   */
  public static Duration parseDuration(String text) {
    return duration(text, false);
  }

  /**
   * Parses a duration as {@link #parseDuration} does, and also takes a bare number as milliseconds
   * ({@code 300} is 300 ms), as QEMU's {@code downtime-limit} does.
   *
   * @throws IllegalArgumentException if {@code text} is neither
   */
  public static Duration parseDurationOrMillis(String text) {
    return duration(text, true);
  }

  /** {@code bytes} in the largest binary unit that keeps the number at least 1, e.g. "1.50 GiB". */
  public static String formatBytes(long bytes) {
    int unit = 0;
    double value = bytes;
    while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0
        ? bytes + " bytes"
        : String.format(Locale.ROOT, "%.2f %s", value, BYTE_UNITS[unit]);
  }

  /**
   * {@code bytes} as a size that {@link #parseSize} reads back exactly, with the largest suffix
   * that divides it: {@code 65536} is "64k", {@code 1 << 30} is "1g", {@code 1000} is "1000".
   */
  public static String formatSize(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("size " + bytes + " is negative");
    }
    int power = 0;
    long value = bytes;
    while (value != 0 && value % 1024 == 0 && power < SIZE_SUFFIXES.length()) {
      value /= 1024;
      power++;
    }
    return power == 0 ? Long.toString(value) : value + SIZE_SUFFIXES.substring(power - 1, power);
  }

  private static String normalise(String text) {
    return text.trim().toLowerCase(Locale.ROOT);
  }

  private static long bytes(String text, String normal, String what, String form) {
    Matcher matcher = normal == null ? null : NUMBER_AND_UNIT.matcher(normal);
    if (matcher == null || !matcher.matches() || matcher.group(2).length() > 1) {
      throw notA(text, what, form);
    }
    String suffix = matcher.group(2);
    int power = suffix.isEmpty() ? 0 : SIZE_SUFFIXES.indexOf(suffix) + 1;
    if (power == 0 && !suffix.isEmpty()) {
      throw notA(text, what, form);
    }
    return whole(
        text, new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(1024).pow(power)), what);
  }

  private static Duration duration(String text, boolean bareMillis) {
    String form =
        bareMillis ? DURATION_FORM + ", or a bare number of milliseconds, e.g. 300" : DURATION_FORM;
    Matcher matcher = text == null ? null : NUMBER_AND_UNIT.matcher(normalise(text));
    if (matcher == null || !matcher.matches()) {
      throw notA(text, "duration", form);
    }
    long millisPerUnit =
        switch (matcher.group(2)) {
          case "ms" -> 1;
          case "s" -> 1_000;
          case "m" -> 60_000;
          case "h" -> 3_600_000;
          case "" -> bareMillis ? 1 : -1;
          default -> -1;
        };
    if (millisPerUnit < 0) {
      throw notA(text, "duration", form);
    }
    return Duration.ofMillis(
        whole(
            text,
            new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(millisPerUnit)),
            "duration"));
  }

  private static long whole(String text, BigDecimal value, String what) {
    String base = what.equals("duration") ? "milliseconds" : "bytes";
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > 0) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a " + what + ": it is not a whole number of " + base);
    }
    try {
      return stripped.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a " + what + ": it is 2^63 " + base + " or more", e);
    }
  }

  private static IllegalArgumentException notA(String text, String what, String form) {
    return new IllegalArgumentException("'" + text + "' is not a " + what + ": write " + form);
  }
}
