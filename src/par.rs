//! Map over a slice on all cores, keeping the order: for the work that grows
//! with the schema and needs no shared state (parsing files, building tables).

/// `f` applied to every item, in order, split across the available cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_owned(items.iter().collect(), f)
}

/// As `map`, taking the items: each is dropped as soon as `f` is done with it
/// (to free what only served to build the result while the rest is built).
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut rest = items.into_iter();
    let parts: Vec<Vec<T>> = (0..threads)
        .map(|_| rest.by_ref().take(chunk).collect())
        .collect();
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// How many threads share `items` items: below a few hundred items a thread
/// costs more than it saves (and the number of cores, a few system calls, is
/// not even asked).
fn threads_for(items: usize) -> usize {
    const PER_THREAD: usize = 256;
    if items < 2 * PER_THREAD {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(items / PER_THREAD).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_whatever_the_size() {
        for n in [0, 1, 255, 256, 1000, 4099] {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(&items, |i| i * 2);
            assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>(), "n = {n}");
            let owned = super::map_owned(items.iter().map(|i| i.to_string()).collect(), |s| s);
            assert_eq!(
                owned,
                (0..n).map(|i| i.to_string()).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }
}
