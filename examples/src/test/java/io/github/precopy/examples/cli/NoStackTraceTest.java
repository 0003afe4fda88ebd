package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line never prints a stack trace: not for an {@link Error} a command throws (picocli
 * lets those through), not for a warning the library logs with an exception.
 */
final class NoStackTraceTest {

  /** A command that meets a memory fault, as a write to a full /dev/shm mapping does. */
  @Command(name = "fault")
  static final class Fault implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new InternalError("a fault occurred in an unsafe memory access operation");
    }
  }

  @Test
  void anErrorWhileRunningIsOneLineAndExitCode1() {
    CommandLine commandLine = Precopy.commandLine();
    commandLine.addSubcommand("fault", new Fault());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));

    int exitCode = commandLine.execute("fault");

    assertThat(exitCode).isEqualTo(1);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString().lines())
        .singleElement()
        .asString()
        .isEqualTo(
            "precopy fault: java.lang.InternalError: a fault occurred in an unsafe memory access"
                + " operation");
  }

  @Test
  void aWarningLoggedWithAnExceptionIsOneLine() {
    LogRecord record = new LogRecord(Level.WARNING, "optimisation {0} failed during {1}");
    record.setParameters(new Object[] {"free-page-hint", "SETUP"});
    record.setThrown(
        new IllegalStateException("cannot map guest memory", new InternalError("bus error")));

    String line = new Precopy.OneLineLogFormat().format(record);

    assertThat(line)
        .isEqualTo(
            "precopy: WARNING: optimisation free-page-hint failed during SETUP:"
                + " java.lang.IllegalStateException: cannot map guest memory"
                + System.lineSeparator());
  }
}
