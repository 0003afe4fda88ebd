package io.github.precopy.examples;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Migrating your own memory: a small in-memory store keeps its records in a {@link GuestMemory} of
 * two RAM blocks, which it fills itself, and one writer thread keeps updating them. The store
 * implements {@link Guest}: {@link Guest#pause()} waits for the write in flight and holds the
 * writer until {@link Guest#resume()}. The migration runs while the writer writes, into a
 * destination memory of the same layout in this process, and the engine then compares every page.
 */
public final class OwnMemoryExample {

  private static final long RECORDS_BYTES = 64L << 20;
  private static final long INDEX_ADDRESS = 1L << 32;
  private static final long INDEX_BYTES = 16L << 20;

  private OwnMemoryExample() {}

  /** The same two blocks for source and destination: records at 0, an index at 4 GiB. */
  static GuestMemory layout() {
    return GuestMemory.builder()
        .anonymousBlock("records", 0, RECORDS_BYTES)
        .anonymousBlock("index", INDEX_ADDRESS, INDEX_BYTES)
        .build();
  }

  /** The store: its memory, and a writer thread that pause() stops at a safe point. */
  static final class Store implements Guest, AutoCloseable {
    private final GuestMemory memory;
    private final Thread writer;
    private boolean paused;
    private boolean writing;
    private boolean closed;
    private long updates;

    Store(GuestMemory memory) {
      this.memory = memory;
      this.writer = new Thread(this::updateRecords, "store-writer");
      writer.setDaemon(true);
    }

    /** Fills the records and the index, then starts the writer. */
    void start() {
      for (long address = 0; address < RECORDS_BYTES; address += Long.BYTES) {
        memory.writeLong(address, address * 31 + 7);
      }
      for (long address = 0; address < INDEX_BYTES; address += Long.BYTES) {
        memory.writeLong(INDEX_ADDRESS + address, address);
      }
      writer.start();
    }

    /** Updates random records, resting 20 µs between updates, as a busy store would. */
    private void updateRecords() {
      SplittableRandom random = new SplittableRandom(7);
      while (true) {
        synchronized (this) {
          while (paused && !closed) {
            waitUninterruptibly();
          }
          if (closed) {
            return;
          }
          writing = true;
        }
        long record = random.nextLong(RECORDS_BYTES / Long.BYTES) * Long.BYTES;
        memory.writeLong(record, random.nextLong());
        synchronized (this) {
          writing = false;
          updates++;
          notifyAll();
        }
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(20));
      }
    }

    @Override
    public GuestMemory memory() {
      return memory;
    }

    @Override
    public synchronized void pause() {
      paused = true;
      while (writing) {
        waitUninterruptibly();
      }
    }

    @Override
    public synchronized void resume() {
      paused = false;
      notifyAll();
    }

    @Override
    public synchronized boolean isRunning() {
      return !paused && !closed;
    }

    synchronized long updates() {
      return updates;
    }

    /** Stops the writer, waiting for it to end, and unmaps the memory. */
    @Override
    public void close() {
      synchronized (this) {
        closed = true;
        notifyAll();
      }
      boolean interrupted = false;
      while (writer.isAlive()) {
        try {
          writer.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      memory.close();
    }

    private void waitUninterruptibly() {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Runs the example.
   *
   * @throws IllegalStateException if the migration did not arrive intact
   */
  public static void main(String[] args) throws InterruptedException {
    MigrationEngine engine = MigrationEngine.create();
    try (GuestMemory destination = layout();
        Store store = new Store(layout())) {
      store.start();

      MigrationConfig config =
          MigrationConfig.builder().downtimeLimit(Duration.ofMillis(100)).build();
      MigrationStats stats = engine.startInProcess(store, destination, config).await();

      // Completed: the store stays paused, as a migrated guest does until it is shut down.
      long record = 12_345 * Long.BYTES;
      System.out.printf(
          "status %s in %d ms, downtime %d ms, %d syncs, %d updates during the migration%n",
          stats.status().qemuName(),
          stats.totalTimeMillis(),
          stats.downtimeMillis(),
          stats.ram().dirtySyncCount(),
          store.updates());
      System.out.printf(
          "record at 0x%x: source %d, destination %d; verification %d mismatches in %d pages%n",
          record,
          store.memory().readLong(record),
          destination.readLong(record),
          stats.verification().mismatches(),
          stats.verification().pagesChecked());
      if (stats.status() != MigrationStatus.COMPLETED
          || stats.verification().mismatches() != 0
          || store.memory().readLong(record) != destination.readLong(record)) {
        throw new IllegalStateException("the store did not arrive intact: " + stats);
      }
    }
  }
}
