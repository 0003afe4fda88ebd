package io.github.precopy.examples;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.DirtyTracking;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.DestinationReport;
import io.github.precopy.core.transport.IncomingMigration;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.core.transport.TransportOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Migrating memory that the application writes itself, with no precopy call on its write path: an
 * in-memory table of 64-byte rows lives in a region the application maps ({@code /dev/shm}, as
 * QEMU's {@code memory-backend-memfd}), and two of its threads keep updating rows through a plain
 * {@link ByteBuffer} while the table is migrated over TCP to another process. The kernel sees the
 * writes ({@linkplain DirtyTracking#KERNEL kernel dirty tracking}: Linux 6.7+, JDK 22+ with {@code
 * precopy-kernel} on the class path).
 *
 * <p>The table is a {@link Guest} of one {@linkplain GuestMemory.Builder#applicationBlock
 * application-mapped block}: pausing it holds the writers between two row updates, its own lock,
 * not precopy's. The destination process maps a region of its own, receives into it, checks the
 * digest of the pages (the engine's verification) and then every row's checksum, and prints the sum
 * of the rows' versions, which the source compares with its own at switch-over.
 *
 * <p>Run: {@code java -cp examples/target/precopy.jar
 * io.github.precopy.examples.OffHeapTableExample} on JDK 22 or later.
 */
public final class OffHeapTableExample {

  static final int ROW_BYTES = 64;
  private static final long TABLE_BYTES = 64L << 20;
  private static final int ROWS = (int) (TABLE_BYTES / ROW_BYTES);
  private static final String DESTINATION = "destination";

  private OffHeapTableExample() {}

  /**
   * Runs the source, which starts the destination as a second JVM; with the argument {@code
   * destination}, runs the destination.
   *
   * @throws IllegalStateException if the table did not arrive intact
   * @throws UnsupportedOperationException if kernel dirty tracking is unavailable here
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals(DESTINATION)) {
      receive();
    } else {
      send();
    }
  }

  private static void send() throws Exception {
    DirtyTracking.unavailableReason(DirtyTracking.KERNEL)
        .ifPresent(
            reason -> {
              throw new UnsupportedOperationException(reason);
            });
    Table table = new Table(mapShared(TABLE_BYTES));
    table.fill();
    Process destination = startDestination();
    try (BufferedReader replies =
            new BufferedReader(
                new InputStreamReader(destination.getInputStream(), StandardCharsets.UTF_8));
        GuestMemory memory =
            GuestMemory.builder().applicationBlock("table", 0, List.of(table.rows)).build()) {
      int port = Integer.parseInt(expectLine(replies, "listening on ").trim());
      table.startWriters(2);
      MigrationStats stats =
          MigrationEngine.create()
              .start(
                  table.guest(memory),
                  MigrationConfig.builder().dirtyTracking(DirtyTracking.KERNEL).build(),
                  MigrationTarget.tcp("127.0.0.1", port, TransportOptions.defaults()))
              .await();
      // A completed migration leaves the table paused at its switch-over state.
      long versions = table.versionSum();
      String arrived = expectLine(replies, "destination: ");
      table.stopWriters();
      System.out.printf(
          "source: %s in %d ms, %d bytes, %d updates by the application, verification %s,"
              + " version sum %d%n",
          stats.status().qemuName(),
          stats.totalTimeMillis(),
          stats.ram().transferred(),
          table.updates(),
          stats.verification(),
          versions);
      System.out.println("destination: " + arrived);
      if (!destination.waitFor(30, TimeUnit.SECONDS) || destination.exitValue() != 0) {
        throw new IllegalStateException("the destination failed: " + arrived);
      }
      if (stats.status() != MigrationStatus.COMPLETED
          || !arrived.contains("version sum " + versions + ",")) {
        throw new IllegalStateException("the table did not arrive intact: " + stats);
      }
    } finally {
      destination.destroy();
    }
  }

  /** The destination: its own region, received into, then every row checked. */
  private static void receive() throws IOException {
    Table table = new Table(mapShared(TABLE_BYTES));
    try (GuestMemory memory =
            GuestMemory.builder().applicationBlock("table", 0, List.of(table.rows)).build();
        IncomingMigration incoming =
            IncomingMigration.listen(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TransportOptions.defaults())) {
      System.out.println("listening on " + incoming.address().getPort());
      System.out.flush();
      DestinationReport report = incoming.receive(memory);
      int broken = table.brokenRows();
      System.out.printf(
          "destination: %s, %d pages checked, %d rows, %d with a bad checksum, version sum %d,"
              + " %d bytes%n",
          report.verified() ? "verified" : "NOT verified: " + report.failure(),
          report.pagesVerified(),
          ROWS,
          broken,
          table.versionSum(),
          report.bytesRead());
      System.out.flush();
      System.exit(report.verified() && broken == 0 ? 0 : 1);
    }
  }

  private static Process startDestination() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(OffHeapTableExample.class.getName());
    command.add(DESTINATION);
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static String expectLine(BufferedReader replies, String prefix) throws IOException {
    for (String line = replies.readLine(); line != null; line = replies.readLine()) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length());
      }
    }
    throw new IllegalStateException("the destination ended without printing '" + prefix + "'");
  }

  /** A region of shared memory on {@code /dev/shm}, mapped by the application itself. */
  private static ByteBuffer mapShared(long bytes) throws IOException {
    Path file = Files.createTempFile(Path.of("/dev/shm"), "table-", ".mem");
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes).order(ByteOrder.nativeOrder());
    } finally {
      Files.delete(file);
    }
  }

  /**
   * The application's table: row {@code i} holds its version, 48 bytes derived from the row and
   * version, and a checksum of both. Writers hold {@link #gate} only around one row update.
   */
  static final class Table {
    final ByteBuffer rows;
    private final Object gate = new Object();
    private final List<Thread> writers = new ArrayList<>();
    private boolean paused;
    private boolean stopped;
    private int writing;
    private long updates;

    Table(ByteBuffer rows) {
      this.rows = rows;
    }

    void fill() {
      for (int row = 0; row < ROWS; row++) {
        writeRow(row, 1);
      }
    }

    void startWriters(int count) {
      for (int i = 0; i < count; i++) {
        long seed = i;
        Thread writer = new Thread(() -> update(new SplittableRandom(seed)), "table-writer-" + i);
        writer.setDaemon(true);
        writers.add(writer);
        writer.start();
      }
    }

    void stopWriters() throws InterruptedException {
      synchronized (gate) {
        stopped = true;
        gate.notifyAll();
      }
      for (Thread writer : writers) {
        writer.join();
      }
    }

    long updates() {
      synchronized (gate) {
        return updates;
      }
    }

    /** Updates random rows, a little faster than a busy store, until stopped. */
    private void update(SplittableRandom random) {
      while (true) {
        synchronized (gate) {
          while (paused && !stopped) {
            try {
              gate.wait();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          if (stopped) {
            return;
          }
          writing++;
        }
        int row = random.nextInt(ROWS);
        writeRow(row, rows.getLong(row * ROW_BYTES) + 1);
        synchronized (gate) {
          writing--;
          updates++;
          gate.notifyAll();
        }
      }
    }

    /** Plain stores into the mapped region: nothing here tells precopy about them. */
    private void writeRow(int row, long version) {
      int at = row * ROW_BYTES;
      rows.putLong(at, version);
      for (int word = 1; word < 7; word++) {
        rows.putLong(at + word * Long.BYTES, payload(row, version, word));
      }
      rows.putLong(at + 7 * Long.BYTES, checksum(row, at));
    }

    private static long payload(int row, long version, int word) {
      return (row * 0x9E3779B97F4A7C15L) ^ (version * 0xC2B2AE3D27D4EB4FL) ^ word;
    }

    private long checksum(int row, int at) {
      long sum = row;
      for (int word = 0; word < 7; word++) {
        sum = sum * 31 + rows.getLong(at + word * Long.BYTES);
      }
      return sum;
    }

    int brokenRows() {
      int broken = 0;
      for (int row = 0; row < ROWS; row++) {
        int at = row * ROW_BYTES;
        long version = rows.getLong(at);
        boolean intact = version >= 1 && rows.getLong(at + 7 * Long.BYTES) == checksum(row, at);
        for (int word = 1; intact && word < 7; word++) {
          intact = rows.getLong(at + word * Long.BYTES) == payload(row, version, word);
        }
        if (!intact) {
          broken++;
        }
      }
      return broken;
    }

    long versionSum() {
      long sum = 0;
      for (int row = 0; row < ROWS; row++) {
        sum += rows.getLong(row * ROW_BYTES);
      }
      return sum;
    }

    /** The table as the engine sees it: pause() returns once no row update is in flight. */
    Guest guest(GuestMemory memory) {
      return new Guest() {
        @Override
        public GuestMemory memory() {
          return memory;
        }

        @Override
        public void pause() {
          synchronized (gate) {
            paused = true;
            while (writing > 0) {
              try {
                gate.wait();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while pausing the table", e);
              }
            }
          }
        }

        @Override
        public void resume() {
          synchronized (gate) {
            paused = false;
            gate.notifyAll();
          }
        }

        @Override
        public boolean isRunning() {
          synchronized (gate) {
            return !paused;
          }
        }
      };
    }
  }
}
