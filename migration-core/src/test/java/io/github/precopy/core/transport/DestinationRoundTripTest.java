package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.TestMemories;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
final class DestinationRoundTripTest {

  private static ExecutorService sourceThread;

  @BeforeAll
  static void startSourceThread() {
    sourceThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-source"));
  }

  @AfterAll
  static void stopSourceThread() {
    sourceThread.shutdownNow();
  }

  @Test
  void randomGuestsArriveByteIdenticalThroughThePipeOnTwoThreads() throws Exception {
    long seed = TestMemories.seed("randomGuestsArriveByteIdenticalThroughThePipeOnTwoThreads");
    SplittableRandom random = new SplittableRandom(seed);
    for (int guest = 0; guest < 4; guest++) {
      try (GuestMemory source = TestMemories.randomLayout(random, 512);
          GuestMemory destination = TestMemories.sameLayout(source)) {
        TestMemories.fillRandomPages(source, random);
        int chunk = 1024 * (1 + random.nextInt(256));
        InProcessPipe pipe = new InProcessPipe(chunk * (1 + random.nextInt(16)), chunk);
        SendPlan plan = new SendPlan(source, random.split());
        int bufferBytes = 8192 << guest;

        Future<MigrationStreamWriter> sent =
            sourceThread.submit(
                () -> {
                  try (var out = pipe.source()) {
                    return plan.send(new MigrationStreamWriter(out, bufferBytes));
                  } catch (Throwable e) {
                    pipe.abort(e);
                    throw e;
                  }
                });
        DestinationReport report;
        try (InputStream in = pipe.destination()) {
          report = new Destination(destination).receive(in);
        }
        MigrationStreamWriter writer = sent.get();

        assertThat(report.completed()).as("seed %d", seed).isTrue();
        assertThat(report.failure()).isNull();
        assertThat(report.bytesRead()).as("seed %d", seed).isEqualTo(writer.bytesWritten());
        assertThat(report.normalPages()).isEqualTo(writer.normalPagesWritten());
        assertThat(report.zeroPages()).isEqualTo(writer.zeroPagesWritten());
        assertThat(report.pagesVerified())
            .isEqualTo(writer.digestPagesWritten())
            .isEqualTo(plan.sentPages());
        assertThat(report.mismatches()).isZero();
        assertThat(report.verified()).as("seed %d", seed).isTrue();
        plan.assertArrived(destination, seed);
      }
    }
  }

  @Test
  void aStreamStoredInBytesLoadsTheSameAsOneStreamedLive() throws Exception {
    long seed = TestMemories.seed("aStreamStoredInBytesLoadsTheSameAsOneStreamedLive");
    SplittableRandom random = new SplittableRandom(seed);
    try (GuestMemory source = TestMemories.randomLayout(random, 256);
        GuestMemory destination = TestMemories.sameLayout(source)) {
      TestMemories.fillRandomPages(source, random);
      SendPlan plan = new SendPlan(source, random.split());
      ByteArrayOutputStream file = new ByteArrayOutputStream();
      MigrationStreamWriter writer = plan.send(new MigrationStreamWriter(file));

      DestinationReport report =
          new Destination(destination).receive(new ByteArrayInputStream(file.toByteArray()));

      assertThat(report.bytesRead()).isEqualTo(file.size()).isEqualTo(writer.bytesWritten());
      assertThat(report.verified()).as("seed %d", seed).isTrue();
      plan.assertArrived(destination, seed);
    }
  }

  @Test
  void aZeroRecordClearsADirtyDestinationPageAndUnsentPagesKeepTheirContents() throws IOException {
    try (GuestMemory source = GuestMemory.anonymous(4 * 4096);
        GuestMemory destination = GuestMemory.anonymous(4 * 4096)) {
      destination.fill(0, 4 * 4096, (byte) 0x33);
      RamBlock block = source.blocks().get(0);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      MigrationStreamWriter writer = new MigrationStreamWriter(out);
      writer.writeHeader(source.blocks());
      writer.writeZeroPage(block, 1);
      writer.writeEndOfStream();

      new Destination(destination).receive(new ByteArrayInputStream(out.toByteArray()));

      RamBlock loaded = destination.blocks().get(0);
      assertThat(loaded.isZeroPage(1)).isTrue();
      for (long page : new long[] {0, 2, 3}) {
        assertThat(loaded.samePage(page, block)).isFalse();
        assertThat(destination.readLong(page * 4096)).isEqualTo(0x3333333333333333L);
      }
    }
  }

