package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
final class InProcessPipeTest {

  @Test
  void bytesArriveInOrderAcrossChunksWhateverTheWriteAndReadSizes() throws Exception {
    long seed = TestMemories.seed("bytesArriveInOrderAcrossChunksWhateverTheWriteAndReadSizes");
    SplittableRandom random = new SplittableRandom(seed);
    byte[] data = new byte[3_000_000];
    random.nextBytes(data);
    InProcessPipe pipe = new InProcessPipe(64 * 1024, 4096);
    SplittableRandom writes = random.split();

    CompletableFuture<Void> sent =
        run(
            () -> {
              try (OutputStream out = pipe.source()) {
                int at = 0;
                while (at < data.length) {
                  if (writes.nextInt(50) == 0) {
                    out.write(data[at++]);
                  } else {
                    int n = Math.min(data.length - at, writes.nextInt(20_000));
                    out.write(data, at, n);
                    at += n;
                  }
                  if (writes.nextInt(20) == 0) {
                    out.flush();
                  }
                }
              }
            });
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    try (InputStream in = pipe.destination()) {
      byte[] buffer = new byte[30_000];
      while (true) {
        if (random.nextInt(50) == 0) {
          int b = in.read();
          if (b < 0) {
            break;
          }
          received.write(b);
        } else {
          int n = in.read(buffer, 0, 1 + random.nextInt(buffer.length));
          if (n < 0) {
            break;
          }
          received.write(buffer, 0, n);
        }
      }
      assertThat(in.read()).isEqualTo(-1);
    }
    sent.get();
    assertThat(received.toByteArray()).as("seed %d", seed).isEqualTo(data);
  }

  @Test
  void aFullPipeBlocksTheSourceUntilTheDestinationReads() throws Exception {
    int capacity = 4 * 1024;
    InProcessPipe pipe = new InProcessPipe(capacity, 1024);
    AtomicLong written = new AtomicLong();
    byte[] piece = new byte[100];
    CompletableFuture<Thread> writerThread = new CompletableFuture<>();
    CompletableFuture<Void> sent =
        run(
            () -> {
              writerThread.complete(Thread.currentThread());
              try (OutputStream out = pipe.source()) {
                for (int i = 0; i < 1000; i++) {
                  out.write(piece);
                  written.addAndGet(piece.length);
                }
              }
            });

    awaitWaiting(writerThread.get());
    assertThat(written.get()).isBetween((long) capacity - piece.length, (long) capacity);
    assertThat(sent).isNotDone();

    long total = 0;
    try (InputStream in = pipe.destination()) {
      byte[] buffer = new byte[777];
      for (int n; (n = in.read(buffer)) > 0; ) {
        total += n;
      }
    }
    sent.get();
    assertThat(total).isEqualTo(100_000);
  }

  @Test
  void closingTheSourceEndsTheInputOnlyAfterEverythingWasRead() throws IOException {
    InProcessPipe pipe = new InProcessPipe(8192, 1024);
    OutputStream out = pipe.source();
    out.write(new byte[3000]);
    out.close();
    out.close();

    InputStream in = pipe.destination();
    assertThat(in.readAllBytes()).hasSize(3000);
    assertThat(in.read()).isEqualTo(-1);
    assertThat(in.read(new byte[10])).isEqualTo(-1);
    assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
  }

  @Test
  void aFlushHandsAPartialChunkToTheDestinationAtOnce() throws Exception {
    InProcessPipe pipe = new InProcessPipe();
    pipe.source().write(new byte[] {1, 2, 3});
    pipe.source().flush();

    byte[] buffer = new byte[100];
    assertThat(pipe.destination().read(buffer)).isEqualTo(3);
    assertThat(buffer).startsWith(1, 2, 3);
  }

  @Test
  void closingTheDestinationFailsASourceBlockedOnAFullPipe() throws Exception {
    InProcessPipe pipe = new InProcessPipe(2048, 1024);
    CompletableFuture<Thread> writerThread = new CompletableFuture<>();
    CompletableFuture<Void> sent =
        run(
            () -> {
              writerThread.complete(Thread.currentThread());
              OutputStream out = pipe.source();
              while (true) {
                out.write(new byte[512]);
              }
            });
    awaitWaiting(writerThread.get());

    pipe.destination().close();

    assertThatThrownBy(sent::get)
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed by the destination");
    assertThatThrownBy(() -> pipe.destination().read())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("destination is closed");
  }

  @Test
  void abortingFailsADestinationWaitingForBytesWithTheCause() throws Exception {
    InProcessPipe pipe = new InProcessPipe();
    CompletableFuture<Thread> readerThread = new CompletableFuture<>();
    CompletableFuture<Void> received =
        run(
            () -> {
              readerThread.complete(Thread.currentThread());
              pipe.destination().read(new byte[10]);
            });
    awaitWaiting(readerThread.get());
    IllegalStateException cause = new IllegalStateException("migration cancelled");

    pipe.abort(cause);

    assertThatThrownBy(received::get).cause().isInstanceOf(IOException.class).hasCause(cause);
  }

  @Test
  void abortingFailsASourceBlockedOnAFullPipe() throws Exception {
    InProcessPipe pipe = new InProcessPipe(1024, 1024);
    CompletableFuture<Thread> writerThread = new CompletableFuture<>();
    CompletableFuture<Void> sent =
        run(
            () -> {
              writerThread.complete(Thread.currentThread());
              OutputStream out = pipe.source();
              while (true) {
                out.write(new byte[300]);
              }
            });
    awaitWaiting(writerThread.get());
    RuntimeException cause = new RuntimeException("destination failed");

    pipe.abort(cause);

    assertThatThrownBy(sent::get).cause().isInstanceOf(IOException.class).hasCause(cause);
  }

  @Test
  void afterAnAbortTheDestinationSeesNoQueuedBytes() throws IOException {
    InProcessPipe pipe = new InProcessPipe();
    pipe.source().write(new byte[1000]);
    pipe.source().close();

    pipe.abort(new IOException("link down"));

    assertThatThrownBy(() -> pipe.destination().read())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("link down");
  }

  @Test
  void anInterruptedWaitThrowsInterruptedIoExceptionAndKeepsTheInterrupt() throws Exception {
    InProcessPipe pipe = new InProcessPipe();
    CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                pipe.destination().read();
                interruptedAfter.complete(false);
              } catch (InterruptedIOException e) {
                interruptedAfter.complete(Thread.currentThread().isInterrupted());
              } catch (IOException e) {
                interruptedAfter.completeExceptionally(e);
              }
            });
    reader.start();
    awaitWaiting(reader);

    reader.interrupt();

    assertThat(interruptedAfter.get()).isTrue();
  }

  @Test
  void refusesAChunkLargerThanTheCapacity() {
    assertThatThrownBy(() -> new InProcessPipe(1024, 2048))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new InProcessPipe(0)).isInstanceOf(IllegalArgumentException.class);
  }

  private interface IoTask {
    void run() throws IOException;
  }

  private static CompletableFuture<Void> run(IoTask task) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                task.run();
                done.complete(null);
              } catch (Throwable e) {
                done.completeExceptionally(e);
              }
            },
            "pipe-test");
    thread.setDaemon(true);
    thread.start();
    return done;
  }

  /**
   * Waits until {@code thread} blocks in the pipe. Nothing signals that a thread has started to
   * wait, so this polls its state, bounded.
   */
  private static void awaitWaiting(Thread thread) {
    Await.until(
        () -> thread.getState() == Thread.State.WAITING, thread.getName() + " waits in the pipe");
  }
}
