package io.github.precopy.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code precopy} command line: {@code migrate} and {@code incoming}. Bad input gets one line
 * on stderr and exit code 2; a failure while running, an {@link Error} included, gets one line and
 * exit code 1. Nothing prints a stack trace: not a command, not a warning the library logs, not a
 * thread that dies.
 */
@Command(
    name = "precopy",
    mixinStandardHelpOptions = true,
    versionProvider = Precopy.Version.class,
    description = "Live migration of paged memory on the JVM with QEMU's precopy algorithm.",
    subcommands = {MigrateCommand.class, IncomingCommand.class, CommandLine.HelpCommand.class})
public final class Precopy implements Callable<Integer> {

  @Spec private CommandSpec spec;

  /** Runs the command line and exits with its exit code. */
  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    quietInfoLogging();
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> {
          System.err.println("precopy: thread " + thread.getName() + " failed: " + describe(e));
          System.err.flush();
        });
    int exitCode;
    try {
      exitCode = commandLine().execute(args);
    } catch (Throwable e) {
      System.err.println("precopy: " + describe(e));
      System.err.flush();
      exitCode = ExitCode.SOFTWARE;
    }
    System.exit(exitCode);
  }

  /** The command line with its subcommands and the one-line error handling. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Precopy());
    commandLine.setParameterExceptionHandler(Precopy::badInput);
    commandLine.setExecutionExceptionHandler(Precopy::failure);
    commandLine.setExecutionStrategy(Precopy::run);
    commandLine
        .getSubcommands()
        .get("migrate")
        .getCommandSpec()
        .usageMessage()
        .footer(WorkloadHelp.footer());
    return commandLine;
  }

  /** Without a subcommand: the usage, on stderr. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  private static int badInput(ParameterException e, String[] args) {
    CommandLine commandLine = e.getCommandLine();
    StringBuilder line = new StringBuilder(oneLine(e.getMessage()));
    if (e instanceof UnmatchedArgumentException unmatched) {
      List<String> suggestions = unmatched.getSuggestions();
      if (!suggestions.isEmpty()) {
        line.append("; did you mean ").append(String.join(" or ", suggestions)).append('?');
      }
    }
    String name = commandLine.getCommandSpec().qualifiedName();
    commandLine.getErr().println(name + ": " + line + " (see " + name + " --help)");
    commandLine.getErr().flush();
    return commandLine.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * Runs the chosen command; an {@link Error} thrown by it (a memory fault on a full {@code
   * /dev/shm}, running out of heap), which picocli would let through with its stack trace, becomes
   * one line and exit code 1 as any other failure does.
   */
  private static int run(ParseResult parsed) {
    try {
      return new CommandLine.RunLast().execute(parsed);
    } catch (Error e) {
      ParseResult last = parsed;
      while (last.hasSubcommand()) {
        last = last.subcommand();
      }
      return failure(e, last.commandSpec().commandLine(), parsed);
    }
  }

  private static int failure(Throwable e, CommandLine commandLine, ParseResult parsed) {
    commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + describe(e));
    commandLine.getErr().flush();
    return ExitCode.SOFTWARE;
  }

  /**
   * {@code e} in one line: its message, or for an {@link Error} or a message-less exception its
   * type and message ("java.lang.OutOfMemoryError: Java heap space").
   */
  static String describe(Throwable e) {
    String message = e.getMessage();
    return oneLine(
        e instanceof Error || message == null || message.isBlank() ? e.toString() : message);
  }

  private static String oneLine(String text) {
    return text.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  /**
   * The engine logs found and enabled capabilities at INFO through {@link System.Logger}, which
   * would land on stderr between the progress bar and the results; the command line shows only
   * warnings, each on one line without a stack trace ({@link OneLineLogFormat}), unless a logging
   * configuration is given.
   */
  private static void quietInfoLogging() {
    if (System.getProperty("java.util.logging.config.file") == null
        && System.getProperty("java.util.logging.config.class") == null) {
      Logger root = Logger.getLogger("");
      root.setLevel(Level.WARNING);
      for (Handler handler : root.getHandlers()) {
        handler.setLevel(Level.WARNING);
        handler.setFormatter(new OneLineLogFormat());
      }
    }
  }

  /**
   * A log record as one line on stderr, "precopy: WARNING: message: the exception", never with a
   * stack trace.
   */
  static final class OneLineLogFormat extends Formatter {
    @Override
    public String format(LogRecord record) {
      StringBuilder line =
          new StringBuilder("precopy: ")
              .append(record.getLevel().getName())
              .append(": ")
              .append(formatMessage(record));
      if (record.getThrown() != null) {
        line.append(": ").append(record.getThrown());
      }
      return oneLine(line.toString()) + System.lineSeparator();
    }
  }

  /** The version from the runnable jar's manifest. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Precopy.class.getPackage().getImplementationVersion();
      return new String[] {"precopy " + (version == null ? "(development build)" : version)};
    }
  }
}
