package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What a vCPU writes into the pages it writes whole: the {@code content} option of every workload
 * (documented in {@link Workloads}). {@code random} keeps the vCPU's own random filler and needs no
 * instance; {@code text} and {@code mixed} are a pool of {@value #POOL_PAGES} pages generated once
 * per guest from a seeded random source, from which each whole-page write copies one page chosen at
 * random: generating content costs nothing while the guest runs, only a copy of 4 KiB per page. The
 * vCPU then stamps the page as for {@code random} (its address, a sequence number and a random
 * word), so rewriting a page always changes it. Pool pages repeat across guest memory, one in
 * {@value #POOL_PAGES} on average, rarely within a 32 KiB compression window.
 *
 * <p>Immutable once generated, so the vCPUs of a guest share one instance.
 */
final class PageContent {

  static final String OPTION = "content";
  static final String RANDOM = "random";
  static final String TEXT = "text";
  static final String MIXED = "mixed";
  static final List<String> KINDS = List.of(RANDOM, TEXT, MIXED);

  /** The option's declaration, shared by every workload. */
  static final WorkloadOption DECLARATION =
      WorkloadOption.choice(
          OPTION,
          "what whole pages are written with: random bytes, English-like text, or a mix of"
              + " zero-rich, text, code-like and random pages",
          KINDS,
          "text");

  static final int POOL_PAGES = 512;

  /** The classes of a {@code mixed} page, with the pool pages of each (their share). */
  enum MixedClass {
    ZERO_RICH(128),
    TEXT(128),
    CODE(128),
    RANDOM(128);

    final int poolPages;

    MixedClass(int poolPages) {
      this.poolPages = poolPages;
    }
  }

  private static final int PAGE = GuestMemory.PAGE_SIZE;

  /**
   * Common English words, roughly most frequent first; their order sets their frequency in text
   * (the exact list matters little to how the text compresses).
   */
  private static final String[] VOCABULARY =
      ("the of and to a in is that for it as was with be by on not he this are or his from at"
              + " which but have an they you were her she there been one all we their has would"
              + " when if can will more no out so said what up its about into than them only"
              + " other time new some could these two may first then do any like my now over"
              + " such our man me even most made after also did many before must through back"
              + " years where much your way well down should because each just those people how"
              + " too little state good very make world still own see men work long get here"
              + " between both life being under never day same another know while last might us"
              + " great old year off come since against go came right used take three himself"
              + " few house use during without again place around however home small found thought"
              + " went say part once general high upon school every does got united left"
              + " number course war until always away something fact though water less public put"
              + " think almost hand enough far took head yet government system better set told"
              + " nothing night end why called eyes find going look asked later knew point"
              + " next program city business give group toward young days let room president side"
              + " social given present several order national possible rather second face per"
              + " among form important often things looked early white case john become large big"
              + " need four within felt along children saw best church ever least power development"
              + " light thing seemed family interest want members mind country area others done"
              + " turned although open god service certain kind problem began different door thus"
              + " help sense means whole matter perhaps itself york times law human line above name"
              + " example action company hands local show whether five history gave today either"
              + " act feet across taken past quite anything seen having death experience body word"
              + " half really field am words already information tell together college shall money"
              + " period held keep sure free seems real behind cannot miss political air question"
              + " making office brought whose special heard major problems ago became federal"
              + " moment study available known result street economic boy position reason change"
              + " south board individual job areas society west close turn love community true"
              + " court force full seem policy wife future age voice center woman control")
          .split(" ");

  /** The exponent s of the Zipf-like weight 1 / r^s of the word of rank r. */
  private static final double ZIPF_EXPONENT = 1.3;

  private static final double[] ZIPF_CUMULATIVE = zipfCumulative(VOCABULARY.length);

  /** x86-64 instruction byte patterns of compiled code, by how often they occur. */
  private static final String[] INSTRUCTIONS = {
    "48 89 c7", // mov rdi, rax
    "48 89 e5", // mov rbp, rsp
    "48 8b 45 d8", // mov rax, [rbp-0x28]
    "48 8b 7d d0", // mov rdi, [rbp-0x30]
    "48 8b 43 s1", // mov rax, [rbx+disp8]
    "48 89 45 s1", // mov [rbp+disp8], rax
    "8b 45 s1", // mov eax, [rbp+disp8]
    "89 c2", // mov edx, eax
    "48 83 c4 s1", // add rsp, imm8
    "48 83 ec s1", // sub rsp, imm8
    "85 c0", // test eax, eax
    "48 85 c0", // test rax, rax
    "31 c0", // xor eax, eax
    "74 b1", // je rel8
    "75 b1", // jne rel8
    "0f 84 r4", // je rel32
    "e8 r4", // call rel32
    "e9 r4", // jmp rel32
    "48 8d 3d r4", // lea rdi, [rip+rel32]
    "48 8b 05 r4", // mov rax, [rip+rel32]
    "be b1 00 00 00", // mov esi, imm32
    "41 54", // push r12
    "53", // push rbx
    "5b", // pop rbx
    "41 5c", // pop r12
    "c6 45 s1 00", // mov byte [rbp+disp8], 0
    "0f b6 45 s1", // movzx eax, byte [rbp+disp8]
    "48 63 d0", // movsxd rdx, eax
    "39 c2", // cmp edx, eax
    "83 f8 b1", // cmp eax, imm8
  };

  private static final int[][] INSTRUCTION_BYTES = compile(INSTRUCTIONS);
  private static final int SMALL = -1;
  private static final int ANY = -2;
  private static final int REL32 = -3;

  private final byte[] pool;

  private PageContent(byte[] pool) {
    this.pool = pool;
  }

  /**
   * The pool of {@code kind}, {@code text} or {@code mixed}, generated from {@code random}. ({@code
   * random} has no pool: its pages are the vCPU's own filler.)
   */
  static PageContent generate(String kind, SplittableRandom random) {
    byte[] pool = new byte[POOL_PAGES * PAGE];
    int page = 0;
    if (TEXT.equals(kind)) {
      for (; page < POOL_PAGES; page++) {
        text(random, pool, page * PAGE);
      }
      return new PageContent(pool);
    }
    for (MixedClass mixedClass : MixedClass.values()) {
      for (int i = 0; i < mixedClass.poolPages; i++, page++) {
        int offset = page * PAGE;
        switch (mixedClass) {
          case ZERO_RICH -> zeroRich(random, pool, offset);
          case TEXT -> text(random, pool, offset);
          case CODE -> code(random, pool, offset);
          case RANDOM -> randomBytes(random, pool, offset);
        }
      }
    }
    return new PageContent(pool);
  }

  /** Copies a pool page chosen with {@code random} to {@code offset} of {@code target}. */
  void copyPage(SplittableRandom random, byte[] target, int offset) {
    System.arraycopy(pool, random.nextInt(POOL_PAGES) * PAGE, target, offset, PAGE);
  }

  /**
   * Words drawn with a Zipf-like frequency (the word of rank r with weight 1 / r^1.3) from {@link
   * #VOCABULARY}, in sentences of 4 to 20 words, lines wrapped at 72 characters, and a blank line
   * between paragraphs now and then.
   */
  static void text(SplittableRandom random, byte[] target, int offset) {
    int end = offset + PAGE;
    int at = offset;
    int column = 0;
    int wordsLeft = 0;
    boolean sentenceStart = true;
    while (at < end) {
      if (wordsLeft == 0) {
        wordsLeft = 4 + random.nextInt(17);
        sentenceStart = true;
      }
      String word = VOCABULARY[zipfRank(random)];
      wordsLeft--;
      String separator = wordsLeft == 0 ? (random.nextInt(6) == 0 ? ".\n\n" : ". ") : " ";
      if (column > 0 && column + word.length() > 72) {
        at = put(target, at, end, "\n");
        column = 0;
      }
      for (int i = 0; i < word.length() && at < end; i++, at++) {
        char c = word.charAt(i);
        target[at] = (byte) (sentenceStart && i == 0 ? Character.toUpperCase(c) : c);
      }
      sentenceStart = false;
      column += word.length();
      at = put(target, at, end, separator);
      column = separator.endsWith("\n") ? 0 : column + separator.length();
    }
  }

  private static double[] zipfCumulative(int words) {
    double[] cumulative = new double[words];
    double sum = 0;
    for (int rank = 1; rank <= words; rank++) {
      sum += Math.pow(rank, -ZIPF_EXPONENT);
      cumulative[rank - 1] = sum;
    }
    for (int i = 0; i < words; i++) {
      cumulative[i] /= sum;
    }
    return cumulative;
  }

  private static int zipfRank(SplittableRandom random) {
    int index = Arrays.binarySearch(ZIPF_CUMULATIVE, random.nextDouble());
    return Math.min(VOCABULARY.length - 1, index >= 0 ? index : -index - 1);
  }

  private static int put(byte[] target, int at, int end, String text) {
    for (int i = 0; i < text.length() && at < end; i++, at++) {
      target[at] = (byte) text.charAt(i);
    }
    return at;
  }

  /**
   * Mostly zeros with one to four runs of one to sixteen non-zero 8-byte words: a page table with a
   * few present entries, or a sparsely used heap page of pointers and small counters.
   */
  static void zeroRich(SplittableRandom random, byte[] target, int offset) {
    Arrays.fill(target, offset, offset + PAGE, (byte) 0);
    int runs = 1 + random.nextInt(4);
    for (int run = 0; run < runs; run++) {
      int words = 1 + random.nextInt(16);
      int first = random.nextInt(PAGE / Long.BYTES - words + 1);
      int kind = random.nextInt(3);
      for (int word = first; word < first + words; word++) {
        long value =
            switch (kind) {
              case 0 -> (random.nextLong(1L << 24) << 12) | 0x67; // a present, written page
              case 1 -> 0xffff888000000000L | (random.nextLong(1L << 30) << 3); // a pointer
              default -> 1 + random.nextInt(1000); // a counter
            };
        putLong(target, offset + word * Long.BYTES, value);
      }
    }
  }

  /**
   * Functions of compiled x86-64 code: a frame-pointer prologue, 8 to 40 instructions drawn from
   * {@link #INSTRUCTIONS} with random displacements, immediates and near call targets, an epilogue,
   * and padding to 16 bytes.
   */
  static void code(SplittableRandom random, byte[] target, int offset) {
    int end = offset + PAGE;
    int at = offset;
    while (at < end) {
      at = emit(target, at, end, new int[] {0x55, 0x48, 0x89, 0xe5}, random);
      int instructions = 8 + random.nextInt(33);
      for (int i = 0; i < instructions; i++) {
        at = emit(target, at, end, INSTRUCTION_BYTES[random.nextInt(INSTRUCTIONS.length)], random);
      }
      at = emit(target, at, end, new int[] {0x5d, 0xc3}, random);
      while (at < end && (at - offset) % 16 != 0) {
        target[at++] = (byte) 0xcc;
      }
    }
  }

  private static int emit(byte[] target, int at, int end, int[] pattern, SplittableRandom random) {
    for (int b : pattern) {
      if (b == REL32) {
        int rel = random.nextInt(1 << 17) - (1 << 16);
        for (int i = 0; i < 4 && at < end; i++) {
          target[at++] = (byte) (rel >> (8 * i));
        }
      } else if (at < end) {
        target[at++] =
            (byte) (b == SMALL ? random.nextInt(16) * 8 : b == ANY ? random.nextInt(256) : b);
      }
    }
    return at;
  }

  private static int[][] compile(String[] instructions) {
    int[][] compiled = new int[instructions.length][];
    for (int i = 0; i < instructions.length; i++) {
      compiled[i] =
          Arrays.stream(instructions[i].split(" "))
              .mapToInt(
                  token ->
                      switch (token) {
                        case "s1" -> SMALL;
                        case "b1" -> ANY;
                        case "r4" -> REL32;
                        default -> Integer.parseInt(token, 16);
                      })
              .toArray();
    }
    return compiled;
  }

  /** Random bytes: already compressed or encrypted data. */
  static void randomBytes(SplittableRandom random, byte[] target, int offset) {
    for (int at = offset; at < offset + PAGE; at += Long.BYTES) {
      putLong(target, at, random.nextLong());
    }
  }

  private static void putLong(byte[] target, int at, long value) {
    for (int i = 0; i < Long.BYTES; i++) {
      target[at + i] = (byte) (value >>> (8 * i));
    }
  }
}
