//! How much of a tick may run in parallel.
//!
//! Thread count never changes results (see the determinism invariant in ARCHITECTURE.md); it only
//! decides whether loops fan out. Small loops stay on one thread because waking workers costs more
//! than the work (PERFORMANCE.md: at 1k characters two threads were 2x slower than one).

use bevy_ecs::prelude::*;

/// Below this many items a per-entity loop runs on the calling thread.
pub const PARALLEL_MIN_ITEMS: usize = 4096;

/// Parallelism settings of one simulation. Not part of the world state or its hash.
#[derive(Resource, Clone, Copy, Debug)]
pub struct Parallelism {
    /// Worker threads for this simulation (1 = everything on the calling thread).
    pub threads: usize,
}

impl Parallelism {
    /// Whether a loop over `n_items` should fan out.
    pub fn parallel(&self, n_items: usize) -> bool {
        self.threads > 1 && n_items >= PARALLEL_MIN_ITEMS
    }
}

impl Default for Parallelism {
    fn default() -> Self {
        Self { threads: 1 }
    }
}

/// Lets parallel loops write disjoint elements of one slice (e.g. a dense buffer indexed by
/// [`crate::ids::Slot`], written from a parallel query over characters).
pub struct SlotWriter<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: the writer only hands out writes to distinct indices (the caller's contract on `write`),
// so sharing it across threads is like handing each thread its own `&mut T`.
unsafe impl<T: Send> Send for SlotWriter<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SlotWriter<'_, T> {}

impl<'a, T> SlotWriter<'a, T> {
    /// Wraps a slice for the duration of the borrow.
    pub fn new(slice: &'a mut [T]) -> Self {
        Self { ptr: slice.as_mut_ptr(), len: slice.len(), _borrow: std::marker::PhantomData }
    }

    /// Writes `value` at `index`. Panics when out of bounds.
    ///
    /// # Safety
    /// No two calls during the writer's life may use the same `index` concurrently; slots are
    /// unique per character, so a loop that writes each character's own slot satisfies this.
    pub unsafe fn write(&self, index: usize, value: T) {
        assert!(index < self.len, "slot {index} out of bounds {}", self.len);
        // SAFETY: in bounds (checked above); exclusive per the caller's contract.
        unsafe { self.ptr.add(index).write(value) }
    }
}

/// Items per parallel task in [`par_each`].
pub const PAR_EACH_CHUNK: usize = 1024;

/// Runs `f` on every item of a query iterator on the simulation's own rayon pool.
///
/// bevy's `par_iter_mut` runs on a process-wide task pool whose size is fixed at first use (and
/// which, called from inside our rayon pool, we measured running serially); collecting the items
/// first keeps each `Sim`'s thread count its own. Each item is a distinct entity, so the closure
/// sees disjoint data; the order in which items run never matters because every write goes to the
/// item itself or to its own slot.
pub fn par_each<I, F>(items: I, f: F)
where
    I: Iterator,
    I::Item: Send,
    F: Fn(I::Item) + Send + Sync,
{
    use rayon::prelude::*;
    let items: Vec<I::Item> = items.collect();
    items.into_par_iter().with_min_len(PAR_EACH_CHUNK).for_each(f);
}
