package io.github.precopy.bench;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Runs a bench tool's picocli command and exits: {@code --help} prints the usage (exit 0); a wrong
 * or unknown option prints one line and the usage on stderr (exit 2) before anything runs; a
 * failure, an {@link Error} included, prints one line (exit 1). Never a stack trace.
 */
final class Cli {

  private Cli() {}

  static void exit(Object command, String[] args) {
    int exitCode;
    try {
      exitCode = run(command, args, null, null);
    } catch (Throwable e) {
      System.err.println(describe(e));
      exitCode = 1;
    }
    System.exit(exitCode);
  }

  /**
   * Runs {@code command} with {@code args}, printing to {@code out} and {@code err} (null for
   * stdout and stderr), and returns the exit code.
   */
  static int run(Object command, String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine =
        new CommandLine(command)
            .setCaseInsensitiveEnumValuesAllowed(true)
            .setParameterExceptionHandler(Cli::badInput)
            .setExecutionExceptionHandler(Cli::failure)
            .setExecutionStrategy(Cli::execute);
    if (out != null) {
      commandLine.setOut(out);
    }
    if (err != null) {
      commandLine.setErr(err);
    }
    return commandLine.execute(args);
  }

  /** Runs the command; an {@link Error}, which picocli lets through, is one line too. */
  private static int execute(ParseResult parsed) {
    try {
      return new CommandLine.RunLast().execute(parsed);
    } catch (Error e) {
      return failure(e, parsed.commandSpec().commandLine(), parsed);
    }
  }

  private static int badInput(ParameterException e, String[] args) {
    CommandLine commandLine = e.getCommandLine();
    PrintWriter err = commandLine.getErr();
    err.println(commandLine.getCommandName() + ": " + oneLine(e.getMessage()));
    commandLine.usage(err);
    err.flush();
    return commandLine.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static int failure(Throwable e, CommandLine commandLine, ParseResult parsed) {
    commandLine.getErr().println(commandLine.getCommandName() + ": " + describe(e));
    commandLine.getErr().flush();
    return commandLine.getCommandSpec().exitCodeOnExecutionException();
  }

  /** {@code e} on one line: its message, or its type and message for an Error or without one. */
  private static String describe(Throwable e) {
    String message = e.getMessage();
    return oneLine(
        e instanceof Error || message == null || message.isBlank() ? e.toString() : message);
  }

  /** {@code text} on one line: line breaks and tabs become spaces. */
  static String oneLine(String text) {
    return text.strip().replaceAll("[\\s&&[^ ]]+", " ");
  }
}
