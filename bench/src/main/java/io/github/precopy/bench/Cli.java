package io.github.precopy.bench;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Runs a bench tool's picocli command and exits: {@code --help} prints the usage (exit 0); a wrong
 * option prints one line and the usage on stderr (exit 2); a failure prints one line (exit 1).
 * Never a stack trace.
 */
final class Cli {

  private Cli() {}

  static void exit(Object command, String[] args) {
    CommandLine commandLine =
        new CommandLine(command)
            .setCaseInsensitiveEnumValuesAllowed(true)
            .setParameterExceptionHandler(Cli::badInput)
            .setExecutionExceptionHandler(Cli::failure);
    System.exit(commandLine.execute(args));
  }

  private static int badInput(ParameterException e, String[] args) {
    CommandLine commandLine = e.getCommandLine();
    PrintWriter err = commandLine.getErr();
    err.println(commandLine.getCommandName() + ": " + oneLine(e.getMessage()));
    commandLine.usage(err);
    err.flush();
    return commandLine.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static int failure(Exception e, CommandLine commandLine, ParseResult parsed) {
    String message = e.getMessage();
    commandLine
        .getErr()
        .println(
            commandLine.getCommandName()
                + ": "
                + oneLine(message == null || message.isBlank() ? e.toString() : message));
    commandLine.getErr().flush();
    return commandLine.getCommandSpec().exitCodeOnExecutionException();
  }

  /** {@code text} on one line: line breaks and tabs become spaces. */
  static String oneLine(String text) {
    return text.strip().replaceAll("[\\s&&[^ ]]+", " ");
  }
}
