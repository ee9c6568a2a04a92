//! `cpu-map [auto:]<process-set>[/<thread-set>] <cpu-set>...`: which CPUs
//! each worker thread may run on. With one process (HAProxy 2.5+), the
//! process set is `1`, `all`, `odd` or a range containing 1; threads are
//! numbered from 1. `auto:` hands out the CPUs one per thread, in order.

/// One `cpu-map` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Thread numbers (from 1) this line is for; empty = every thread.
    threads: Vec<usize>,
    cpus: Vec<usize>,
    auto: bool,
}

/// A set as written: `all`, `odd`, `even`, `N`, `N-M` (bounded by `max`).
fn set(text: &str, max: usize) -> Result<Vec<usize>, String> {
    let all = 1..=max;
    Ok(match text {
        "all" => all.collect(),
        "odd" => all.filter(|n| n % 2 == 1).collect(),
        "even" => all.filter(|n| n % 2 == 0).collect(),
        _ => {
            let (a, b) = text.split_once('-').unwrap_or((text, text));
            let n = |s: &str| {
                s.parse::<usize>()
                    .map_err(|_| format!("invalid range '{text}'"))
            };
            let (a, b) = (n(a)?, n(b)?);
            if a > b {
                return Err(format!("invalid range '{text}'"));
            }
            (a..=b).collect()
        }
    })
}

/// Parses the words after `cpu-map`.
pub fn parse(words: &[&str]) -> Result<Entry, String> {
    let (first, cpus) = words.split_first().ok_or("missing process/thread set")?;
    let (auto, first) = match first.strip_prefix("auto:") {
        Some(r) => (true, r),
        None => (false, *first),
    };
    let (procs, threads) = first.split_once('/').unwrap_or((first, "all"));
    if !set(procs, 64)?.contains(&1) {
        return Err(format!(
            "process set '{procs}' does not name the (single) process"
        ));
    }
    let threads = if threads == "all" {
        Vec::new()
    } else {
        set(threads, 64)?
    };
    let mut list = Vec::new();
    for c in cpus {
        for part in c.split(',') {
            // CPUs are numbered from 0.
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let n = |s: &str| {
                s.parse::<usize>()
                    .map_err(|_| format!("invalid cpu set '{c}'"))
            };
            list.extend(n(a)?..=n(b)?);
        }
    }
    if list.is_empty() {
        return Err("missing cpu set".into());
    }
    Ok(Entry {
        threads,
        cpus: list,
        auto,
    })
}

/// The CPUs of thread `t` (from 1) out of `nbthread`, by the last line
/// that names it.
pub fn cpus_for(map: &[Entry], t: usize, nbthread: usize) -> Option<Vec<usize>> {
    map.iter().rev().find_map(|e| {
        let threads: Vec<usize> = if e.threads.is_empty() {
            (1..=nbthread).collect()
        } else {
            e.threads.clone()
        };
        let pos = threads.iter().position(|x| *x == t)?;
        if e.auto {
            // One CPU each, in order (wrapping when there are fewer CPUs).
            Some(vec![e.cpus[pos % e.cpus.len()]])
        } else {
            Some(e.cpus.clone())
        }
    })
}

/// Binds the calling thread to `cpus`.
pub fn bind_current_thread(cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET and sched_setaffinity
    // on the calling thread (pid 0) with its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for c in cpus {
            libc::CPU_SET(*c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_cpu_map() {
        let m = [parse(&["1/all", "0-1"]).unwrap()];
        assert_eq!(cpus_for(&m, 2, 2), Some(vec![0, 1]));
        let m = [parse(&["auto:1/1-4", "0-3"]).unwrap()];
        assert_eq!(cpus_for(&m, 3, 4), Some(vec![2]));
        let m = [
            parse(&["1/2", "3"]).unwrap(),
            parse(&["1/1", "0", "2"]).unwrap(),
        ];
        assert_eq!(cpus_for(&m, 1, 2), Some(vec![0, 2]));
        assert_eq!(cpus_for(&m, 2, 2), Some(vec![3]));
        assert_eq!(cpus_for(&m, 3, 3), None);
        assert!(parse(&["2", "0"]).is_err());
        assert_eq!(parse(&["all", "0,2"]).unwrap().cpus, vec![0, 2]);
    }
}
