//! `hash-type consistent` (and `balance random`): HAProxy 2.6's ring of
//! server nodes.
//!
//! A server of weight `w` owns `w * 16` nodes (its effective weight, the
//! weight scaled by HAProxy's BE_WEIGHT_SCALE). Node `j` of the server with
//! id `puid` sits at `full_hash(puid * 4096 + j)` on a 32-bit ring (4096
//! being the effective weight range). A hash goes to the nearer of the two
//! nodes around it: the first at or after it and the one before that (both
//! wrapping round the ring), the earlier one on a tie. Active and backup
//! servers have separate rings; the backup ring is used when no active
//! server is usable, and only the first usable backup unless
//! `option allbackups`.
use super::hash::full_hash;

/// HAProxy's BE_WEIGHT_SCALE: effective weight per unit of weight.
const WEIGHT_SCALE: u32 = 16;
/// HAProxy's SRV_EWGHT_RANGE: the key space of one server's nodes.
const EWEIGHT_RANGE: u32 = 256 * WEIGHT_SCALE;

#[derive(Debug, Clone, Copy)]
struct Node {
    key: u32,
    /// Its number among its server's nodes: a server of effective weight
    /// `e` uses its first `e` nodes.
    index: u32,
    /// Insertion order: servers in declaration order, their nodes in order
    /// (orders equal keys).
    seq: u32,
    server: usize,
}

/// What lookups see for the current usable servers.
#[derive(Debug, Clone)]
enum Live {
    /// No usable server.
    Nothing,
    /// No usable active server: the first usable backup takes everything.
    Only(usize),
    /// The usable servers' nodes, sorted by (key, seq).
    Ring(Vec<Node>),
}

#[derive(Debug, Clone)]
pub struct Chash {
    /// Every server's nodes, sorted by (key, seq).
    nodes: Vec<Node>,
    weight: Vec<u32>,
    /// Effective weights (nodes in use per server).
    eweight: Vec<u32>,
    backup: Vec<bool>,
    allbackups: bool,
    /// The usable flags `live` reflects.
    seen: Vec<bool>,
    live: Live,
    /// Where the keyless walk (round robin over the ring) stopped.
    last: Option<(u32, u32)>,
}

impl Chash {
    /// `puid[i]`, `weights[i]`, `backup[i]`: server i's id (from 1 in
    /// declaration order), configured weight and backup flag;
    /// `initially_usable[i]` false leaves it out until it is usable.
    pub fn new(
        puid: &[u32],
        weights: &[u32],
        backup: &[bool],
        initially_usable: &[bool],
        allbackups: bool,
    ) -> Chash {
        let mut nodes = Vec::new();
        let mut seq = 0u32;
        for (i, (&id, &w)) in puid.iter().zip(weights).enumerate() {
            for j in 0..w.min(256) * WEIGHT_SCALE {
                nodes.push(Node {
                    key: full_hash(id.wrapping_mul(EWEIGHT_RANGE).wrapping_add(j)),
                    index: j,
                    seq,
                    server: i,
                });
                seq += 1;
            }
        }
        nodes.sort_by_key(|n| (n.key, n.seq));
        let mut c = Chash {
            nodes,
            weight: weights.to_vec(),
            eweight: weights.iter().map(|w| w.min(&256) * WEIGHT_SCALE).collect(),
            backup: (0..weights.len())
                .map(|i| backup.get(i).copied().unwrap_or(false))
                .collect(),
            allbackups,
            seen: Vec::new(),
            live: Live::Nothing,
            last: None,
        };
        c.sync(initially_usable);
        c
    }

    /// Changes server i's effective weight: it keeps its first `eweight`
    /// nodes on the ring, as HAProxy's ring does.
    pub fn set_eweight(&mut self, i: usize, eweight: u32) {
        if let Some(e) = self.eweight.get_mut(i) {
            *e = eweight.min(EWEIGHT_RANGE);
            // Forces a rebuild at the next lookup.
            self.seen.clear();
        }
    }

