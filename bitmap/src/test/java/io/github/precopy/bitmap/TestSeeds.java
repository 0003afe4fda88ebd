package io.github.precopy.bitmap;

/** Base seeds for randomized tests: {@code -Dprecopy.seed=N} replays a run, else a fresh seed. */
final class TestSeeds {

  private TestSeeds() {}

  /** Returns the base seed and prints it, so that every run can be replayed. */
  static long baseSeed(Class<?> testClass) {
    String property = System.getProperty("precopy.seed");
    long seed =
        property == null || property.isBlank()
            ? System.nanoTime()
            : Long.parseLong(property.trim());
    System.out.println("seed=" + seed + " " + testClass.getSimpleName());
    return seed;
  }

  /** Derives a case seed from the base seed and the case's parameters (SplitMix64 finalizer). */
  static long derive(long seed, long... parts) {
    long z = seed;
    for (long part : parts) {
      z = (z ^ part) * 0x9E3779B97F4A7C15L;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
    }
    return z;
  }
}
