/**
 * Guest RAM: {@link io.github.precopy.core.memory.GuestMemory} (RAM blocks of real off-heap memory,
 * the only way anything writes them), its {@link io.github.precopy.core.memory.RamBlock}s (read
 * only), the {@link io.github.precopy.core.memory.DirtyTracker} through which one migration at a
 * time takes the pages written, and the {@link io.github.precopy.core.memory.Guest} a custom stack
 * implements: its memory, pause and resume, devices and the pages it has in use.
 */
package io.github.precopy.core.memory;
