//! Small-block allocator for the Wasm VM: freed blocks of up to 512 bytes go on a free
//! list per size class and are handed out again at once, in front of the system
//! allocator (wasi-libc's dlmalloc). A request allocates and frees hundreds of small
//! strings and vectors; dlmalloc's bookkeeping for each showed up as a large share of
//! the filter's instructions. Blocks of up to 4 KiB (bodies, the text they carry) get
//! three power-of-two classes with a shorter list; larger ones go straight to the
//! system allocator. Measured with bench/icount.py: see bench/fastpaths.md.
//!
//! Sound only without threads: the lists are plain cells, and the `Sync` below is a
//! promise that holds on wasm32-wasip1 (one thread per VM), where alone it is installed
//! (see `lib.rs`); native builds and tests keep the system allocator and test this
//! through a private instance on one thread.

// Natively only the tests use it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
// An allocator is unsafe by contract (see lib.rs: the crate denies `unsafe` elsewhere).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;

const CLASS: usize = 16;
const SMALL_CLASSES: usize = 32; // 16, 32, … 512 bytes
const MAX_SMALL: usize = CLASS * SMALL_CLASSES;
/// 1, 2 and 4 KiB.
const MEDIUM_CLASSES: usize = 3;
const CLASSES: usize = SMALL_CLASSES + MEDIUM_CLASSES;
const MAX_MEDIUM: usize = MAX_SMALL << MEDIUM_CLASSES;
/// Blocks kept per class (at most 512 KiB for the largest small one, 256 KiB for the
/// 4 KiB one): beyond this, a burst's blocks go back to the system allocator, which can
/// merge them for larger uses.
const MAX_KEPT: u32 = 1024;
const MAX_KEPT_MEDIUM: u32 = 64;

pub struct SmallBlocks {
    free: [Cell<*mut u8>; CLASSES],
    kept: [Cell<u32>; CLASSES],
}

// SAFETY: see the module comment: installed only where there is a single thread.
unsafe impl Sync for SmallBlocks {}

impl SmallBlocks {
    pub const fn new() -> Self {
        SmallBlocks {
            free: [const { Cell::new(null_mut()) }; CLASSES],
            kept: [const { Cell::new(0) }; CLASSES],
        }
    }

    /// The class of a layout this allocator serves, or None (large or over-aligned).
    fn class(layout: Layout) -> Option<usize> {
        let size = layout.size();
        if size == 0 || size > MAX_MEDIUM || layout.align() > CLASS {
            return None;
        }
        if size <= MAX_SMALL {
            return Some((size - 1) / CLASS);
        }
        // 513..=1024 → 32, ..=2048 → 33, ..=4096 → 34.
        let doublings = (size - 1).ilog2() as usize - MAX_SMALL.ilog2() as usize;
        Some(SMALL_CLASSES + doublings)
    }

    fn block_size(class: usize) -> usize {
        if class < SMALL_CLASSES {
            (class + 1) * CLASS
        } else {
            MAX_SMALL << (class + 1 - SMALL_CLASSES)
        }
    }

    fn block_layout(class: usize) -> Layout {
        // Multiples of 16 up to 4096 with align 16: always a valid layout.
        Layout::from_size_align(Self::block_size(class), CLASS).unwrap_or(Layout::new::<u8>())
    }

    fn max_kept(class: usize) -> u32 {
        if class < SMALL_CLASSES {
            MAX_KEPT
        } else {
            MAX_KEPT_MEDIUM
        }
    }
}

impl Default for SmallBlocks {
    fn default() -> Self {
        SmallBlocks::new()
    }
}

unsafe impl GlobalAlloc for SmallBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            return System.alloc(layout);
        };
        let (Some(list), Some(kept)) = (self.free.get(class), self.kept.get(class)) else {
            return System.alloc(layout);
        };
        let head = list.get();
        if head.is_null() {
            return System.alloc(Self::block_layout(class));
        }
        // SAFETY: a block on the list is at least 16 bytes, 16-aligned, and holds the
        // next pointer written by `dealloc`.
        list.set(head.cast::<*mut u8>().read());
        kept.set(kept.get().saturating_sub(1));
        head
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            return System.dealloc(ptr, layout);
        };
        let (Some(list), Some(kept)) = (self.free.get(class), self.kept.get(class)) else {
            return System.dealloc(ptr, layout);
        };
        if kept.get() >= Self::max_kept(class) {
            // Every block of this class was allocated with the class's layout.
            return System.dealloc(ptr, Self::block_layout(class));
        }
        // SAFETY: the block came from `alloc` for this class (same layout, as GlobalAlloc
        // guarantees), so it has room for a pointer.
        ptr.cast::<*mut u8>().write(list.get());
        list.set(ptr);
        kept.set(kept.get() + 1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = Self::class(layout);
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return null_mut();
        };
        let new = Self::class(new_layout);
        match (old, new) {
            (Some(a), Some(b)) if a == b => ptr,
            (None, None) => System.realloc(ptr, layout, new_size),
            _ => {
                let fresh = self.alloc(new_layout);
                if !fresh.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                fresh
            }
        }
    }
}