    /// Rebuilds the live ring when the usable servers changed.
    fn sync(&mut self, usable: &[bool]) {
        let n = self.weight.len();
        let up: Vec<bool> = (0..n)
            .map(|i| usable.get(i).copied().unwrap_or(true) && self.eweight[i] > 0)
            .collect();
        if up == self.seen {
            return;
        }
        let eweight = &self.eweight;
        let ring = |members: &dyn Fn(usize) -> bool| {
            Live::Ring(
                self.nodes
                    .iter()
                    .filter(|n| members(n.server) && n.index < eweight[n.server])
                    .copied()
                    .collect(),
            )
        };
        self.live = if (0..n).any(|i| up[i] && !self.backup[i]) {
            ring(&|i| up[i] && !self.backup[i])
        } else if let Some(first) = (0..n).find(|&i| up[i] && self.backup[i]) {
            if self.allbackups {
                ring(&|i| up[i] && self.backup[i])
            } else {
                Live::Only(first)
            }
        } else {
            Live::Nothing
        };
        self.seen = up;
    }

    /// The server for `hash`: the nearer node's, or when `accept` refuses
    /// it (a full or avoided server), the next accepted one along the
    /// ring. After a whole turn without one, the nearer node's server.
    pub fn lookup(
        &mut self,
        usable: &[bool],
        hash: u32,
        accept: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        self.sync(usable);
        let ring = match &self.live {
            Live::Nothing => return None,
            Live::Only(s) => return Some(*s),
            Live::Ring(r) if r.is_empty() => return None,
            Live::Ring(r) => r,
        };
        let after = ring.partition_point(|n| n.key < hash);
        let next = if after == ring.len() { 0 } else { after };
        let prev = if next == 0 { ring.len() - 1 } else { next - 1 };
        let to_prev = hash.wrapping_sub(ring[prev].key);
        let to_next = ring[next].key.wrapping_sub(hash);
        let start = if to_prev <= to_next { prev } else { next };
        (0..ring.len())
            .map(|k| ring[(start + k) % ring.len()].server)
            .find(|s| accept(*s))
            .or(Some(ring[start].server))
    }

    /// The next accepted server along the ring after the last one this
    /// returned (HAProxy's fallback when the hashed input is missing).
    pub fn next(&mut self, usable: &[bool], accept: &dyn Fn(usize) -> bool) -> Option<usize> {
        self.sync(usable);
        let ring = match &self.live {
            Live::Nothing => return None,
            Live::Only(s) => return Some(*s),
            Live::Ring(r) if r.is_empty() => return None,
            Live::Ring(r) => r,
        };
        let from = match self.last {
            Some(last) => ring.partition_point(|n| (n.key, n.seq) <= last) % ring.len(),
            None => 0,
        };
        let found = (0..ring.len())
            .map(|k| ring[(from + k) % ring.len()])
            .find(|n| accept(n.server))?;
        self.last = Some((found.key, found.seq));
        Some(found.server)
    }

