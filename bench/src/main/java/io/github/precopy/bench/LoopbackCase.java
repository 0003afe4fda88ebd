package io.github.precopy.bench;

import java.util.Locale;

/**
 * One case of {@link LoopbackThroughput}: the destination's memory, the transport, the channels.
 */
record LoopbackCase(LoopbackCase.Memory memory, LoopbackCase.Transport transport, int channels) {

  /** The destination's memory, with QEMU 7.2's rate into such memory (issue #6). */
  enum Memory {
    /** Allocated and written once before the first migration, refilled before each one. */
    PREALLOC(2.5, 2.75),
    /** A fresh, never touched mapping per migration: first-touch faults are part of the copy. */
    COLD(0.4, 0.8);

    private final double qemuLowGibps;
    private final double qemuHighGibps;

    Memory(double qemuLowGibps, double qemuHighGibps) {
      this.qemuLowGibps = qemuLowGibps;
      this.qemuHighGibps = qemuHighGibps;
    }

    /** QEMU 7.2 → QEMU 7.2 over loopback on 2 cores, GiB/s: bottom of the range. */
    double qemuLowGibps() {
      return qemuLowGibps;
    }

    /** QEMU 7.2 → QEMU 7.2 over loopback on 2 cores, GiB/s: top of the range. */
    double qemuHighGibps() {
      return qemuHighGibps;
    }

    /** The option value, e.g. {@code prealloc}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Plain TCP or mutual TLS 1.3. */
  enum Transport {
    PLAIN("plain TCP"),
    TLS("TLS 1.3");

    private final String label;

    Transport(String label) {
      this.label = label;
    }

    String label() {
      return label;
    }

    /** The option value, e.g. {@code plain}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** For the log, e.g. {@code prealloc / tls / 2 ch}. */
  String label() {
    return memory + " / " + transport + " / " + channels + " ch";
  }
}
