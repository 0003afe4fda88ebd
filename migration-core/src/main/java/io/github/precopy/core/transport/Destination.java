package io.github.precopy.core.transport;

import static io.github.precopy.core.stream.StreamFormat.BE32;
import static io.github.precopy.core.stream.StreamFormat.CHECKSUM_BYTES;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamReader;
import io.github.precopy.core.stream.StreamFormat;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The receiving side of a migration: decodes one stream, on one or several channels, and loads its
 * pages into a {@link GuestMemory} whose RAM blocks match the source's (same order, names, guest
 * addresses and used lengths), then checks the stream's digest of the pages in use.
 *
 * <p>Every frame's checksum is checked and every record validated before it is applied, so nothing
 * is written outside a block and a corrupted or truncated frame is never loaded. Records already
 * applied when a later one is rejected stay applied, but the outcome is then a failure: {@link
 * #receive} throws and {@link #report()} says not completed; discard the memory. A ZERO record with
 * fill byte 0 skips pages that are already zero, as QEMU's {@code ram_handle_zero} does; any other
 * fill byte fills the page. A DIGEST record is checked against the page as loaded so far on its
 * channel, which is final: a page travels on one channel only. A fault of the memory (its file
 * system full, see {@link GuestMemory#isMemoryFault}) fails the stream like a transport failure,
 * with a one-line reason naming the block and the free space.
 *
 * <p>Thread-safety: {@link #receive} is called once, by one thread (each further channel is decoded
 * on a thread of its own); {@link #report()} may be called from any thread. Nothing else may write
 * the memory while it receives.
 */
final class Destination {

  /** Stores between two checks for a memory fault that the JVM has not thrown yet: 1 MiB. */
  private static final int STORES_PER_FAULT_CHECK = 256;

  private final GuestMemory memory;
  private final StreamPlugins plugins;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile DestinationReport report;

  /** A destination that loads pages into {@code memory}, with the plugins on the class path. */
  public Destination(GuestMemory memory) {
    this(memory, StreamPlugins.onClassPath());
  }

  /** A destination that loads pages into {@code memory}, decoding with {@code plugins}. */
  Destination(GuestMemory memory, StreamPlugins plugins) {
    this.memory = Objects.requireNonNull(memory, "memory");
    this.plugins = Objects.requireNonNull(plugins, "plugins");
  }

  /**
   * Reads a whole single-channel stream from {@code in} and applies it, then reads on to the end of
   * input to make sure nothing follows the end-of-stream record (so the sender must close its end).
   * Does not close {@code in}; close it afterwards, also on failure, so that a sender blocked on a
   * full transport is released.
   *
   * @return the report of a completed stream; see {@link DestinationReport#verified()}
   * @throws MigrationStreamException if the stream is malformed, corrupted, truncated or does not
   *     fit this memory
   * @throws IOException if the transport fails or the memory faults
   * @throws IllegalStateException if this destination has already received a stream
   */
  public DestinationReport receive(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    begin();
    Reception reception = new Reception(1);
    ChannelState state = new ChannelState(new MigrationStreamReader(in));
    try {
      state.receive(reception);
      return finish(reception, List.of(state), null);
    } catch (Throwable failure) {
      finish(reception, List.of(state), failure);
      throw failure;
    }
  }

  /**
   * Reads the channels of one stream, in any order, each on a thread of its own, and applies them;
   * as {@link #receive(InputStream)} otherwise. Closes every input before returning, so that one
   * channel's failure stops the others.
   *
   * @throws MigrationStreamException also if the channels do not belong to one migration of exactly
   *     this many channels
   */
  public DestinationReport receive(List<? extends InputStream> channels) throws IOException {
    if (channels.isEmpty()) {
      throw new IllegalArgumentException("no channels");
    }
    channels.forEach(in -> Objects.requireNonNull(in, "channel"));
    return receive(channels, channels.stream().map(MigrationStreamReader::new).toList());
  }

  /**
   * As {@link #receive(List)}, from readers over {@code channels} that may have read their prelude
   * and header already ({@link MigrationStreamReader#headerRead()}), against this memory's blocks:
   * an {@link IncomingMigration} reads them while it accepts the connections.
   */
  DestinationReport receive(
      List<? extends InputStream> channels, List<MigrationStreamReader> readers)
      throws IOException {
    if (channels.isEmpty() || channels.size() != readers.size()) {
      throw new IllegalArgumentException(
          channels.size() + " channels with " + readers.size() + " readers");
    }
    begin();
    Reception reception = new Reception(channels.size());
    List<ChannelState> states = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < channels.size(); i++) {
      ChannelState state = new ChannelState(readers.get(i));
      states.add(state);
      if (i > 0) {
        Thread thread =
            new Thread(() -> receiveOrStop(state, reception, channels), "precopy-receive-" + i);
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
      }
    }
    receiveOrStop(states.get(0), reception, channels);
    boolean interrupted = false;
    for (Thread thread : threads) {
      while (true) {
        try {
          thread.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
          closeAll(channels);
        }
      }
    }
    closeAll(channels);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable failure = null;
    for (ChannelState state : states) {
      if (state.failure != null) {
        failure = state.failure;
        if (!(failure instanceof StoppedException)) {
          break;
        }
      }
    }
    DestinationReport result = finish(reception, states, failure);
    if (failure instanceof IOException io) {
      throw io;
    }
    if (failure instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
    return result;
  }

  private void receiveOrStop(
      ChannelState state, Reception reception, List<? extends InputStream> channels) {
    try {
      state.receive(reception);
    } catch (Throwable e) {
      state.failure = reception.stopped ? new StoppedException(e) : e;
      reception.stopped = true;
      closeAll(channels);
    }
  }

  private static void closeAll(List<? extends Closeable> channels) {
    for (Closeable channel : channels) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Closing only stops the other channels; the first failure is what counts.
      }
    }
  }

  private void begin() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("destination has already received a stream");
    }
  }

  private DestinationReport finish(
      Reception reception, List<ChannelState> states, Throwable failure) {
    long normal = 0;
    long zero = 0;
    long encoded = 0;
    long bytes = 0;
    long verified = 0;
    long mismatches = 0;
    String firstMismatch = null;
    for (ChannelState state : states) {
      normal += state.normalPages;
      zero += state.zeroPages;
      encoded += state.encodedPages;
      bytes += state.reader.bytesRead();
      verified += state.pagesVerified;
      mismatches += state.mismatches;
      if (firstMismatch == null) {
        firstMismatch = state.firstMismatch;
      }
    }
    DestinationReport result =
        new DestinationReport(
            failure == null,
            normal,
            zero,
            encoded,
            bytes,
            verified,
            mismatches,
            failure == null ? firstMismatch : describe(failure));
    report = result;
    return result;
  }

  private static String describe(Throwable failure) {
    Throwable cause = failure instanceof StoppedException ? failure.getCause() : failure;
    return cause instanceof MigrationStreamException || cause.getMessage() != null
        ? cause.getMessage()
        : cause.toString();
  }

  /** The outcome of {@link #receive}, or empty while it has not returned or thrown. */
  public Optional<DestinationReport> report() {
    return Optional.ofNullable(report);
  }

  /** What the channels of one reception must agree on. */
  private static final class Reception {
    private final int channels;
    private final boolean[] seen;
    private Long migrationId;
    private volatile boolean stopped;

    Reception(int channels) {
      this.channels = channels;
      this.seen = new boolean[channels];
    }

    synchronized void join(MigrationStreamReader reader) throws MigrationStreamException {
      if (reader.channelCount() != channels) {
        throw new MigrationStreamException(
            "stream has " + reader.channelCount() + " channels, destination receives " + channels,
            StreamFormat.PRELUDE_BYTES + StreamFormat.FRAME_HEADER_BYTES + 14,
            -1);
      }
      if (migrationId != null && migrationId != reader.migrationId()) {
        throw new MigrationStreamException(
            "channel "
                + reader.channel()
                + " belongs to migration 0x"
                + Long.toHexString(reader.migrationId())
                + ", not 0x"
                + Long.toHexString(migrationId),
            StreamFormat.PRELUDE_BYTES + StreamFormat.FRAME_HEADER_BYTES + 4,
            -1);
      }
      if (seen[reader.channel()]) {
        throw new MigrationStreamException(
            "channel " + reader.channel() + " arrived twice",
            StreamFormat.PRELUDE_BYTES + StreamFormat.FRAME_HEADER_BYTES + 12,
            -1);
      }
      migrationId = reader.migrationId();
      seen[reader.channel()] = true;
    }
  }

  /**
   * The destination's memory faulted ({@link GuestMemory#isMemoryFault}): the stream fails with a
   * one-line reason, reported and replied like any other failure.
   */
  private static final class MemoryFaultException extends IOException {
    private static final long serialVersionUID = 1L;

    MemoryFaultException(String message, InternalError cause) {
      super(message, cause);
    }
  }

  /** Another channel failed first; this one was stopped by closing its input. */
  private static final class StoppedException extends IOException {
    private static final long serialVersionUID = 1L;

    StoppedException(Throwable cause) {
      super("stopped after another channel failed", cause);
    }
  }

  /**
   * One channel's decoder and counts; where its PAGE payloads land when the decoder reads them
   * straight into guest RAM (over plain TCP).
   */
  private final class ChannelState implements MigrationStreamReader.PageLanding {
    private final MigrationStreamReader reader;
    private final byte[] scratch = new byte[GuestMemory.PAGE_SIZE];
    private long normalPages;
    private long encodedPages;
    private long zeroPages;
    private long pagesVerified;
    private long mismatches;
    private String firstMismatch;
    private volatile Throwable failure;

    /** The guest-physical address of the page last loaded or checked, to explain a fault. */
    private long address;

    /** Pages stored since the last {@link #checkStores()}. */
    private int storesUnchecked;

    ChannelState(MigrationStreamReader reader) {
      this.reader = reader;
    }

    /**
     * Receives the channel; a fault of the memory (its file system full, its file truncated) fails
     * it with a one-line reason rather than the JVM's {@link InternalError}.
     */
    void receive(Reception reception) throws IOException {
      try {
        receiveRecords(reception);
      } catch (InternalError e) {
        if (!GuestMemory.isMemoryFault(e)) {
          throw e;
        }
        throw new MemoryFaultException(memory.describeFault(address), e);
      }
    }

    private void receiveRecords(Reception reception) throws IOException {
      if (!reader.headerRead()) {
        reader.readHeader(memory.blocks());
      }
      plugins.equip(reader);
      reception.join(reader);
      reader.landPagesIn(this);
      int kind;
      while ((kind = reader.next()) != MigrationStreamReader.EOS) {
        RamBlock block = reader.block();
        long page = reader.page();
        address = block.guestAddress() + (page << GuestMemory.PAGE_SHIFT);
        if (kind == MigrationStreamReader.PAGE) {
          if (reader.payloadInPlace()) {
            // Read straight into the page; its frame's checksum has held since.
            memory.landed(block, page);
          } else {
            memory.write(address, reader.buffer(), reader.payloadOffset(), GuestMemory.PAGE_SIZE);
            stored();
          }
          normalPages++;
        } else if (kind == MigrationStreamReader.ENCODED) {
          applyEncoded(block, page);
        } else if (kind == MigrationStreamReader.ZERO) {
          byte fill = reader.fill();
          if (fill == 0) {
            checkStores();
          }
          if (fill != 0 || !block.isZeroPage(page)) {
            memory.fill(address, GuestMemory.PAGE_SIZE, fill);
            stored();
          }
          zeroPages++;
        } else {
          checkStores();
          checkDigest(block, page, reader.digestMask());
        }
      }
      checkStores();
      reader.expectEnd();
    }

    @Override
    public ByteBuffer landingPage(RamBlock block, long page) {
      return memory.landingPage(block, page);
    }

    /**
     * A read into a page failed: if the page faults (its file system full, its file truncated), the
     * kernel could not store into it, and the fault is thrown, to be reported as such.
     */
    @Override
    public IOException landingFailed(RamBlock block, long page, IOException failure) {
      address = block.guestAddress() + (page << GuestMemory.PAGE_SHIFT);
      ByteBuffer bytes = memory.landingPage(block, page);
      bytes.put(0, bytes.get(0));
      GuestMemory.checkPendingFault();
      return failure;
    }

    /**
     * Applies the last ENCODED record: decodes it against the page held now, into {@link #scratch},
     * and stores the result; a malformed encoding leaves the page as it was.
     */
    private void applyEncoded(RamBlock block, long page) throws MigrationStreamException {
      checkStores();
      decode(block, page);
      memory.write(address, scratch, 0, GuestMemory.PAGE_SIZE);
      stored();
      encodedPages++;
    }

    private void decode(RamBlock block, long page) throws MigrationStreamException {
      block.readPage(page, scratch, 0);
      ByteBuffer encoded =
          ByteBuffer.wrap(reader.buffer(), reader.payloadOffset(), reader.payloadLength())
              .slice()
              .asReadOnlyBuffer();
      try {
        reader.pageDecoder().decode(encoded, scratch, 0);
      } catch (RuntimeException e) {
        throw reader.recordRejected(
            reader.pageCodecs().get(reader.codecId())
                + " encoding of page "
                + page
                + " of block "
                + block.name()
                + " does not decode: "
                + e.getMessage());
      }
    }

    /** Counts a store; every {@link #STORES_PER_FAULT_CHECK} stores, checks them. */
    private void stored() {
      if (++storesUnchecked >= STORES_PER_FAULT_CHECK) {
        checkStores();
      }
    }

    /**
     * Makes a fault of the stores since the last check surface now ({@link
     * GuestMemory#checkPendingFault}): before the channel is complete, before a page is read.
     */
    private void checkStores() {
      if (storesUnchecked > 0) {
        storesUnchecked = 0;
        GuestMemory.checkPendingFault();
      }
    }

    private void checkDigest(RamBlock block, long first, long mask) {
      int at = reader.payloadOffset();
      for (long bits = mask; bits != 0; bits &= bits - 1) {
        long page = first + Long.numberOfTrailingZeros(bits);
        address = block.guestAddress() + (page << GuestMemory.PAGE_SHIFT);
        int expected = (int) BE32.get(reader.buffer(), at);
        at += CHECKSUM_BYTES;
        pagesVerified++;
        if (block.pageChecksum(page) != expected) {
          mismatches++;
          if (firstMismatch == null) {
            firstMismatch =
                "page " + page + " of block " + block.name() + " differs from the source";
          }
        }
      }
    }
  }
}
