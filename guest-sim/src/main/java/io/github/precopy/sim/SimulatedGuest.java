package io.github.precopy.sim;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A simulated guest: its {@link GuestMemory}, a {@link BuddyAllocator} over it, and vCPU threads
 * (daemons named {@code vcpu-0}, {@code vcpu-1}, ...) running a {@link Workload}.
 *
 * <p>Life cycle: {@link #boot()} runs every vCPU's {@link VcpuProgram#boot()} concurrently and
 * leaves the guest booted but paused; {@link #start()} boots if needed and runs it; {@link
 * #pause()} and {@link #resume()} stop and restart the vCPUs at safe points (between steps, or
 * while a vCPU halts in {@link Vcpu#idleUntil}); {@link #close()} stops the threads and unmaps the
 * memory. The guest owns its memory.
 *
 * <p>Reproducibility: vCPU {@code i} draws from the {@code i}-th {@link SplittableRandom} split
 * from {@code new SplittableRandom(seed)}, so a single-vCPU guest is fully determined by the seed,
 * the workload and its options; with several vCPUs, each vCPU's choices are determined but the
 * interleaving of their allocations is not.
 *
 * <p>Failures: an exception thrown by a workload stops that vCPU only; it is logged and kept
 * ({@link #failure()}), and a failed boot makes {@link #boot()} throw.
 *
 * <p>Units: {@link #workDone()} counts bytes of pages written by the workload, 4 KiB per page
 * touched by a write (the unit of a dirty rate).
 *
 * <p>Thread-safety: all public methods are thread-safe. Run-state changes are serialised by one
 * lock, under which {@link RunStateListener}s are called.
 */
public final class SimulatedGuest implements Guest, AutoCloseable {

  /** How long {@link #close()} waits for the vCPU threads to end. */
  public static final long CLOSE_TIMEOUT_MILLIS = 10_000;

  private static final System.Logger LOG = System.getLogger(SimulatedGuest.class.getName());

  private enum State {
    NEW,
    BOOTING,
    PAUSED,
    RUNNING,
    CLOSED
  }

  private final GuestMemory memory;
  private final BuddyAllocator allocator;
  private final Workload workload;
  private final long seed;
  private final RunGate gate = new RunGate();
  private volatile int throttlePercent;
  private final List<Vcpu> vcpus;
  private final List<Thread> threads = new ArrayList<>();
  private final List<RunStateListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<Class<?>, Object> devices = new ConcurrentHashMap<>();
  private final CountDownLatch bootDone;
  private final CountDownLatch bootReleased = new CountDownLatch(1);
  private final Object stateLock = new Object();
  private final Object failureLock = new Object();
  private volatile State state = State.NEW;
  private volatile boolean bootFailed;
  private Throwable failure;

  private SimulatedGuest(GuestMemory memory, int vcpuCount, Workload workload, long seed) {
    this.memory = memory;
    this.allocator = new BuddyAllocator(memory);
    this.workload = workload;
    this.seed = seed;
    this.bootDone = new CountDownLatch(vcpuCount);
    SplittableRandom root = new SplittableRandom(seed);
    List<Vcpu> cpus = new ArrayList<>();
    for (int i = 0; i < vcpuCount; i++) {
      cpus.add(new Vcpu(i, vcpuCount, memory, allocator, root.split(), gate));
    }
    this.vcpus = List.copyOf(cpus);
  }

  /** A builder; memory (or its size) is required, the rest has defaults. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public GuestMemory memory() {
    return memory;
  }

  /** The guest's page allocator (the balloon driver allocates from it). */
  public BuddyAllocator allocator() {
    return allocator;
  }

  /** The seed the vCPUs' random sources derive from. */
  public long seed() {
    return seed;
  }

  /** Number of vCPUs. */
  public int vcpuCount() {
    return vcpus.size();
  }

  /**
   * Boots the guest: starts the vCPU threads, runs every vCPU's boot concurrently and returns when
   * all are done, leaving the guest paused. Does nothing if already booted.
   *
   * @throws IllegalStateException if a vCPU's boot failed (the failure is its cause) or the guest
   *     was closed
   */
  public void boot() {
    synchronized (stateLock) {
      if (state == State.CLOSED) {
        throw new IllegalStateException("guest is closed");
      }
      if (state != State.NEW) {
        return;
      }
      List<VcpuProgram> programs = new ArrayList<>();
      for (Vcpu cpu : vcpus) {
        programs.add(Objects.requireNonNull(workload.program(cpu), "workload returned no program"));
      }
      state = State.BOOTING;
      for (Vcpu cpu : vcpus) {
        VcpuProgram program = programs.get(cpu.index());
        Thread thread = new Thread(() -> runVcpu(cpu, program), "vcpu-" + cpu.index());
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
      }
    }
    awaitUninterruptibly(bootDone);
    synchronized (stateLock) {
      if (state == State.BOOTING) {
        gate.halt(vcpus);
        state = State.PAUSED;
      }
      bootReleased.countDown();
      stateLock.notifyAll();
      if (bootFailed) {
        throw new IllegalStateException("guest boot failed", failure().orElse(null));
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException("guest was closed while it booted");
      }
    }
  }

  /** Boots the guest if needed ({@link #boot()}) and runs it. */
  public void start() {
    boot();
    resume();
  }

  /**
   * Stops every vCPU at a safe point and returns once none is writing; then tells the run-state
   * listeners. Waits for a boot in progress. Does nothing unless the guest runs.
   */
  @Override
  public void pause() {
    synchronized (stateLock) {
      awaitBootEnd();
      if (state != State.RUNNING) {
        return;
      }
      gate.halt(vcpus);
      state = State.PAUSED;
      notifyListeners(false);
    }
  }

  /**
   * Tells the run-state listeners, then lets the vCPUs run. Does nothing if the guest runs.
   *
   * @throws IllegalStateException if the guest has not booted or is closed
   */
  @Override
  public void resume() {
    synchronized (stateLock) {
      awaitBootEnd();
      if (state == State.NEW) {
        throw new IllegalStateException("guest has not booted: call start()");
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException("guest is closed");
      }
      if (state == State.RUNNING) {
        return;
      }
      state = State.RUNNING;
      try {
        notifyListeners(true);
      } finally {
        gate.release();
      }
    }
  }

  /**
   * Throttles the vCPUs as QEMU does: each halts for {@code percent / (100 - percent)} of every 10
   * ms it runs (halted time does not count), at a safe point, so a pause is not delayed.
   *
   * @throws IllegalArgumentException if {@code percent} is not 0 to 99
   */
  @Override
  public boolean throttle(int percent) {
    if (percent < 0 || percent > 99) {
      throw new IllegalArgumentException("throttle " + percent + " % is not 0 to 99");
    }
    throttlePercent = percent;
    return true;
  }

  /** The vCPUs' throttle now, in percent. */
  public int throttlePercentage() {
    return throttlePercent;
  }

  @Override
  public boolean isRunning() {
    return state == State.RUNNING;
  }

  /**
   * Pauses the guest if it runs, stops the vCPU threads and unmaps the memory. Idempotent.
   *
   * @throws IllegalStateException if a vCPU thread did not end within {@link
   *     #CLOSE_TIMEOUT_MILLIS}; the memory then stays mapped, since the thread may still write it
   */
  @Override
  public void close() {
    synchronized (stateLock) {
      if (state == State.CLOSED) {
        return;
      }
      boolean wasRunning = state == State.RUNNING;
      if (wasRunning) {
        gate.halt(vcpus);
      }
      state = State.CLOSED;
      gate.stop();
      bootReleased.countDown();
      stateLock.notifyAll();
      if (wasRunning) {
        notifyListeners(false);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MILLIS);
    List<String> stuck = new ArrayList<>();
    for (Thread thread : threads) {
      LockSupport.unpark(thread);
      if (!join(thread, deadline)) {
        stuck.add(thread.getName());
      }
    }
    if (!stuck.isEmpty()) {
      throw new IllegalStateException(
          "vCPU threads "
              + stuck
              + " did not stop within "
              + CLOSE_TIMEOUT_MILLIS
              + " ms; guest memory left mapped");
    }
    memory.close();
  }

  /** Registers {@code listener} for run-state changes ({@link RunStateListener}). */
  public void addRunStateListener(RunStateListener listener) {
    listeners.add(Objects.requireNonNull(listener));
  }

  /** Unregisters {@code listener}; does nothing if it is not registered. */
  public void removeRunStateListener(RunStateListener listener) {
    listeners.remove(listener);
  }

  /**
   * Attaches {@code device} as the guest's device of {@code type}.
   *
   * @throws IllegalStateException if a device of that type is already attached
   */
  public <T> void attach(Class<T> type, T device) {
    Object previous = devices.putIfAbsent(type, type.cast(Objects.requireNonNull(device)));
    if (previous != null) {
      throw new IllegalStateException(
          "a device of type " + type.getName() + " is already attached: " + previous);
    }
  }

  @Override
  public <T> Optional<T> device(Class<T> type) {
    return Optional.ofNullable(type.cast(devices.get(type)));
  }

  /** The pages the guest's allocator has in use in {@code block} (a snapshot). */
  @Override
  public PageBitmap pagesInUse(RamBlock block) {
    return allocator.pagesInUse(block);
  }

  /** Bytes of pages the workload has written so far, over all vCPUs (a monotonic counter). */
  public long workDone() {
    long total = 0;
    for (Vcpu cpu : vcpus) {
      total += cpu.workDone();
    }
    return total;
  }

  /**
   * Waits until every vCPU of the paused guest has come to its next safe point and is held there:
   * the event that proves the vCPUs tried to go on and were stopped. A vCPU whose workload failed
   * never comes. For tests.
   *
   * @return whether all are held; false if {@code timeout} passed first
   */
  boolean awaitVcpusHeld(long timeout, TimeUnit unit) throws InterruptedException {
    return gate.awaitHeld(vcpus.size(), unit.toNanos(timeout));
  }

  /**
   * The first failure of a workload, naming its vCPU and phase, with later failures as suppressed
   * exceptions; empty if none failed.
   */
  public Optional<Throwable> failure() {
    synchronized (failureLock) {
      return Optional.ofNullable(failure);
    }
  }

  private void runVcpu(Vcpu cpu, VcpuProgram program) {
    if (!bootVcpu(cpu, program)) {
      return;
    }
    try {
      awaitUninterruptibly(bootReleased);
      while (true) {
        gate.enter(cpu);
        cpu.step(program, throttlePercent);
      }
    } catch (RunGate.Stopped e) {
      LOG.log(System.Logger.Level.DEBUG, "vcpu-{0} stopped", cpu.index());
    } catch (Throwable t) {
      recordFailure(cpu, "a step", t);
    } finally {
      cpu.inStep = false;
    }
  }

  /**
   * Runs {@code cpu}'s boot; a failure is recorded before {@link #boot()} can see the boot done.
   */
  private boolean bootVcpu(Vcpu cpu, VcpuProgram program) {
    cpu.inStep = true;
    try {
      program.boot();
      return true;
    } catch (RunGate.Stopped e) {
      LOG.log(System.Logger.Level.DEBUG, "vcpu-{0} stopped during boot", cpu.index());
      return false;
    } catch (Throwable t) {
      recordFailure(cpu, "boot", t);
      bootFailed = true;
      return false;
    } finally {
      cpu.inStep = false;
      bootDone.countDown();
    }
  }

  private void recordFailure(Vcpu cpu, String phase, Throwable t) {
    String message = "vcpu-" + cpu.index() + " stopped: its workload failed during " + phase;
    IllegalStateException wrapped = new IllegalStateException(message + ": " + t, t);
    synchronized (failureLock) {
      if (failure == null) {
        failure = wrapped;
      } else {
        failure.addSuppressed(wrapped);
      }
    }
    // One line, without the stack trace: the failure may be a memory or I/O problem (a fault on a
    // full /dev/shm), not a bug; failure() keeps the whole throwable, and DEBUG logs it.
    LOG.log(System.Logger.Level.WARNING, message + ": " + t);
    LOG.log(System.Logger.Level.DEBUG, message, t);
  }

  private void notifyListeners(boolean running) {
    RuntimeException first = null;
    for (RunStateListener listener : listeners) {
      try {
        listener.runStateChanged(running);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private void awaitBootEnd() {
    boolean interrupted = false;
    while (state == State.BOOTING) {
      try {
        stateLock.wait();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean join(Thread thread, long deadlineNanos) {
    boolean interrupted = false;
    try {
      while (thread.isAlive()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedJoin(thread, left);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Builds a {@link SimulatedGuest}. Not thread-safe. */
  public static final class Builder {
    private GuestMemory memory;
    private long memorySize;
    private int vcpus = 4;
    private long seed;
    private Workload workload;

    private Builder() {}

    /** The guest's memory; the guest takes ownership and closes it. */
    public Builder memory(GuestMemory memory) {
      this.memory = Objects.requireNonNull(memory);
      this.memorySize = 0;
      return this;
    }

    /** Gives the guest one anonymous RAM block {@code pc.ram} of {@code bytes} at address 0. */
    public Builder memorySize(long bytes) {
      if (bytes <= 0 || (bytes & (GuestMemory.PAGE_SIZE - 1)) != 0) {
        throw new IllegalArgumentException(
            "memory size " + bytes + " must be a positive multiple of " + GuestMemory.PAGE_SIZE);
      }
      this.memorySize = bytes;
      this.memory = null;
      return this;
    }

    /** Number of vCPUs, 1 to 1024; default 4. */
    public Builder vcpus(int count) {
      if (count < 1 || count > 1024) {
        throw new IllegalArgumentException("vCPU count " + count + " is outside [1, 1024]");
      }
      this.vcpus = count;
      return this;
    }

    /** The seed of the vCPUs' random sources; default 0. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The workload; one instance serves one guest. Default: {@code idle} with its defaults. */
    public Builder workload(Workload workload) {
      this.workload = Objects.requireNonNull(workload);
      return this;
    }

    /**
     * A built-in workload by name ({@link Workloads#create}).
     *
     * @throws IllegalArgumentException if the name or an option is invalid
     */
    public Builder workload(String name, WorkloadOptions options) {
      this.workload = Workloads.create(name, options);
      return this;
    }

    /**
     * Builds the guest (mapping its memory if only the size was given); it does not run until
     * {@link SimulatedGuest#start()}.
     *
     * @throws IllegalStateException if neither memory nor its size was given
     */
    public SimulatedGuest build() {
      if (memory == null && memorySize == 0) {
        throw new IllegalStateException(
            "the guest needs memory: call memory(...) or memorySize(...)");
      }
      Workload chosen =
          workload != null
              ? workload
              : Workloads.create(IdleWorkload.NAME, WorkloadOptions.defaults());
      GuestMemory guestMemory = memory != null ? memory : GuestMemory.anonymous(memorySize);
      try {
        return new SimulatedGuest(guestMemory, vcpus, chosen, seed);
      } catch (RuntimeException e) {
        if (memory == null) {
          guestMemory.close();
        }
        throw e;
      }
    }
  }
}
