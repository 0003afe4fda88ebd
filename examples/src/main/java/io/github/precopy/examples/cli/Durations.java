package io.github.precopy.examples.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations as the command line writes them: {@code 500ms}, {@code 60s}, {@code 2m}, {@code 1h};
 * from 1 ms to 24 h.
 */
final class Durations {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** The longest duration accepted; socket timeouts take at most 2^31 - 1 ms (24.8 days). */
  private static final Duration MAX = Duration.ofHours(24);

  private Durations() {}

  /**
   * Parses a positive duration.
   *
   * @throws IllegalArgumentException naming the accepted forms if {@code text} is not one
   */
  static Duration parse(String text) {
    Matcher matcher = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration: write a whole number with ms, s, m or h, e.g. 60s");
    }
    long amount;
    try {
      amount = Long.parseLong(matcher.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too long a duration", e);
    }
    Duration duration =
        switch (matcher.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          default -> Duration.ofHours(amount);
        };
    if (duration.isZero() || duration.compareTo(MAX) > 0) {
      throw new IllegalArgumentException("'" + text + "' is not a duration from 1ms to 24h");
    }
    return duration;
  }

  /** {@code duration} as "60 s" when whole seconds, else as "1500 ms". */
  static String describe(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }

  /** The picocli converter for duration options. */
  static final class Converter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
