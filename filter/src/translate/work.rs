//! Counting the work a translation does, so that tests can bound it: a per-request pass
//! that is quadratic in the body shows up as counts growing faster than the body does.
//! Outside tests `step` compiles to nothing and the counting allocator (`alloc.rs`) is not
//! installed.

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

/// One allocation of `size` bytes on this thread (from `alloc::Counting`).
#[cfg(test)]
pub fn count(size: usize) {
    // `try_with`: thread-local storage may already be gone while a thread exits.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
}