    /// `balance random(<draws>)`: `draws` random lookups, keeping the
    /// server with the lowest load relative to its weight (the earlier one
    /// on a tie).
    pub fn random(
        &mut self,
        usable: &[bool],
        draws: u32,
        load: &dyn Fn(usize) -> u64,
        accept: &dyn Fn(usize) -> bool,
        rand: &mut dyn FnMut() -> u32,
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        for _ in 0..draws.max(1) {
            let cur = self.lookup(usable, rand(), accept)?;
            best = match best {
                Some(b)
                    if b != cur
                        && load(cur) * u64::from(self.weight[b])
                            > load(b) * u64::from(self.weight[cur]) =>
                {
                    Some(b)
                }
                _ => Some(cur),
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(weights: &[u32]) -> Chash {
        let puid: Vec<u32> = (1..=weights.len() as u32).collect();
        Chash::new(&puid, weights, &[], &[], false)
    }

    #[test]
    fn nodes_follow_the_weights() {
        let c = ring(&[1, 2, 0]);
        let count = |s| c.nodes.iter().filter(|n| n.server == s).count();
        assert_eq!((count(0), count(1), count(2)), (16, 32, 0));
        assert!(c.nodes.iter().any(|n| n.key == full_hash(4096)));
        assert!(c.nodes.iter().any(|n| n.key == full_hash(2 * 4096 + 31)));
    }

    #[test]
    fn a_hash_goes_to_the_nearer_node() {
        let mut c = ring(&[1, 1, 1]);
        let all = |_: usize| true;
        let keys: Vec<(u32, usize)> = c.nodes.iter().map(|n| (n.key, n.server)).collect();
        for w in keys.windows(2) {
            let ((a, sa), (b, sb)) = (w[0], w[1]);
            let gap = b - a;
            if gap < 4 {
                continue;
            }
            assert_eq!(c.lookup(&[], a + 1, &all), Some(sa));
            assert_eq!(c.lookup(&[], b - 1, &all), Some(sb));
            // A tie goes to the earlier node.
            if gap % 2 == 0 {
                assert_eq!(c.lookup(&[], a + gap / 2, &all), Some(sa));
            }
        }
        // Past the last node, the ring wraps round.
        let (first, last) = (keys[0], keys[keys.len() - 1]);
        assert_eq!(c.lookup(&[], last.0.wrapping_add(1), &all), Some(last.1));
        assert_eq!(c.lookup(&[], first.0 - 1, &all), Some(first.1));
    }

    #[test]
    fn a_server_down_only_moves_its_own_keys() {
        let mut c = ring(&[1, 1, 1]);
        let all = |_: usize| true;
        let before: Vec<Option<usize>> = (0..200u32)
            .map(|i| c.lookup(&[], full_hash(i), &all))
            .collect();
        let after: Vec<Option<usize>> = (0..200u32)
            .map(|i| c.lookup(&[true, false, true], full_hash(i), &all))
            .collect();
        for (b, a) in before.iter().zip(&after) {
            assert_ne!(*a, Some(1));
            if *b != Some(1) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn backups_take_over_when_no_active_server_is_usable() {
        let mut c = Chash::new(&[1, 2, 3], &[1, 1, 1], &[false, true, true], &[], false);
        let all = |_: usize| true;
        assert_ne!(c.lookup(&[], 7, &all), Some(1));
        assert_eq!(c.lookup(&[false, true, true], 7, &all), Some(1));
        assert_eq!(c.lookup(&[false, false, true], 7, &all), Some(2));
        assert_eq!(c.lookup(&[false, false, false], 7, &all), None);
    }

    #[test]
    fn the_keyless_walk_visits_the_ring_in_order() {
        let mut c = ring(&[1, 1]);
        let all = |_: usize| true;
        let expected: Vec<usize> = c.nodes.iter().map(|n| n.server).collect();
        let walked: Vec<usize> = (0..expected.len() * 2)
            .map(|_| c.next(&[], &all).unwrap())
            .collect();
        assert_eq!(&walked[..expected.len()], &expected[..]);
        assert_eq!(&walked[expected.len()..], &expected[..]);
        // A refused server is skipped.
        assert_eq!(c.next(&[], &|s| s == 1), Some(1));
    }

    #[test]
    fn effective_weight_keeps_the_first_nodes() {
        let mut c = ring(&[1, 1]);
        let all = |_: usize| true;
        c.set_eweight(0, 4);
        let hits = (0..2000u32)
            .filter(|i| c.lookup(&[], full_hash(*i), &all) == Some(0))
            .count();
        // 4 nodes of 20: about a fifth of the keys.
        assert!((200..=700).contains(&hits), "{hits}");
        c.set_eweight(0, 0);
        assert!((0..200u32).all(|i| c.lookup(&[], full_hash(i), &all) == Some(1)));
    }
}
