package io.github.precopy.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One option of a built-in workload as the workload declares it: its key, how its value is written,
 * what it means, its default, which values are valid and a valid example. {@link
 * Workloads#options(String)} lists them; the command line's help is generated from them.
 *
 * @param name the key in {@link WorkloadOptions}, e.g. {@code dirty-rate}
 * @param kind how the value is written
 * @param meaning what the option sets, one short line
 * @param defaultValue the value when the option is absent, as written, e.g. {@code 50%} or {@code
 *     64k}
 * @param valid the values the workload accepts, e.g. {@code 0% to 100%}
 * @param example a valid value, as written, e.g. {@code 1m}
 */
public record WorkloadOption(
    String name, Kind kind, String meaning, String defaultValue, String valid, String example) {

  /** How an option's value is written. */
  public enum Kind {
    /** A share of guest memory: {@code 0.25} or {@code 25%}. */
    SHARE("SHARE", "a share of guest memory, 0.25 or 25%"),
    /** Bytes per second, as {@link Units#parseRate} reads them. */
    RATE("RATE", "bytes per second with an optional binary suffix k, m, g or t, e.g. 128m"),
    /** Bytes, as {@link Units#parseSize} reads them. */
    SIZE("SIZE", "bytes with an optional binary suffix k, m, g or t, e.g. 16m"),
    /** One word of those the option lists as valid. */
    CHOICE("CHOICE", "one of the words listed as valid");

    private final String label;
    private final String form;

    Kind(String label, String form) {
      this.label = label;
      this.form = form;
    }

    /** The placeholder in help, e.g. {@code SHARE}. */
    public String label() {
      return label;
    }

    /** How a value of this kind is written, for help and messages. */
    public String form() {
      return form;
    }
  }

  /** Checks that every field is present. */
  public WorkloadOption {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(meaning, "meaning");
    Objects.requireNonNull(defaultValue, "defaultValue");
    Objects.requireNonNull(valid, "valid");
    Objects.requireNonNull(example, "example");
  }

  /** A share option; the default is written as a percentage. */
  static WorkloadOption share(
      String name, String meaning, double defaultShare, String valid, String example) {
    return new WorkloadOption(name, Kind.SHARE, meaning, percent(defaultShare), valid, example);
  }

  /** A rate option whose default is {@code defaultRate} bytes per second for the whole guest. */
  static WorkloadOption rate(String name, String meaning, double defaultRate, String example) {
    return new WorkloadOption(
        name, Kind.RATE, meaning, Units.formatSize((long) defaultRate), "positive", example);
  }

  /** A rate option that does not limit unless given. */
  static WorkloadOption unlimitedRate(String name, String meaning, String example) {
    return new WorkloadOption(
        name, Kind.RATE, meaning, "as fast as the vCPUs run", "positive", example);
  }

  /** A size option whose default is {@code defaultBytes}. */
  static WorkloadOption size(
      String name, String meaning, long defaultBytes, String valid, String example) {
    return new WorkloadOption(
        name, Kind.SIZE, meaning, Units.formatSize(defaultBytes), valid, example);
  }

  /** A choice among {@code values}, the first of which is the default. */
  static WorkloadOption choice(String name, String meaning, List<String> values, String example) {
    String valid =
        String.join(", ", values.subList(0, values.size() - 1))
            + " or "
            + values.get(values.size() - 1);
    return new WorkloadOption(name, Kind.CHOICE, meaning, values.get(0), valid, example);
  }

  /** {@code first} followed by {@code more}, unmodifiable. */
  static List<WorkloadOption> concat(List<WorkloadOption> first, WorkloadOption... more) {
    List<WorkloadOption> all = new ArrayList<>(first);
    all.addAll(List.of(more));
    return List.copyOf(all);
  }

  /** {@code share} as a percentage without needless decimals: 0.5 is "50%", 0.125 "12.5%". */
  static String percent(double share) {
    double percent = share * 100;
    return (percent == Math.rint(percent)
            ? Long.toString((long) percent)
            : Double.toString(percent))
        + "%";
  }
}
