package io.github.precopy.examples.cli;

import io.github.precopy.core.ConvergencePolicies;
import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The options that take one of a few names, and their picocli converters. */
final class Choices {

  private Choices() {}

  /** Where the migration stream goes. */
  enum Transport {
    IN_PROCESS("in-process"),
    TCP("tcp"),
    FILE("file");

    final String cliName;

    Transport(String cliName) {
      this.cliName = cliName;
    }
  }

  /** How results are printed. */
  enum Output {
    TEXT("text"),
    JSON("json");

    final String cliName;

    Output(String cliName) {
      this.cliName = cliName;
    }
  }

  /** What a bounded migration does when its bound is reached. */
  enum GiveUp {
    FAIL("fail", ConvergencePolicies.GiveUp.FAIL),
    SWITCH_OVER("switch-over", ConvergencePolicies.GiveUp.SWITCH_OVER);

    final String cliName;
    final ConvergencePolicies.GiveUp policy;

    GiveUp(String cliName, ConvergencePolicies.GiveUp policy) {
      this.cliName = cliName;
      this.policy = policy;
    }
  }

  private static <E extends Enum<E>> E parse(
      Class<E> type, String value, Function<E, String> name) {
    for (E choice : type.getEnumConstants()) {
      if (name.apply(choice).equals(value)) {
        return choice;
      }
    }
    throw new TypeConversionException(
        "'"
            + value
            + "' is not one of "
            + Arrays.stream(type.getEnumConstants()).map(name).collect(Collectors.joining(", ")));
  }

  static final class TransportConverter implements ITypeConverter<Transport> {
    @Override
    public Transport convert(String value) {
      return parse(Transport.class, value, t -> t.cliName);
    }
  }

  static final class OutputConverter implements ITypeConverter<Output> {
    @Override
    public Output convert(String value) {
      return parse(Output.class, value, o -> o.cliName);
    }
  }

  static final class GiveUpConverter implements ITypeConverter<GiveUp> {
    @Override
    public GiveUp convert(String value) {
      return parse(GiveUp.class, value, g -> g.cliName);
    }
  }
}
