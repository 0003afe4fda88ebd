package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.github.precopy.sim.WorkloadOption;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code migrate --help} and README list each workload's options as the workload declares them, and
 * every example value they show is valid for its workload.
 */
final class WorkloadHelpTest {

  /** {@code key=value} where the value is not a placeholder such as SHARE. */
  private static final Pattern EXAMPLE = Pattern.compile("([a-z][a-z-]*)=([^\\s,;A-Z`]+)");

  private static final Pattern README_ROW =
      Pattern.compile(
          "\\| `([a-z-]+)` \\| `([a-z-]+)=([A-Z]+)` \\| ([^|]+) \\| `([^`]+)` \\| ([^|]+) \\|"
              + " `([a-z-]+)=([^`]+)` \\|");

  @Test
  void migrateHelpListsEachWorkloadsOptionsWithDefaultsAndValidValues() {
    Map<String, List<String>> sections = workloadSections(help());

    assertThat(sections.keySet()).containsExactlyElementsOf(Workloads.names());
    for (String workload : Workloads.names()) {
      String section = String.join("\n", sections.get(workload));
      String words = section.replaceAll("\\s+", " ");
      assertThat(words).as(workload).contains(Workloads.summary(workload));
      for (WorkloadOption option : Workloads.options(workload)) {
        assertThat(section)
            .as(workload)
            .containsPattern("\n    " + option.name() + "=" + option.kind().label() + "[ \n]");
        assertThat(words)
            .as(workload)
            .contains(option.meaning())
            .contains("default " + option.defaultValue() + ", e.g. " + option.name() + "=")
            .contains("e.g. " + option.name() + "=" + option.example())
            .contains("valid: " + option.valid());
      }
    }
  }

  @Test
  void everyExampleValueInMigrateHelpIsValidForItsWorkload() {
    String help = help();
    Map<String, List<String>> sections = workloadSections(help);
    int checked = 0;
    for (Map.Entry<String, List<String>> section : sections.entrySet()) {
      for (String line : section.getValue()) {
        Matcher example = EXAMPLE.matcher(line);
        while (example.find()) {
          assertValid(section.getKey(), example.group(1), example.group(2));
          checked++;
        }
        Matcher defaults = Pattern.compile("default (\\S+), e\\.g\\. ([a-z-]+)=").matcher(line);
        if (defaults.find()) {
          assertValid(section.getKey(), defaults.group(2), defaults.group(1));
          checked++;
        }
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(20);
    assertCommandsValid(help);
    String description = help.substring(help.indexOf("--workload-option=KEY=VALUE"));
    description =
        description.substring(description.indexOf('\n'), description.indexOf("--capabilities"));
    Matcher example = EXAMPLE.matcher(description);
    assertThat(example.find()).as(description).isTrue();
    for (String workload : Workloads.names()) {
      assertValid(workload, example.group(1), example.group(2));
    }
  }

  @Test
  void readmeListsTheDeclaredOptionsAndEveryExampleIsValid() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    List<WorkloadOption> listed = new ArrayList<>();
    List<String> workloads = new ArrayList<>();
    Matcher row = README_ROW.matcher(readme);
    while (row.find()) {
      assertThat(row.group(7)).isEqualTo(row.group(2));
      workloads.add(row.group(1));
      listed.add(
          new WorkloadOption(
              row.group(2),
              WorkloadOption.Kind.valueOf(row.group(3)),
              row.group(4).trim(),
              row.group(5),
              row.group(6).trim(),
              row.group(8)));
      assertValid(row.group(1), row.group(2), row.group(8));
    }
    List<WorkloadOption> declared = new ArrayList<>();
    List<String> declaredWorkloads = new ArrayList<>();
    for (String workload : Workloads.names()) {
      for (WorkloadOption option : Workloads.options(workload)) {
        declared.add(option);
        declaredWorkloads.add(workload);
      }
    }
    assertThat(listed).containsExactlyElementsOf(declared);
    assertThat(workloads).containsExactlyElementsOf(declaredWorkloads);
    String commandLine = readme.substring(readme.indexOf("## Command line"));
    commandLine = commandLine.substring(0, commandLine.indexOf("### Workload options"));
    Matcher optionRow =
        Pattern.compile("\\| `--workload-option KEY=VALUE` \\|[^|]*`([a-z-]+)=([^`]+)`")
            .matcher(commandLine);
    assertThat(optionRow.find()).isTrue();
    for (String workload : Workloads.names()) {
      assertValid(workload, optionRow.group(1), optionRow.group(2));
    }
    assertCommandsValid(readme);
  }

  /** Every "--workload NAME ... --workload-option A=B,C=D" command in {@code text} is valid. */
  private static void assertCommandsValid(String text) {
    Matcher command =
        Pattern.compile("--workload ([a-z-]+)[ \\\\\\n]+--workload-option ([^\\s`]+)")
            .matcher(text);
    int commands = 0;
    while (command.find()) {
      String workload = command.group(1);
      assertThatCode(() -> Workloads.create(workload, WorkloadOptions.parse(command.group(2))))
          .as(command.group())
          .doesNotThrowAnyException();
      commands++;
    }
    assertThat(commands).as("example commands").isPositive();
  }

  private static void assertValid(String workload, String key, String value) {
    assertThatCode(() -> Workloads.create(workload, WorkloadOptions.defaults().with(key, value)))
        .as(workload + " " + key + "=" + value)
        .doesNotThrowAnyException();
  }

  private static String help() {
    Cli cli = new Cli();
    assertThat(cli.execute("migrate", "--help")).isZero();
    return cli.out();
  }

  /** The lines of each workload's section of the help, by workload. */
  private static Map<String, List<String>> workloadSections(String help) {
    Map<String, List<String>> sections = new LinkedHashMap<>();
    List<String> current = null;
    boolean inWorkloads = false;
    for (String line : help.lines().toList()) {
      if (line.startsWith("Workloads and their options")) {
        inWorkloads = true;
        continue;
      }
      if (!inWorkloads) {
        continue;
      }
      Matcher heading = Pattern.compile("^  ([a-z-]+): ").matcher(line);
      if (heading.find() && Workloads.names().contains(heading.group(1))) {
        current = new ArrayList<>();
        sections.put(heading.group(1), current);
      } else if (!line.startsWith("  ")) {
        current = null;
      }
      if (current != null) {
        current.add(line);
      }
    }
    return sections;
  }
}