/// The system allocator, counting per thread (installed for the native test build, see
/// `translate::work`).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub struct Counting;

#[cfg(all(test, not(target_arch = "wasm32")))]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        crate::translate::work::count(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        crate::translate::work::count(size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reuses_blocks_per_class_and_keeps_contents_across_realloc() {
        let a = SmallBlocks::new();
        unsafe {
            let l24 = Layout::from_size_align(24, 8).unwrap();
            let p = a.alloc(l24);
            p.write_bytes(7, 24);
            a.dealloc(p, l24);
            // Same class (17..=32 bytes): the same block comes back.
            let l30 = Layout::from_size_align(30, 4).unwrap();
            let q = a.alloc(l30);
            assert_eq!(p, q);
            q.write_bytes(1, 30);
            // Grow within the class: in place; across classes: copied.
            assert_eq!(a.realloc(q, l30, 32), q);
            let l32 = Layout::from_size_align(32, 4).unwrap();
            let r = a.realloc(q, l32, 100);
            assert_ne!(r, q);
            assert_eq!(std::slice::from_raw_parts(r, 30), &[1u8; 30][..]);
            // Into a large block and back.
            let l100 = Layout::from_size_align(100, 4).unwrap();
            let big = a.realloc(r, l100, 4096);
            assert_eq!(std::slice::from_raw_parts(big, 30), &[1u8; 30][..]);
            let l4096 = Layout::from_size_align(4096, 4).unwrap();
            let small = a.realloc(big, l4096, 10);
            assert_eq!(std::slice::from_raw_parts(small, 10), &[1u8; 10][..]);
            a.dealloc(small, Layout::from_size_align(10, 4).unwrap());
            // Over-aligned layouts bypass the lists.
            let l64a = Layout::from_size_align(64, 64).unwrap();
            let o = a.alloc(l64a);
            assert_eq!(o as usize % 64, 0);
            a.dealloc(o, l64a);
        }
    }

    #[test]
    fn classes_cover_sizes_with_room_to_spare() {
        let mut last = 0;
        for size in 1..=4096usize {
            let c = SmallBlocks::class(Layout::from_size_align(size, 8).unwrap()).unwrap();
            assert!(c >= last && c < CLASSES, "{size}");
            assert!(SmallBlocks::block_size(c) >= size, "{size}");
            // No class is more than twice the request (above the 16-byte steps).
            assert!(SmallBlocks::block_size(c) < 2 * size.max(CLASS), "{size}");
            last = c;
        }
        assert_eq!(
            SmallBlocks::class(Layout::from_size_align(512, 1).unwrap()),
            Some(31)
        );
        assert_eq!(
            SmallBlocks::class(Layout::from_size_align(513, 1).unwrap()),
            Some(32)
        );
        assert_eq!(
            SmallBlocks::class(Layout::from_size_align(1025, 1).unwrap()),
            Some(33)
        );
        assert_eq!(
            SmallBlocks::class(Layout::from_size_align(4096, 1).unwrap()),
            Some(34)
        );
        assert_eq!(
            SmallBlocks::class(Layout::from_size_align(4097, 1).unwrap()),
            None
        );
    }

    #[test]
    fn many_live_blocks_stay_distinct() {
        let a = SmallBlocks::new();
        let mut live = Vec::new();
        unsafe {
            for round in 0..3 {
                // Over MAX_KEPT blocks of some classes: the surplus goes back to System.
                let medium = std::iter::repeat_n(3000, 100).chain([700, 1500, 4096, 5000]);
                for size in (1..=600usize)
                    .chain(std::iter::repeat_n(20, 1500))
                    .chain(medium)
                {
                    let l = Layout::from_size_align(size, 1).unwrap();
                    let p = a.alloc(l);
                    p.write_bytes((size % 251) as u8, size);
                    live.push((p, l));
                }
                for (i, (p, l)) in live.iter().enumerate() {
                    let want = (l.size() % 251) as u8;
                    assert!(
                        std::slice::from_raw_parts(*p, l.size())
                            .iter()
                            .all(|b| *b == want),
                        "{round} {i}"
                    );
                }
                for (p, l) in live.drain(..) {
                    a.dealloc(p, l);
                }
            }
        }
    }
}
