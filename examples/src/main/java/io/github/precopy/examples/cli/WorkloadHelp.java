package io.github.precopy.examples.cli;

import io.github.precopy.sim.WorkloadOption;
import io.github.precopy.sim.Workloads;
import java.util.ArrayList;
import java.util.List;

/**
 * The section of {@code migrate --help} that lists each workload's options, generated from what the
 * workloads declare ({@link Workloads#options}), so that help, defaults and valid values cannot
 * drift apart.
 */
final class WorkloadHelp {

  private static final int WIDTH = 80;
  private static final String OPTION_INDENT = "    ";
  private static final int TEXT_COLUMN = 24;

  private WorkloadHelp() {}

  /** The footer lines, unformatted (a '%' is a percent sign). */
  static List<String> lines() {
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add("Workloads and their options (--workload NAME --workload-option KEY=VALUE):");
    WorkloadOption.Kind[] kinds = WorkloadOption.Kind.values();
    for (WorkloadOption.Kind kind : kinds) {
      lines.add(
          "  " + kind.label() + ": " + kind.form() + (kind == kinds[kinds.length - 1] ? "." : ";"));
    }
    for (String name : Workloads.names()) {
      lines.addAll(wrap("  " + name + ": ", Workloads.summary(name), 4));
      for (WorkloadOption option : Workloads.options(name)) {
        String head = OPTION_INDENT + option.name() + "=" + option.kind().label();
        if (head.length() + 2 > TEXT_COLUMN) {
          lines.add(head);
          head = "";
        }
        lines.addAll(wrap(pad(head, TEXT_COLUMN), option.meaning(), TEXT_COLUMN + 2));
        lines.addAll(
            wrap(
                pad("", TEXT_COLUMN),
                "default "
                    + option.defaultValue()
                    + ", e.g. "
                    + option.name()
                    + "="
                    + option.example(),
                TEXT_COLUMN + 2));
        lines.addAll(wrap(pad("", TEXT_COLUMN), "valid: " + option.valid(), TEXT_COLUMN + 2));
      }
    }
    lines.add("Example:");
    lines.add("  precopy migrate --memory 1g --workload uniform \\");
    lines.add("      --workload-option dirty-rate=128m,area=30%");
    return lines;
  }

  /** The footer as picocli takes it: every '%' doubled, since picocli formats footer lines. */
  static String[] footer() {
    return lines().stream().map(line -> line.replace("%", "%%")).toArray(String[]::new);
  }

  /** {@code text} after {@code first}, wrapped to the width, continuation lines indented. */
  private static List<String> wrap(String first, String text, int indent) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder(first);
    boolean empty = true;
    for (String word : text.split(" ")) {
      if (!empty && line.length() + 1 + word.length() > WIDTH) {
        lines.add(line.toString());
        line = new StringBuilder(" ".repeat(indent));
        empty = true;
      }
      if (!empty) {
        line.append(' ');
      }
      line.append(word);
      empty = false;
    }
    lines.add(line.toString());
    return lines;
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(Math.max(0, width - text.length()));
  }
}
