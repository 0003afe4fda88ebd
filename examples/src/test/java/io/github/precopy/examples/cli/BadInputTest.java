package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input: one line on stderr naming what is valid, exit code 2, no stack trace. */
final class BadInputTest {

  static Stream<Arguments> badInput() {
    return Stream.of(
        bad("is not a size", "migrate", "--memory", "2x"),
        bad("is not a size", "migrate", "--memory", "-64m"),
        bad("is too small; valid: 16.00 MiB to", "migrate", "--memory", "8m"),
        bad("not a whole number of 4 KiB pages", "migrate", "--memory", "16777217"),
        bad("does not fit twice (source and destination): /", "migrate", "--memory", "64t"),
        bad("does not fit: /", "incoming", "--memory", "64t"),
        bad("--vcpus -1 is outside 1 to 1024", "migrate", "--vcpus", "-1"),
        bad("'four' is not an int", "migrate", "--vcpus", "four"),
        bad(
            "valid workloads: idle, compile, busy, hot-set, uniform",
            "migrate",
            "--workload",
            "kernel-build"),
        bad(
            "its options are content, dirty-rate, in-use, init-on-alloc, profile, touched",
            "migrate",
            "--workload-option",
            "x=1"),
        bad("KEY=VALUE", "migrate", "--workload-option", "dirty-rate"),
        bad(
            "available: auto-converge, compression, free-page-hint, xbzrle",
            "migrate",
            "--capabilities",
            "compress"),
        bad("--max-bandwidth: max-bandwidth must be positive", "migrate", "--max-bandwidth", "0"),
        bad(
            "--max-bandwidth: max-bandwidth must be at least 40960 bytes/s (one 4096-byte page per"
                + " 100 ms window), got 1 bytes/s",
            "migrate",
            "--max-bandwidth",
            "1"),
        bad("'fast' is not a rate", "migrate", "--max-bandwidth", "fast"),
        bad("'-300' is not a duration", "migrate", "--downtime-limit", "-300"),
        bad(
            "--downtime-limit: downtime-limit must be in (0, 2000 s]",
            "migrate",
            "--downtime-limit",
            "0"),
        bad(
            "--downtime-limit: downtime-limit must be in (0, 2000 s]",
            "migrate",
            "--downtime-limit",
            "1h"),
        bad("is not a duration", "migrate", "--downtime-limit", "0.5ms"),
        bad("is not one of in-process, tcp, file", "migrate", "--transport", "udp"),
        bad(
            "Invalid value for option '--prealloc': 'yes' is not a boolean",
            "incoming",
            "--prealloc=yes"),
        bad(
            "--dirty-tracking soft: unknown dirty tracking 'soft'; available: software",
            "migrate",
            "--dirty-tracking",
            "soft"),
        bad("needs --transport tcp or file", "migrate", "--to", "127.0.0.1:4444"),
        bad("--transport tcp needs --to HOST:PORT", "migrate", "--transport", "tcp"),
        bad("--transport file needs --to FILE", "migrate", "--transport", "file"),
        bad(
            "directory /no/such does not exist",
            "migrate",
            "--transport",
            "file",
            "--to",
            "/no/such/f"),
        bad("is a directory, not a file", "migrate", "--transport", "file", "--to", "/tmp"),
        bad("--channels: channels 0 out of range [1, 64]", "migrate", "--channels", "0"),
        bad("--channels: channels 65 out of range [1, 64]", "incoming", "--channels", "65"),
        bad("--channels needs --transport tcp", "migrate", "--channels", "2"),
        bad("TLS options need --transport tcp", "migrate", "--tls-keystore", "k.p12"),
        bad(
            "TLS needs both --tls-keystore and --tls-truststore",
            "incoming",
            "--tls-keystore",
            "k.p12"),
        bad(
            "key store /no/such.p12 does not exist",
            "incoming",
            "--tls-keystore",
            "/no/such.p12",
            "--tls-truststore",
            "/no/such.p12",
            "--tls-password-file",
            "/dev/null"),
        bad(
            "--tls-password-file /no/such/pw: cannot read it",
            "incoming",
            "--tls-keystore",
            "k.p12",
            "--tls-truststore",
            "t.p12",
            "--tls-password-file",
            "/no/such/pw"),
        bad("leave out --listen", "incoming", "--from-file", "/etc/hostname", "--listen", "h:1"),
        bad(
            "--from-file /no/such/snapshot: no such file",
            "incoming",
            "--from-file",
            "/no/such/snapshot"),
        bad("is not a duration", "migrate", "--io-timeout", "long"),
        bad("is not HOST:PORT", "migrate", "--transport", "tcp", "--to", "localhost"),
        bad("is not HOST:PORT", "migrate", "--transport", "tcp", "--to", "localhost:70000"),
        bad("--to h:0: port 0 is not 1 to 65535", "migrate", "--transport", "tcp", "--to", "h:0"),
        bad("runs in process only", "migrate", "--compare", "--transport", "tcp", "--to", "h:1"),
        bad("does not exist", "migrate", "--chart", "/no/such/directory/chart.png"),
        bad("is not one of text, json", "migrate", "--output", "yaml"),
        bad("--max-syncs: maxSyncs must be at least 1", "migrate", "--max-syncs", "0"),
        bad("is not a duration", "migrate", "--timeout", "soon"),
        bad("is not a duration from 1ms to 24h", "migrate", "--settle", "0s"),
        bad("is not a duration", "migrate", "--settle", "-5s"),
        bad("is not one of fail, switch-over", "migrate", "--timeout", "5s", "--give-up", "no"),
        bad("--give-up needs --max-syncs or --timeout", "migrate", "--give-up", "fail"),
        bad("did you mean --memory?", "migrate", "--memroy", "2g"),
        bad("did you mean migrate", "migrat"),
        bad("is not HOST:PORT", "incoming", "--listen", "4444"),
        bad("unknown host", "incoming", "--listen", "no-such-host.invalid:4444"),
        bad("is not a duration from 1ms to 24h", "incoming", "--timeout", "0s"));
  }

  private static Arguments bad(String expected, String... args) {
    return Arguments.of(String.join(" ", args), expected, args);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void badInputGetsOneLineNamingWhatIsValid(String command, String expected, String[] args) {
    Cli cli = new Cli();

    int exitCode = cli.execute(args);

    assertThat(exitCode).isEqualTo(2);
    assertThat(cli.out()).isEmpty();
    assertThat(cli.err().lines())
        .singleElement()
        .asString()
        .startsWith("precopy")
        .contains(expected);
    assertThat(cli.err()).doesNotContain("Exception").doesNotContain("at io.");
  }
}
