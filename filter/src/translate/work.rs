//! Counting the work a translation does, so that tests can bound it: a per-request pass
//! that is quadratic in the body shows up as counts growing faster than the body does.
//! Outside tests `step` compiles to nothing and the counting allocator is not installed.

#[cfg(test)]
use std::cell::Cell;

#[cfg(test)]
thread_local! {
    static STEPS: Cell<u64> = const { Cell::new(0) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// One unit of work whose count depends on the request (e.g. a key comparison).
#[inline(always)]
pub fn step() {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + 1));
}

/// Steps, allocations and allocated bytes of this thread while `f` runs.
#[cfg(test)]
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, [u64; 3]) {
    let read = || {
        [
            STEPS.with(Cell::get),
            ALLOCS.with(Cell::get),
            BYTES.with(Cell::get),
        ]
    };
    let before = read();
    let out = f();
    let after = read();
    let mut d = [0; 3];
    for ((d, a), b) in d.iter_mut().zip(after).zip(before) {
        *d = a - b;
    }
    (out, d)
}

/// The system allocator, counting per thread (installed for the native test build).
#[cfg(test)]
pub struct Counting;

#[cfg(test)]
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        count(size);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[cfg(test)]
fn count(size: usize) {
    // `try_with`: thread-local storage may already be gone while a thread exits.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
}
