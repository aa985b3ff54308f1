#pragma once
// Heap settings for a process that allocates and frees large tensors every batch.

namespace fer {

/// Keeps freed memory in the process instead of handing it back to the kernel at every free.
/// glibc serves blocks over 32 MiB (a batch of activations) with mmap and unmaps them on free,
/// so each training step page-faults its activations in again: on a 2-core machine that cost
/// two thirds of the time of a ResNet-18 epoch and four fifths of a ten-crop evaluation (see the
/// README's performance notes). The heap is never trimmed: peak memory stays reserved until the
/// process ends.
/// Does nothing when GLIBC_TUNABLES sets malloc options (the user's choice wins), or on
/// a C library other than glibc. Call once, first thing in main().
void tune_allocator();

}  // namespace fer