  @Test
  void reportsNothingBeforeReceivingAndReceivesOnlyOnce() throws IOException {
    try (GuestMemory source = GuestMemory.anonymous(4096);
        GuestMemory destination = GuestMemory.anonymous(4096)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      MigrationStreamWriter writer = new MigrationStreamWriter(out);
      writer.writeHeader(source.blocks());
      writer.writeEndOfStream();
      Destination receiver = new Destination(destination);
      assertThat(receiver.report()).isEmpty();

      DestinationReport report = receiver.receive(new ByteArrayInputStream(out.toByteArray()));

      assertThat(report).isEqualTo(new DestinationReport(true, 0, 0, 0, out.size(), 0, 0, null));
      assertThat(out.size()).as("prelude, frame, header, EOS").isEqualTo(12 + 8 + 20 + 18 + 6 + 24);
      assertThat(report.verified()).as("no digest").isFalse();
      assertThat(receiver.report()).contains(report);
      assertThatThrownBy(() -> receiver.receive(new ByteArrayInputStream(out.toByteArray())))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void aDestinationThatRejectsTheStreamReleasesASourceBlockedOnAFullPipe() throws Exception {
    try (GuestMemory source = GuestMemory.anonymous(1024 * 4096);
        GuestMemory other = GuestMemory.anonymous(2048 * 4096)) {
      source.fill(0, 1024 * 4096, (byte) 1);
      InProcessPipe pipe = new InProcessPipe(64 * 1024, 16 * 1024);
      Future<?> sent =
          sourceThread.submit(
              () -> {
                MigrationStreamWriter writer = new MigrationStreamWriter(pipe.source());
                writer.writeHeader(source.blocks());
                for (long page = 0; page < 1024; page++) {
                  writer.writePage(source.blocks().get(0), page);
                }
                writer.writeEndOfStream();
                return null;
              });
      Destination destination = new Destination(other);

      try (InputStream in = pipe.destination()) {
        assertThatThrownBy(() -> destination.receive(in))
            .isInstanceOf(MigrationStreamException.class)
            .hasMessageContaining("used length");
      }

      assertThatThrownBy(sent::get).hasRootCauseInstanceOf(IOException.class);
      assertThat(destination.report()).hasValueSatisfying(r -> assertThat(r.completed()).isFalse());
    }
  }

  /**
   * Two rounds of sends in random order, as a migration would: the bulk round sends most pages,
   * then some pages change and the second round resends them with others; pages never sent stand
   * for hinted free pages.
   */
  private static final class SendPlan {
    private final GuestMemory source;
    private final SplittableRandom random;
    private final List<long[]> firstRound = new ArrayList<>();
    private final List<long[]> secondRound = new ArrayList<>();
    private final BitSet[] sent;

    SendPlan(GuestMemory source, SplittableRandom random) {
      this.source = source;
      this.random = random;
      List<RamBlock> blocks = source.blocks();
      sent = new BitSet[blocks.size()];
      for (int b = 0; b < blocks.size(); b++) {
        sent[b] = new BitSet();
        for (long p = 0; p < blocks.get(b).pageCount(); p++) {
          int choice = random.nextInt(10);
          if (choice < 8) {
            firstRound.add(new long[] {b, p});
          }
          if (choice >= 6 && choice < 9) {
            secondRound.add(new long[] {b, p});
          }
          sent[b].set((int) p, choice < 9);
        }
      }
      Random shuffler = new Random(random.nextLong());
      Collections.shuffle(firstRound, shuffler);
      Collections.shuffle(secondRound, shuffler);
    }

    MigrationStreamWriter send(MigrationStreamWriter writer) throws IOException {
      writer.writeHeader(source.blocks());
      sendAll(writer, firstRound);
      byte[] scratch = new byte[4096];
      for (long[] page : secondRound) {
        TestMemories.writeRandomPage(
            source, source.blocks().get((int) page[0]), page[1], random, scratch);
      }
      sendAll(writer, secondRound);
      for (int b = 0; b < sent.length; b++) {
        RamBlock block = source.blocks().get(b);
        PageBitmap inUse = new PageBitmap(block.pageCount());
        sent[b].stream().forEach(inUse::set);
        writer.writeDigest(block, inUse);
      }
      writer.writeEndOfStream();
      return writer;
    }

    /** Pages sent at least once: the pages in use, which the plan digests. */
    long sentPages() {
      long pages = 0;
      for (BitSet bits : sent) {
        pages += bits.cardinality();
      }
      return pages;
    }

    private void sendAll(MigrationStreamWriter writer, List<long[]> pages) throws IOException {
      for (long[] page : pages) {
        RamBlock block = source.blocks().get((int) page[0]);
        if (block.isZeroPage(page[1])) {
          writer.writeZeroPage(block, page[1]);
        } else {
          writer.writePage(block, page[1]);
        }
      }
    }

    void assertArrived(GuestMemory destination, long seed) {
      for (int b = 0; b < source.blocks().size(); b++) {
        RamBlock from = source.blocks().get(b);
        RamBlock to = destination.blocks().get(b);
        for (long p = 0; p < from.pageCount(); p++) {
          boolean wasSent = sent[b].get((int) p);
          assertThat(wasSent ? to.samePage(p, from) : to.isZeroPage(p))
              .as("seed %d: block %s page %d (sent: %s)", seed, from.name(), p, wasSent)
              .isTrue();
        }
      }
    }
  }
}
