package io.github.precopy.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shared benchmark lock, {@code flock(2)} on a file (by default {@code
 * /tmp/precopy-bench.lock}, the lock the QEMU anchor harness takes), held by a {@code flock(1)}
 * child process for as long as this object is open. Java's {@code FileChannel.lock} takes a POSIX
 * record lock, which does not exclude {@code flock(2)} holders on Linux, hence the child: it
 * acquires the lock, says so, then waits for its standard input to close. Closing this object, or
 * this JVM dying, closes that input and releases the lock.
 */
final class BenchLock implements AutoCloseable {

  private final Process process;
  private final long waitedMillis;

  private BenchLock(Process process, long waitedMillis) {
    this.process = process;
    this.waitedMillis = waitedMillis;
  }

  /** Waits for the lock on {@code file}; null {@code file} is no lock at all. */
  static BenchLock acquire(Path file) throws IOException, InterruptedException {
    long start = System.nanoTime();
    if (file == null) {
      return new BenchLock(null, 0);
    }
    Process process =
        new ProcessBuilder(
                List.of("flock", file.toString(), "sh", "-c", "echo locked; exec cat > /dev/null"))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = reader.readLine();
    if (!"locked".equals(line)) {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new IOException(
          "flock " + file + " did not take the lock (is flock(1) installed?), said " + line);
    }
    return new BenchLock(process, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /** How long the lock took to come. */
  long waitedMillis() {
    return waitedMillis;
  }

  /** Releases the lock. */
  @Override
  public void close() throws IOException, InterruptedException {
    if (process == null) {
      return;
    }
    process.getOutputStream().close();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor();
    }
  }
}
