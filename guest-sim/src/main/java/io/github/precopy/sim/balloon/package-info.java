/**
 * The guest side of free page hinting: {@link io.github.precopy.sim.balloon.BalloonDriver}, a model
 * of Linux's virtio-balloon driver ({@code drivers/virtio/virtio_balloon.c}) for the simulated
 * guest, which reports free max-order blocks of the guest's buddy allocator to a {@link
 * io.github.precopy.balloon.FreePageHintDevice}.
 */
package io.github.precopy.sim.balloon;
