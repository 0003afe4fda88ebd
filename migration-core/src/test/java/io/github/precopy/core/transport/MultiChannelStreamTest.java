package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestMemories;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A migration over several channels: pages split in stripes of 64 pages, page p of block b on
 * channel ((p / 64) + b) mod n; the destination reads the channels in any order, each on its own
 * thread, and one channel's failure fails and stops the whole reception.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
final class MultiChannelStreamTest {

  private static final Duration STALL = Duration.ofSeconds(10);

  private static ExecutorService sourceThread;

  @BeforeAll
  static void startSourceThread() {
    sourceThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-source"));
  }

  @AfterAll
  static void stopSourceThread() {
    sourceThread.shutdownNow();
  }

  private static GuestMemory threeBlocks() {
    return GuestMemory.builder()
        .anonymousBlock("pc.ram", 0, 300 * 4096)
        .anonymousBlock("vga.vram", 0x40000000L, 70 * 4096)
        .anonymousBlock("pc.bios", 0x80000000L, 5 * 4096)
        .build();
  }

  @ParameterizedTest(name = "{0} channels")
  @ValueSource(ints = {1, 2, 4})
  void everyPageTravelsOnItsStripesChannelAndTheChannelsLoadInAnyOrder(int channels)
      throws IOException {
    long seed = TestMemories.seed("everyPageTravelsOnItsStripesChannel[" + channels + "]");
    SplittableRandom random = new SplittableRandom(seed);
    try (GuestMemory source = threeBlocks()) {
      TestMemories.fillRandomPages(source, random);
      List<ByteArrayOutputStream> sinks = new ArrayList<>();
      List<WritableByteChannel> outs = new ArrayList<>();
      for (int i = 0; i < channels; i++) {
        sinks.add(new ByteArrayOutputStream());
        outs.add(Channels.newChannel(sinks.get(i)));
      }
      MigrationStreamWriter writer;
      try (MigrationStreamWriter w = new MigrationStreamWriter(outs, STALL)) {
        writer = w;
        sendTwoRoundsAndDigest(source, w, random);
      }
      List<byte[]> streams = sinks.stream().map(ByteArrayOutputStream::toByteArray).toList();

      assertStripeRule(source, streams, seed);
      assertThat(streams.stream().mapToLong(s -> s.length).sum()).isEqualTo(writer.bytesWritten());
      List<byte[]> reversed = new ArrayList<>(streams);
      Collections.reverse(reversed);
      List<byte[]> shuffled = new ArrayList<>(streams);
      Collections.shuffle(shuffled, new Random(seed));
      for (List<byte[]> order : List.of(streams, reversed, shuffled)) {
        try (GuestMemory destination = TestMemories.sameLayout(source)) {
          DestinationReport report = new Destination(destination).receive(inputs(order));

          assertThat(report.completed()).as("seed %d", seed).isTrue();
          assertThat(report.verified()).as("seed %d", seed).isTrue();
          assertThat(report.pagesVerified()).isEqualTo(source.totalPages());
          assertThat(report.normalPages()).isEqualTo(writer.normalPagesWritten());
          assertThat(report.zeroPages()).isEqualTo(writer.zeroPagesWritten());
          assertThat(report.bytesRead()).isEqualTo(writer.bytesWritten());
          assertSameMemory(source, destination, seed);
        }
      }
    }
  }

