package io.github.precopy.examples.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A TCP endpoint as {@code HOST:PORT}; an IPv6 address goes in brackets ({@code [::1]:4444}). The
 * host is not resolved here.
 *
 * @param host a host name or address, without brackets
 * @param port 0 to 65535
 */
record HostPort(String host, int port) {

  /**
   * Parses {@code HOST:PORT}.
   *
   * @throws IllegalArgumentException naming the expected form
   */
  static HostPort parse(String text) {
    int colon = text.lastIndexOf(':');
    String host = colon < 0 ? "" : text.substring(0, colon);
    String port = colon < 0 ? "" : text.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      host = "";
    }
    if (host.isBlank() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:4444 or"
              + " [::1]:4444");
    }
    return new HostPort(host, Integer.parseInt(port));
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** The picocli converter. */
  static final class Converter implements ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
