package io.github.precopy.core;

/** The state of a migration, named as QEMU's {@code MigrationStatus}. */
public enum MigrationStatus {
  /** Bitmaps are being set up and the first sync taken. */
  SETUP("setup"),
  /** Precopy rounds are running while the guest runs. */
  ACTIVE("active"),
  /** Every page arrived; the source guest stays paused. */
  COMPLETED("completed"),
  /** The migration failed; the source guest runs on. */
  FAILED("failed"),
  /** The migration was cancelled; the source guest runs on. */
  CANCELLED("cancelled");

  private final String qemuName;

  MigrationStatus(String qemuName) {
    this.qemuName = qemuName;
  }

  /** The name QEMU's {@code query-migrate} uses, e.g. {@code completed}. */
  public String qemuName() {
    return qemuName;
  }

  /** Whether the migration is over. */
  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