  @Test
  void aLiveMigrationOverFourSmallPipesLoadsEveryPage() throws Exception {
    long seed = TestMemories.seed("aLiveMigrationOverFourSmallPipesLoadsEveryPage");
    SplittableRandom random = new SplittableRandom(seed);
    try (GuestMemory source = threeBlocks();
        GuestMemory destination = TestMemories.sameLayout(source)) {
      TestMemories.fillRandomPages(source, random);
      List<InProcessPipe> pipes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        pipes.add(new InProcessPipe(64 * 1024, 16 * 1024));
      }
      SplittableRandom sendRandom = random.split();
      Future<MigrationStreamWriter> sent =
          sourceThread.submit(
              () -> {
                List<WritableByteChannel> outs = new ArrayList<>();
                for (InProcessPipe pipe : pipes) {
                  outs.add(Channels.newChannel(pipe.source()));
                }
                try (MigrationStreamWriter writer = new MigrationStreamWriter(outs, STALL)) {
                  sendTwoRoundsAndDigest(source, writer, sendRandom);
                  for (WritableByteChannel out : outs) {
                    out.close();
                  }
                  return writer;
                } catch (Throwable e) {
                  pipes.forEach(p -> p.abort(e));
                  throw e;
                }
              });

      DestinationReport report =
          new Destination(destination)
              .receive(pipes.stream().map(InProcessPipe::destination).toList());
      MigrationStreamWriter writer = sent.get();

      assertThat(report.completed()).as("seed %d", seed).isTrue();
      assertThat(report.verified()).as("seed %d", seed).isTrue();
      assertThat(report.bytesRead()).isEqualTo(writer.bytesWritten());
      assertSameMemory(source, destination, seed);
    }
  }

  @Test
  void channelsOfTwoMigrationsAreRejected() throws IOException {
    try (GuestMemory source = threeBlocks()) {
      List<byte[]> first = emptyMigration(source, 2);
      List<byte[]> second = emptyMigration(source, 2);

      assertRejected(source, List.of(first.get(0), second.get(1)), "belongs to migration 0x");
      assertRejected(source, List.of(second.get(1), first.get(0)), "belongs to migration 0x");
    }
  }

  @Test
  void theSameChannelIndexTwiceIsRejected() throws IOException {
    try (GuestMemory source = threeBlocks()) {
      List<byte[]> migration = emptyMigration(source, 2);

      assertRejected(
          source, List.of(migration.get(1), migration.get(1)), "channel 1 arrived twice");
    }
  }

  @Test
  void aChannelCountOtherThanTheNumberOfInputsIsRejected() throws IOException {
    try (GuestMemory source = threeBlocks()) {
      List<byte[]> four = emptyMigration(source, 4);

      assertRejected(source, four.subList(0, 2), "stream has 4 channels, destination receives 2");
      List<byte[]> five = new ArrayList<>(four);
      five.add(four.get(0));
      assertRejected(source, five, "stream has 4 channels, destination receives 5");
    }
  }

  @Test
  void noInputsIsRefused() throws IOException {
    try (GuestMemory memory = threeBlocks()) {
      assertThatThrownBy(() -> new Destination(memory).receive(List.of()))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  /**
   * Channel 1 is cut short; channel 0 is a pipe whose source sent half its bytes and then neither
   * sends more nor closes, so its reader blocks. The truncation must fail the whole reception
   * promptly, stopping the blocked reader by closing its input, whichever thread reads which.
   */
  @Test
  void oneTruncatedChannelFailsTheWholeReceiveAndStopsTheOthers() throws Exception {
    try (GuestMemory source = threeBlocks()) {
      TestMemories.fillRandomPages(source, new SplittableRandom(1));
      List<byte[]> streams = fullMigration(source, 2);
      byte[] truncated = Arrays.copyOf(streams.get(1), streams.get(1).length / 2);

      for (boolean pipeFirst : new boolean[] {true, false}) {
        InProcessPipe pipe = new InProcessPipe();
        OutputStream stalledSource = pipe.source();
        stalledSource.write(streams.get(0), 0, streams.get(0).length / 2);
        stalledSource.flush();
        List<InputStream> inputs =
            pipeFirst
                ? List.of(pipe.destination(), new ByteArrayInputStream(truncated))
                : List.of(new ByteArrayInputStream(truncated), pipe.destination());

        try (GuestMemory destination = TestMemories.sameLayout(source)) {
          Destination receiver = new Destination(destination);
          Throwable failure =
              assertTimeoutPreemptively(
                  Duration.ofSeconds(10), () -> catchThrowable(() -> receiver.receive(inputs)));

          assertThat(failure)
              .as("pipe first: %s", pipeFirst)
              .isInstanceOf(MigrationStreamException.class)
              .hasMessageContaining("stream truncated in frame");
          DestinationReport report = receiver.report().orElseThrow();
          assertThat(report.completed()).isFalse();
          assertThat(report.failure()).contains("stream truncated in frame");
          assertThatThrownBy(() -> stalledSource.write(new byte[1 << 20]))
              .as("the stalled channel's input was closed")
              .isInstanceOf(IOException.class)
              .hasMessageContaining("closed by the destination");
        }
      }
    }
  }

  @Test
  void aChannelThatTakesNoDataFailsWritePageAfterTheStallTimeoutInsteadOfHanging()
      throws IOException {
    CountDownLatch release = new CountDownLatch(1);
    try (GuestMemory memory = GuestMemory.anonymous(256 * 4096L);
        MigrationStreamWriter writer =
            new MigrationStreamWriter(List.of(new StuckChannel(release)), Duration.ofMillis(300))) {
      RamBlock block = memory.blocks().get(0);
      writer.writeHeader(memory.blocks());
      long start = System.nanoTime();

      Throwable failure =
          catchThrowable(
              () -> {
                for (long page = 0; page < block.pageCount(); page++) {
                  writer.writePage(block, page);
                }
              });

      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(failure)
          .isInstanceOf(InterruptedIOException.class)
          .hasMessageContaining("took no data for 300 ms");
      assertThat(elapsedMillis).isBetween(300L, 10_000L);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aChannelThatTakesNoDataFailsFlushAfterTheStallTimeoutInsteadOfHanging() throws IOException {
    CountDownLatch release = new CountDownLatch(1);
    try (GuestMemory memory = GuestMemory.anonymous(4 * 4096L);
        MigrationStreamWriter writer =
            new MigrationStreamWriter(List.of(new StuckChannel(release)), Duration.ofMillis(300))) {
      writer.writeHeader(memory.blocks());
      writer.writePage(memory.blocks().get(0), 0);
      long start = System.nanoTime();

      assertThatThrownBy(writer::flush)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("took no data for 300 ms");

      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 10_000L);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aChannelWhoseWriteFailsSurfacesTheIoExceptionOnALaterWritePage() throws IOException {
    try (GuestMemory memory = GuestMemory.anonymous(256 * 4096L);
        MigrationStreamWriter writer =
            new MigrationStreamWriter(List.of(new BrokenChannel()), STALL)) {
      RamBlock block = memory.blocks().get(0);
      writer.writeHeader(memory.blocks());

      Throwable failure =
          catchThrowable(
              () -> {
                for (int i = 0; i < 100_000; i++) {
                  writer.writePage(block, i % block.pageCount());
                }
              });

      assertThat(failure).isInstanceOf(IOException.class).hasRootCauseMessage("link down");
      assertThat(writer.normalPagesWritten()).isBetween(1L, 1000L);
    }
  }

  @Test
  void aChannelWhoseWriteFailsSurfacesTheIoExceptionOnTheEndOfStream() throws IOException {
    try (GuestMemory memory = GuestMemory.anonymous(4 * 4096L);
        MigrationStreamWriter writer =
            new MigrationStreamWriter(
                List.of(Channels.newChannel(new ByteArrayOutputStream()), new BrokenChannel()),
                STALL)) {
      writer.writeHeader(memory.blocks());
      writer.writePage(memory.blocks().get(0), 0);

      assertThatThrownBy(writer::writeEndOfStream)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("link down");
    }
  }

  /**
   * A write error is reported by the next call, whatever its type: a channel whose write throws an
   * unchecked exception must not be mistaken for a stalled one, nor make the writer wait out the
   * stall timeout.
   */
  @Test
  void aChannelWhoseWriteThrowsAnUncheckedExceptionSurfacesItOnTheNextCall() throws IOException {
    WritableByteChannel unchecked =
        new WritableByteChannel() {
          @Override
          public int write(ByteBuffer src) {
            throw new IllegalStateException("engine closed");
          }

          @Override
          public boolean isOpen() {
            return true;
          }

          @Override
          public void close() {}
        };
    try (GuestMemory memory = GuestMemory.anonymous(4 * 4096L);
        MigrationStreamWriter writer =
            new MigrationStreamWriter(List.of(unchecked), Duration.ofSeconds(3))) {
      writer.writeHeader(memory.blocks());
      writer.writePage(memory.blocks().get(0), 0);

      Throwable failure = catchThrowable(writer::flush);

      assertThat(failure).isInstanceOf(IOException.class).hasStackTraceContaining("engine closed");
    }
  }

  /** A channel whose write blocks until released (or interrupted). */
  private static final class StuckChannel implements WritableByteChannel {
    private final CountDownLatch release;

    StuckChannel(CountDownLatch release) {
      this.release = release;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("stuck channel interrupted");
      }
      throw new IOException("stuck channel released");
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** A channel whose every write fails. */
  private static final class BrokenChannel implements WritableByteChannel {
    @Override
    public int write(ByteBuffer src) throws IOException {
      throw new IOException("link down");
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  private static void assertRejected(GuestMemory layout, List<byte[]> streams, String problem)
      throws IOException {
    try (GuestMemory destination = TestMemories.sameLayout(layout)) {
      Destination receiver = new Destination(destination);

      assertThatThrownBy(() -> receiver.receive(inputs(streams)))
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining(problem);

      assertThat(receiver.report().orElseThrow().completed()).isFalse();
      assertThat(receiver.report().orElseThrow().failure()).contains(problem);
    }
  }

  /** Round one sends every page in random order, round two changes and resends some. */
  private static void sendTwoRoundsAndDigest(
      GuestMemory source, MigrationStreamWriter writer, SplittableRandom random)
      throws IOException {
    writer.writeHeader(source.blocks());
    List<long[]> pages = new ArrayList<>();
    for (int b = 0; b < source.blocks().size(); b++) {
      for (long p = 0; p < source.blocks().get(b).pageCount(); p++) {
        pages.add(new long[] {b, p});
      }
    }
    Collections.shuffle(pages, new Random(random.nextLong()));
    for (long[] page : pages) {
      send(writer, source.blocks().get((int) page[0]), page[1]);
    }
    byte[] scratch = new byte[4096];
    for (long[] page : pages.subList(0, 40)) {
      RamBlock block = source.blocks().get((int) page[0]);
      TestMemories.writeRandomPage(source, block, page[1], random, scratch);
      send(writer, block, page[1]);
    }
    for (RamBlock block : source.blocks()) {
      writer.writeDigest(block, null);
    }
    writer.writeEndOfStream();
  }

  private static void send(MigrationStreamWriter writer, RamBlock block, long page)
      throws IOException {
    if (block.isZeroPage(page)) {
      writer.writeZeroPage(block, page);
    } else {
      writer.writePage(block, page);
    }
  }

  private static List<byte[]> fullMigration(GuestMemory source, int channels) throws IOException {
    return migration(source, channels, true);
  }

  private static List<byte[]> emptyMigration(GuestMemory source, int channels) throws IOException {
    return migration(source, channels, false);
  }

  private static List<byte[]> migration(GuestMemory source, int channels, boolean pages)
      throws IOException {
    List<ByteArrayOutputStream> sinks = new ArrayList<>();
    List<WritableByteChannel> outs = new ArrayList<>();
    for (int i = 0; i < channels; i++) {
      sinks.add(new ByteArrayOutputStream());
      outs.add(Channels.newChannel(sinks.get(i)));
    }
    try (MigrationStreamWriter writer = new MigrationStreamWriter(outs, STALL)) {
      if (pages) {
        sendTwoRoundsAndDigest(source, writer, new SplittableRandom(2));
      } else {
        writer.writeHeader(source.blocks());
        writer.writeEndOfStream();
      }
    }
    return sinks.stream().map(ByteArrayOutputStream::toByteArray).toList();
  }

  private static List<InputStream> inputs(List<byte[]> streams) {
    return streams.stream().map(s -> (InputStream) new ByteArrayInputStream(s)).toList();
  }

  /**
   * Decodes every channel independently and checks that each page record and each DIGEST record is
   * on the channel its stripe names, that every page is carried by exactly one channel, and that
   * every stripe's DIGEST appears once.
   */
  private static void assertStripeRule(GuestMemory source, List<byte[]> streams, long seed) {
    int channels = streams.size();
    Set<List<Long>> carried = new HashSet<>();
    Set<List<Long>> digested = new HashSet<>();
    Long migrationId = null;
    for (int c = 0; c < channels; c++) {
      StreamBytes.Decoded decoded = StreamBytes.decode(streams.get(c));
      assertThat(decoded.channel()).isEqualTo(c);
      assertThat(decoded.channels()).isEqualTo(channels);
      if (migrationId == null) {
        migrationId = decoded.migrationId();
      }
      assertThat(decoded.migrationId()).isEqualTo(migrationId);
      Set<List<Long>> mine = new HashSet<>();
      for (StreamBytes.Record record : decoded.records()) {
        if (record.kind() == StreamBytes.EOS) {
          continue;
        }
        long expected = ((record.page() / 64) + record.block()) % channels;
        assertThat(expected)
            .as("seed %d: block %d page %d on channel %d", seed, record.block(), record.page(), c)
            .isEqualTo(c);
        List<Long> key = List.of((long) record.block(), record.page());
        if (record.kind() == StreamBytes.DIGEST) {
          assertThat(record.page() % 64).isZero();
          assertThat(digested.add(key)).as("one DIGEST per stripe %s", key).isTrue();
        } else {
          mine.add(key);
        }
      }
      for (List<Long> key : mine) {
        assertThat(carried.add(key)).as("page %s on one channel only", key).isTrue();
      }
    }
    long stripes = 0;
    for (RamBlock block : source.blocks()) {
      stripes += (block.pageCount() + 63) / 64;
    }
    assertThat(carried).hasSize((int) source.totalPages());
    assertThat(digested).hasSize((int) stripes);
  }

  private static void assertSameMemory(GuestMemory source, GuestMemory destination, long seed) {
    for (int b = 0; b < source.blocks().size(); b++) {
      RamBlock from = source.blocks().get(b);
      RamBlock to = destination.blocks().get(b);
      for (long p = 0; p < from.pageCount(); p++) {
        assertThat(to.samePage(p, from))
            .as("seed %d: block %s page %d", seed, from.name(), p)
            .isTrue();
      }
    }
  }
}
