//! HAProxy 2.6's exact server order for `balance roundrobin` (fast weighted round robin) and `balance static-rr` (weight map).
//!
//! Both pickers reproduce the sequence HAProxy produces for the same servers,
//! weights and up/down events, measured against HAProxy 2.6.12 with
//! `nbthread 1`. The order is fully deterministic: it depends only on the
//! declaration order, the weights and the history of state changes, never on
//! timing, so a fresh start always begins with the same sequence.
//!
//! Weights: for roundrobin a configured weight `w` (0..=256) becomes an
//! effective weight `w * 16` (HAProxy's `BE_WEIGHT_SCALE`). static-rr does not
//! scale: its effective weight is `w / gcd`, the GCD being taken once at
//! start-up over the configured weights of every server (backups and disabled
//! ones included), and the map has one slot per unit of effective weight. The
//! map length matters when servers come and go: the read index is kept and
//! only wraps to 0 when it falls off the end of the rebuilt map.
//!
//! Backups: active servers are used while at least one is usable. Otherwise
//! roundrobin sends everything to the first usable backup (or rotates over all
//! backups with `option allbackups`). static-rr quirk: without `allbackups` the
//! map still interleaves *all* usable backups, but its length is the first
//! backup's effective weight, so backups after the first do get traffic.
//!
//! Usability changes are passed to `next()` as a slice. Each change is applied
//! the way HAProxy applies a server going DOWN/UP (health check, `disable
//! server`, `set weight 0`): roundrobin removes a down server from its trees and
//! re-inserts a returning server near the current position (it does not get
//! to "catch up"); static-rr rebuilds its map from scratch and keeps its read
//! index (wrapping to 0 if the map got shorter).
use std::collections::BTreeMap;

/// Effective weight per unit of configured weight.
const WEIGHT_SCALE: i64 = 16;
/// Largest configured weight + 1 step: range of the position key's low part.
const UWEIGHT_RANGE: i64 = 256;
/// Largest effective weight.
const EWEIGHT_MAX: i64 = UWEIGHT_RANGE * WEIGHT_SCALE;

/// Tree ids inside a group: the position-ordered "current" tree, and two
/// weight-ordered trees that alternate between the "init" and "next" roles.
const CURR: usize = 0;

/// An ordered multiset of servers; equal keys keep insertion order (oldest
/// first), like HAProxy's elastic binary trees do for duplicates.
type Tree = BTreeMap<(u32, u64), usize>;

#[derive(Debug, Clone)]
struct RrServer {
    eweight: i64,
    backup: bool,
    /// Counted in its group (usable as far as the balancer knows).
    up: bool,
    /// Next position at which the server is due.
    npos: i64,
    /// Position at which it was last picked.
    lpos: i64,
    /// Accumulated remainder of `group weight / eweight`.
    rweight: i64,
    /// The tree the server logically belongs to (None when down).
    home: Option<usize>,
    /// The tree node actually holding the server, if any.
    node: Option<(usize, (u32, u64))>,
}

#[derive(Debug, Clone)]
struct Group {
    trees: [Tree; 3],
    /// Which of trees 1 and 2 currently plays the "init" role.
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    /// Sum of the effective weights of the usable servers of the group.
    next_weight: i64,
    /// Usable servers in the group.
    count: usize,
}

impl Group {
    fn new(total: i64) -> Group {
        Group {
            trees: [Tree::new(), Tree::new(), Tree::new()],
            init: 1,
            curr_pos: total,
            curr_weight: total,
            next_weight: total,
            count: 0,
        }
    }
    fn next_tree(&self) -> usize {
        3 - self.init
    }
    fn first(&self, tree: usize) -> Option<usize> {
        self.trees[tree].values().next().copied()
    }
}

/// `balance roundrobin`: HAProxy's fast weighted round robin.
#[derive(Debug, Clone)]
pub struct Fwrr {
    srv: Vec<RrServer>,
    act: Group,
    bck: Group,
    allbackups: bool,
    /// First usable backup, used alone when no active server is usable and
    /// `allbackups` is off.
    first_backup: Option<usize>,
    seq: u64,
}

impl Fwrr {
    /// `weights[i]` is server i's configured weight (0..=256); `usable[i]` false = skipped.
    pub fn new(weights: &[u32]) -> Fwrr {
        Fwrr::with_options(weights, &[], &[], false)
    }

    /// Full form: `backup[i]` marks backup servers, `initially_usable[i]`
    /// false starts server i down (e.g. the `disabled` keyword), and
    /// `allbackups` is `option allbackups`. Missing entries mean
    /// not-backup / usable.
    pub fn with_options(
        weights: &[u32],
        backup: &[bool],
        initially_usable: &[bool],
        allbackups: bool,
    ) -> Fwrr {
        let srv: Vec<RrServer> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| RrServer {
                eweight: i64::from((*w).min(256)) * WEIGHT_SCALE,
                backup: backup.get(i).copied().unwrap_or(false),
                up: initially_usable.get(i).copied().unwrap_or(true),
                npos: 0,
                lpos: 0,
                rweight: 0,
                home: None,
                node: None,
            })
            .collect();
        let total = |bk: bool| -> i64 {
            srv.iter()
                .filter(|s| s.backup == bk && s.up && s.eweight > 0)
                .map(|s| s.eweight)
                .sum()
        };
        let mut f = Fwrr {
            act: Group::new(total(false)),
            bck: Group::new(total(true)),
            srv,
            allbackups,
            first_backup: None,
            seq: 0,
        };
        for i in 0..f.srv.len() {
            if !f.usable(i) {
                continue;
            }
            if f.srv[i].backup {
                f.bck.count += 1;
                if f.first_backup.is_none() && !allbackups {
                    f.first_backup = Some(i);
                }
            } else {
                f.act.count += 1;
            }
            let init = f.group(i).init;
            f.queue_by_weight(i, init);
        }
        f
    }

    /// The next server, or None when no usable server has a weight > 0.
    pub fn next(&mut self, usable: &[bool]) -> Option<usize> {
        self.sync(usable);
        let backup = if self.act.count > 0 {
            false
        } else if let Some(b) = self.first_backup {
            return Some(b);
        } else if self.bck.count > 0 {
            true
        } else {
            return None;
        };
        {
            let g = self.group_mut_by(backup);
            if g.curr_weight == 0 {
                g.curr_weight = g.next_weight;
                g.curr_pos = g.next_weight;
            }
        }
        let mut switched = false;
        let pick = loop {
            if let Some(s) = self.candidate(backup) {
                break s;
            }
            if switched {
                return None;
            }
            switched = true;
            let g = self.group_mut_by(backup);
            g.init = g.next_tree();
            g.curr_weight = g.next_weight;
            g.curr_pos = g.curr_weight;
        };
        self.advance(pick);
        self.unlink(pick);
        self.group_mut_by(backup).curr_pos += 1;
        self.requeue(pick);
        Some(pick)
    }

    /// Changes server i's configured weight at run time (the `set weight`
    /// CLI command); 0 takes it out of rotation like a DOWN event.
    pub fn set_weight(&mut self, i: usize, weight: u32) {
        self.set_eweight(i, weight.min(256) * WEIGHT_SCALE as u32);
    }

    /// Changes server i's effective weight (16 per unit of configured
    /// weight; a warming-up server moves through the values between).
    pub fn set_eweight(&mut self, i: usize, eweight: u32) {
        if i >= self.srv.len() {
            return;
        }
        let new = i64::from(eweight).min(EWEIGHT_MAX);
        let old = self.srv[i].eweight;
        if new == old {
            return;
        }
        if !self.srv[i].up {
            self.srv[i].eweight = new;
            return;
        }
        match (old > 0, new > 0) {
            (false, false) => {}
            (false, true) => {
                self.srv[i].eweight = new;
                self.mark_up(i);
            }
            (true, false) => {
                self.mark_down(i);
                self.srv[i].eweight = new;
            }
            (true, true) => self.reweight(i, old, new),
        }
    }

    fn usable(&self, i: usize) -> bool {
        self.srv[i].up && self.srv[i].eweight > 0
    }

    fn group(&self, i: usize) -> &Group {
        if self.srv[i].backup {
            &self.bck
        } else {
            &self.act
        }
    }

    fn group_mut(&mut self, i: usize) -> &mut Group {
        let bk = self.srv[i].backup;
        self.group_mut_by(bk)
    }

    fn group_mut_by(&mut self, backup: bool) -> &mut Group {
        if backup {
            &mut self.bck
        } else {
            &mut self.act
        }
    }

    /// Applies the usability changes since the previous call: downs first,
    /// then ups, each in declaration order.
    fn sync(&mut self, usable: &[bool]) {
        let want = |i: usize| usable.get(i).copied().unwrap_or(true);
        for i in 0..self.srv.len() {
            if self.srv[i].up && !want(i) {
                if self.srv[i].eweight > 0 {
                    self.mark_down(i);
                }
                self.srv[i].up = false;
            }
        }
        for i in 0..self.srv.len() {
            if !self.srv[i].up && want(i) {
                self.srv[i].up = true;
                if self.srv[i].eweight > 0 {
                    self.mark_up(i);
                }
            }
        }
    }

    /// Server i (usable until now) leaves the rotation.
    fn mark_down(&mut self, i: usize) {
        let ew = self.srv[i].eweight;
        let g = self.group_mut(i);
        g.next_weight -= ew;
        g.count -= 1;
        if self.first_backup == Some(i) {
            self.first_backup =
                (i + 1..self.srv.len()).find(|&j| self.srv[j].backup && self.usable(j));
        }
        self.unlink(i);
        self.srv[i].home = None;
    }

    /// Server i (already flagged up, weight > 0) joins the rotation, slotted
    /// one of its own periods after the current position.
    fn mark_up(&mut self, i: usize) {
        let ew = self.srv[i].eweight;
        let g = self.group_mut(i);
        g.next_weight += ew;
        g.count += 1;
        if self.srv[i].backup && !self.allbackups {
            match self.first_backup {
                Some(f) if f < i => {}
                _ => self.first_backup = Some(i),
            }
        }
        self.take_out(i);
        let g = self.group(i);
        self.srv[i].npos = g.curr_pos + (g.next_weight + g.curr_weight - g.curr_pos) / ew;
        self.requeue(i);
    }

    /// A usable server's effective weight changes from `old` to `new`.
    fn reweight(&mut self, i: usize, old: i64, new: i64) {
        let g = self.group_mut(i);
        g.next_weight += new - old;
        self.srv[i].eweight = new;
        let init = self.group(i).init;
        match self.srv[i].home {
            Some(t) if t == init => {
                self.unlink(i);
                self.queue_by_weight(i, init);
            }
            None => {
                self.unlink(i);
                self.take_out(i);
                let g = self.group(i);
                self.srv[i].npos = g.curr_pos + (g.next_weight + g.curr_weight - g.curr_pos) / new;
                self.requeue(i);
            }
            Some(_) => {
                self.take_out(i);
                let (curr_pos, next_weight) = {
                    let g = self.group(i);
                    (g.curr_pos, g.next_weight)
                };
                let s = &mut self.srv[i];
                let was_due = s.npos;
                let step = next_weight / new;
                s.npos = (s.lpos + step).min(was_due);
                s.rweight = 0;
                if s.npos < curr_pos + 2 {
                    s.npos = curr_pos + step;
                }
                self.unlink(i);
                self.requeue(i);
            }
        }
    }

    /// The server due now in the current tree; when the head of that tree is
    /// not due yet (or the tree is empty), a never-served server from the
    /// "init" tree (heaviest first) takes the slot; failing that the head of
    /// the current tree is served early.
    fn candidate(&mut self, backup: bool) -> Option<usize> {
        let g = if backup { &self.bck } else { &self.act };
        let head = g.first(CURR);
        if let Some(s) = head {
            if self.srv[s].eweight > 0 && self.srv[s].npos <= g.curr_pos {
                return Some(s);
            }
        }
        if let Some(s) = g.first(g.init) {
            if self.srv[s].eweight > 0 {
                self.srv[s].npos = 0;
                self.srv[s].rweight = 0;
                return Some(s);
            }
        }
        head
    }

    /// Moves server i's due position one period further (its period is the
    /// group weight divided by its own weight, remainders carried over).
    fn advance(&mut self, i: usize) {
        let g = self.group(i);
        let (curr_pos, total) = (g.curr_pos, g.next_weight);
        let s = &mut self.srv[i];
        if s.eweight == 0 {
            return;
        }
        if s.npos == 0 {
            s.npos = curr_pos;
        }
        s.lpos = s.npos;
        s.npos += total / s.eweight;
        s.rweight += total % s.eweight;
        if s.rweight >= s.eweight {
            s.rweight -= s.eweight;
            s.npos += 1;
        }
    }

    /// Normalises npos when a server is taken out of the tree it lives in.
    fn take_out(&mut self, i: usize) {
        let g = self.group(i);
        let (init, next, curr_pos, curr_weight) =
            (g.init, g.next_tree(), g.curr_pos, g.curr_weight);
        let s = &mut self.srv[i];
        match s.home {
            Some(t) if t == init => {
                s.npos = 0;
                s.rweight = 0;
            }
            Some(t) if t == next => s.npos += curr_weight,
            None => s.npos = curr_pos,
            _ => {}
        }
    }

    /// Puts server i back: into the current tree at its due position when
    /// that falls in this round, else into the next round's tree.
    fn requeue(&mut self, i: usize) {
        if !self.usable(i) {
            self.srv[i].home = None;
            return;
        }
        let g = self.group(i);
        let (curr_weight, next_weight, next) = (g.curr_weight, g.next_weight, g.next_tree());
        let s = &self.srv[i];
        if s.npos >= 2 * curr_weight || s.npos >= curr_weight + next_weight {
            self.srv[i].npos -= curr_weight;
            self.queue_by_weight(i, next);
        } else {
            let key = UWEIGHT_RANGE * s.npos + (EWEIGHT_MAX + s.rweight - s.eweight) / WEIGHT_SCALE;
            self.link(i, CURR, key as u32);
        }
    }

    fn queue_by_weight(&mut self, i: usize, tree: usize) {
        let key = (EWEIGHT_MAX - self.srv[i].eweight) as u32;
        self.link(i, tree, key);
    }

    fn link(&mut self, i: usize, tree: usize, key: u32) {
        self.seq += 1;
        let k = (key, self.seq);
        self.group_mut(i).trees[tree].insert(k, i);
        self.srv[i].node = Some((tree, k));
        self.srv[i].home = Some(tree);
    }

    fn unlink(&mut self, i: usize) {
        if let Some((tree, k)) = self.srv[i].node.take() {
            self.group_mut(i).trees[tree].remove(&k);
        }
    }
}

/// static-rr: HAProxy's map-based order for the same weights.
#[derive(Debug, Clone)]
pub struct StaticRr {
    eweight: Vec<i64>,
    backup: Vec<bool>,
    up: Vec<bool>,
    allbackups: bool,
    /// One slot per unit of total effective weight.
    map: Vec<usize>,
    idx: usize,
}

impl StaticRr {
    /// `weights[i]` is server i's configured weight (0..=256); `usable[i]` false = skipped.
    pub fn new(weights: &[u32]) -> StaticRr {
        StaticRr::with_options(weights, &[], &[], false)
    }

    /// Full form, same meaning as [`Fwrr::with_options`].
    pub fn with_options(
        weights: &[u32],
        backup: &[bool],
        initially_usable: &[bool],
        allbackups: bool,
    ) -> StaticRr {
        let w: Vec<i64> = weights.iter().map(|w| i64::from((*w).min(256))).collect();
        // GCD over every server in declaration order, starting at the first
        // non-zero weight (zero weights leave it unchanged).
        let mut g = 1;
        if let Some(p) = w.iter().position(|x| *x > 0) {
            g = w[p];
            for x in &w[p + 1..] {
                if g <= 1 {
                    break;
                }
                let mut b = *x;
                while b != 0 {
                    let t = g % b;
                    g = b;
                    b = t;
                }
            }
        }
        let mut m = StaticRr {
            // No weight scaling here: the map holds sum(weight / gcd) slots.
            eweight: w.iter().map(|x| x / g).collect(),
            backup: (0..w.len())
                .map(|i| backup.get(i).copied().unwrap_or(false))
                .collect(),
            up: (0..w.len())
                .map(|i| initially_usable.get(i).copied().unwrap_or(true))
                .collect(),
            allbackups,
            map: Vec::new(),
            idx: 0,
        };
        m.rebuild();
        m
    }

    /// The server owning `hash` in the weight map (HAProxy's map-based
    /// hashing uses the same table as static-rr).
    pub fn slot(&mut self, usable: &[bool], hash: u32) -> Option<usize> {
        self.sync(usable);
        if self.map.is_empty() {
            return None;
        }
        Some(self.map[hash as usize % self.map.len()])
    }

    /// The next server, or None when no usable server has a weight > 0.
    pub fn next(&mut self, usable: &[bool]) -> Option<usize> {
        self.sync(usable);
        if self.map.is_empty() {
            return None;
        }
        if self.idx >= self.map.len() {
            self.idx = 0;
        }
        let s = self.map[self.idx];
        self.idx += 1;
        Some(s)
    }

    fn usable(&self, i: usize) -> bool {
        self.up[i] && self.eweight[i] > 0
    }

    /// Applies usability changes: any change rebuilds the map.
    fn sync(&mut self, usable: &[bool]) {
        let mut changed = false;
        for i in 0..self.up.len() {
            let u = usable.get(i).copied().unwrap_or(true);
            if u != self.up[i] {
                self.up[i] = u;
                changed |= self.eweight[i] > 0;
            }
        }
        if changed {
            self.rebuild();
        }
    }

    /// Rebuilds the map: its length is the active servers' total effective
    /// weight (or the backups' when no active server is usable: the first
    /// backup's alone unless `allbackups`), and each slot goes to the first
    /// server, in declaration order, whose credit bucket is strictly the
    /// highest after every candidate has been credited its weight.
    fn rebuild(&mut self) {
        let n = self.eweight.len();
        let act: Vec<usize> = (0..n)
            .filter(|&i| !self.backup[i] && self.usable(i))
            .collect();
        let bck: Vec<usize> = (0..n)
            .filter(|&i| self.backup[i] && self.usable(i))
            .collect();
        let (members, tot) = if !act.is_empty() {
            let t = act.iter().map(|&i| self.eweight[i]).sum();
            (act, t)
        } else if bck.is_empty() {
            (bck, 0)
        } else if !self.allbackups {
            let t = self.eweight[bck[0]];
            (bck, t)
        } else {
            let t = bck.iter().map(|&i| self.eweight[i]).sum();
            (bck, t)
        };
        self.map.clear();
        if tot == 0 {
            return;
        }
        let mut score = vec![0i64; n];
        for _ in 0..tot {
            let mut best: Option<usize> = None;
            let mut max = 0;
            for &i in &members {
                if tot == 1 {
                    best = Some(i);
                    break;
                }
                score[i] += self.eweight[i];
                let v = (score[i] + tot) / tot;
                if best.is_none() || v > max {
                    max = v;
                    best = Some(i);
                }
            }
            // `tot > 0` means some member has a weight: `best` is set.
            let Some(b) = best else { break };
            score[b] -= tot;
            self.map.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<usize> {
        s.bytes().map(|b| (b - b'0') as usize).collect()
    }

    trait Picker {
        fn sync_to(&mut self, usable: &[bool]);
        fn pick(&mut self, usable: &[bool]) -> Option<usize>;
    }
    impl Picker for Fwrr {
        fn sync_to(&mut self, usable: &[bool]) {
            self.sync(usable)
        }
        fn pick(&mut self, usable: &[bool]) -> Option<usize> {
            self.next(usable)
        }
    }
    impl Picker for StaticRr {
        fn sync_to(&mut self, usable: &[bool]) {
            self.sync(usable)
        }
        fn pick(&mut self, usable: &[bool]) -> Option<usize> {
            self.next(usable)
        }
    }

    /// Runs `n` picks; `events` (pick index, server, usable) are applied one
    /// by one, in order, just before that pick (so a server can go down and
    /// come back between two picks, as with two CLI commands).
    fn run(
        n: usize,
        p: &mut dyn Picker,
        init: &[bool],
        events: &[(usize, usize, bool)],
    ) -> Vec<usize> {
        let mut usable = init.to_vec();
        (0..n)
            .map(|k| {
                for &(at, s, u) in events {
                    if at == k {
                        usable[s] = u;
                        p.sync_to(&usable);
                    }
                }
                p.pick(&usable).expect("a server")
            })
            .collect()
    }

    // Every expected sequence below was recorded from HAProxy 2.6.12
    // (Debian 2.6.12-1+deb12u4, nbthread 1): one new connection per request,
    // the backend answering its index; identical on two fresh starts each.

    const RR: &[(&[u32], &str)] = &[
        (
            &[1, 1],
            "010101010101010101010101010101010101010101010101010101010101",
        ),
        (
            &[2, 1],
            "001001001001001001001001001001001001001001001001001001001001",
        ),
        (
            &[3, 1],
            "000100010001000100010001000100010001000100010001000100010001",
        ),
        (
            &[1, 2, 3],
            "212021212021212021212021212021212021212021212021212021212021",
        ),
        (
            &[5, 3, 2],
            "010201010201020101020102010102010201010201020101020102010102",
        ),
        (
            &[10, 1],
            "000000000010000000000100000000001000000000010000000000100000",
        ),
        (
            &[1, 1, 1, 1],
            "012301230123012301230123012301230123012301230123012301230123",
        ),
        (
            &[4, 4, 1],
            "010101012010101012010101012010101012010101012010101012010101",
        ),
        (
            &[256, 1],
            "000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            &[7, 5, 3, 2],
            "010210301201002130102103012010021301021030120100213010210301",
        ),
        (
            &[1, 0, 1],
            "020202020202020202020202020202020202020202020202020202020202",
        ),
        (
            &[2, 3],
            "110101101011010110101101011010110101101011010110101101011010",
        ),
        (
            &[3, 2, 1],
            "010201010201010201010201010201010201010201010201010201010201",
        ),
        (
            &[1, 1, 2],
            "202120212021202120212021202120212021202120212021202120212021",
        ),
        (
            &[16, 1],
            "000000000000000010000000000000000100000000000000001000000000",
        ),
        (
            &[100, 1],
            "000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            &[2, 2, 2],
            "012012012012012012012012012012012012012012012012012012012012",
        ),
        (
            &[9, 6, 3],
            "010201010201010201010201010201010201010201010201010201010201",
        ),
        (
            &[1, 2, 3, 4, 5, 6, 7, 8],
            "765473625746175364725673405671724653765473625746175364725673",
        ),
    ];

    const SRR: &[(&[u32], &str)] = &[
        (
            &[1, 1],
            "010101010101010101010101010101010101010101010101010101010101",
        ),
        (
            &[2, 1],
            "001001001001001001001001001001001001001001001001001001001001",
        ),
        (
            &[3, 1],
            "000100010001000100010001000100010001000100010001000100010001",
        ),
        (
            &[1, 2, 3],
            "021212021212021212021212021212021212021212021212021212021212",
        ),
        (
            &[5, 3, 2],
            "001020101200102010120010201012001020101200102010120010201012",
        ),
        (
            &[10, 1],
            "000000000010000000000100000000001000000000010000000000100000",
        ),
        (
            &[1, 1, 1, 1],
            "012301230123012301230123012301230123012301230123012301230123",
        ),
        (
            &[4, 4, 1],
            "010101012010101012010101012010101012010101012010101012010101",
        ),
        (
            &[256, 1],
            "000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            &[7, 5, 3, 2],
            "010102103012010230101021030120102301010210301201023010102103",
        ),
        (
            &[1, 0, 1],
            "020202020202020202020202020202020202020202020202020202020202",
        ),
        (
            &[2, 3],
            "010110101101011010110101101011010110101101011010110101101011",
        ),
        (
            &[3, 2, 1],
            "001012001012001012001012001012001012001012001012001012001012",
        ),
        (
            &[1, 1, 2],
            "021202120212021202120212021202120212021202120212021202120212",
        ),
        (
            &[16, 1],
            "000000000000000010000000000000000100000000000000001000000000",
        ),
        (
            &[100, 1],
            "000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            &[2, 2, 2],
            "012012012012012012012012012012012012012012012012012012012012",
        ),
        (
            &[9, 6, 3],
            "001012001012001012001012001012001012001012001012001012001012",
        ),
        (
            &[1, 2, 3, 4, 5, 6, 7, 8],
            "012375647365274645716375267345674567012375647365274645716375",
        ),
    ];

    #[test]
    fn roundrobin_matches_haproxy() {
        for (w, want) in RR {
            let got = run(60, &mut Fwrr::new(w), &vec![true; w.len()], &[]);
            assert_eq!(got, digits(want), "roundrobin weights {:?}", w);
        }
    }

    #[test]
    fn static_rr_matches_haproxy() {
        for (w, want) in SRR {
            let got = run(60, &mut StaticRr::new(w), &vec![true; w.len()], &[]);
            assert_eq!(got, digits(want), "static-rr weights {:?}", w);
        }
    }

    /// A scenario: weights, backup flags, servers down at start,
    /// `allbackups`, events (pick index, server, usable), and the sequences
    /// measured for roundrobin and static-rr.
    struct Case {
        name: &'static str,
        w: &'static [u32],
        backup: &'static [bool],
        start_down: &'static [usize],
        allbackups: bool,
        events: &'static [(usize, usize, bool)],
        rr: &'static str,
        srr: &'static str,
    }

    const F: bool = false;
    const T: bool = true;

    const CASES: &[Case] = &[
        Case {
            name: "s0 disabled and re-enabled between picks 2 and 3",
            w: &[5, 3, 2],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(3, 0, F), (3, 0, T)],
            rr: "0102010102010201010201020101020102010102",
            srr: "0010201012001020101200102010120010201012",
        },
        Case {
            name: "backup s2 never used while actives are up",
            w: &[2, 1, 5],
            backup: &[F, F, T],
            start_down: &[],
            allbackups: false,
            events: &[],
            rr: "001001001001001001001001001001001001001001001001001001001001",
            srr: "001001001001001001001001001001001001001001001001001001001001",
        },
        Case {
            name: "only backups left (s0 disabled): first backup / all backups in a map",
            w: &[1, 3, 2],
            backup: &[F, T, T],
            start_down: &[],
            allbackups: false,
            events: &[(0, 0, F)],
            rr: "11111111111111111111",
            srr: "11211211211211211211",
        },
        Case {
            name: "disable s1 at 7, enable at 20",
            w: &[5, 3, 2],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(7, 1, F), (20, 1, T)],
            rr: "010201002002000200200201010201020101020102010102010201010201",
            srr: "001020100020020002001012001020101200102010120010201012001020",
        },
        Case {
            name: "disable s0 at 4, enable at 10",
            w: &[1, 1, 1],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(4, 0, F), (10, 0, T)],
            rr: "012012121212012012012012012012012012012012012012012012012012",
            srr: "012021212112012012012012012012012012012012012012012012012012",
        },
        Case {
            name: "disable s1 at 5, enable at 12",
            w: &[3, 1],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(5, 1, F), (12, 1, T)],
            rr: "000100000000000100010001000100010001000100010001000100010001",
            srr: "000100000000010001000100010001000100010001000100010001000100",
        },
        Case {
            name: "s1 disabled in the configuration",
            w: &[3, 2, 1],
            backup: &[],
            start_down: &[1],
            allbackups: false,
            events: &[],
            rr: "0002000200020002000200020002000200020002",
            srr: "0002000200020002000200020002000200020002",
        },
        Case {
            name: "s1 disabled in the configuration, enabled at 6",
            w: &[3, 2, 1],
            backup: &[],
            start_down: &[1],
            allbackups: false,
            events: &[(6, 1, T)],
            rr: "0002000210010210010210010210010210010210",
            srr: "0002001012001012001012001012001012001012",
        },
        Case {
            name: "s1 disabled at run time before the first request",
            w: &[3, 2, 1],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(0, 1, F)],
            rr: "0002000200020002000200020002000200020002",
            srr: "0002000200020002000200020002000200020002",
        },
        Case {
            name: "allbackups, active s0 disabled",
            w: &[1, 3, 2],
            backup: &[F, T, T],
            start_down: &[],
            allbackups: true,
            events: &[(0, 0, F)],
            rr: "1121211212112121121211212112121121211212",
            srr: "1121211212112121121211212112121121211212",
        },
        Case {
            name: "backups only",
            w: &[1, 3, 2],
            backup: &[T, T, T],
            start_down: &[],
            allbackups: false,
            events: &[],
            rr: "0000000000000000000000000000000000000000",
            srr: "0000000000000000000000000000000000000000",
        },
        Case {
            name: "backups only, allbackups",
            w: &[1, 3, 2],
            backup: &[T, T, T],
            start_down: &[],
            allbackups: true,
            events: &[],
            rr: "1210121210121210121210121210121210121210",
            srr: "0121120121120121120121120121120121120121",
        },
        Case {
            name: "first backup goes down and comes back, then the active",
            w: &[1, 3, 2, 4],
            backup: &[F, T, T, T],
            start_down: &[],
            allbackups: false,
            events: &[(0, 0, F), (5, 1, F), (10, 1, T), (15, 0, T)],
            rr: "1111122222111110000000000000000000000000",
            srr: "1331333333331330000000000000000000000000",
        },
        Case {
            name: "everything down then back",
            w: &[2, 1],
            backup: &[],
            start_down: &[],
            allbackups: false,
            // s0 and s1 down then s1 up, all before pick 4; s0 up at 8.
            events: &[(4, 0, F), (4, 1, F), (4, 1, T), (8, 0, T)],
            rr: "0010111110010010010010010010010010010010",
            srr: "0010111101001001001001001001001001001001",
        },
        Case {
            name: "set weight s0 0 at 5, back to 2 at 12 (same as down/up)",
            w: &[2, 1, 1],
            backup: &[],
            start_down: &[],
            allbackups: false,
            events: &[(5, 0, F), (12, 0, T)],
            rr: "0102012121210210021002100210021002100210",
            srr: "0012021212121200120012001200120012001200",
        },
    ];

    #[test]
    fn state_changes_match_haproxy() {
        for c in CASES {
            let n = c.rr.len();
            let init: Vec<bool> = (0..c.w.len()).map(|i| !c.start_down.contains(&i)).collect();
            let mut f = Fwrr::with_options(c.w, c.backup, &init, c.allbackups);
            let got = run(n, &mut f, &init, c.events);
            assert_eq!(got, digits(c.rr), "roundrobin: {}", c.name);
            let mut m = StaticRr::with_options(c.w, c.backup, &init, c.allbackups);
            let got = run(c.srr.len(), &mut m, &init, c.events);
            assert_eq!(got, digits(c.srr), "static-rr: {}", c.name);
        }
    }

    #[test]
    fn static_rr_keeps_its_index_across_map_rebuilds() {
        // HAProxy 2.6.12, static-rr, weights [1,1,1,1]: `disable server s3`
        // before pick k, then 10 picks; and from s3 `disabled` in the
        // configuration, `enable server s3` before pick k. The map has one
        // slot per weight unit, so the index (k mod 4, resp. k mod 3 in 1..=3)
        // survives the rebuild unless it is past the new end.
        let disable = [
            "0120120120",
            "1201201201",
            "2012012012",
            "0120120120",
            "0120120120",
            "1201201201",
            "2012012012",
            "0120120120",
            "0120120120",
        ];
        let enable = [
            "0123012301",
            "1230123012",
            "2301230123",
            "3012301230",
            "1230123012",
            "2301230123",
            "3012301230",
        ];
        for (k, want) in disable.iter().enumerate() {
            let mut m = StaticRr::new(&[1, 1, 1, 1]);
            let got = run(k + 10, &mut m, &[true; 4], &[(k, 3, false)]);
            assert_eq!(got[k..], digits(want)[..], "disable at {}", k);
        }
        for (k, want) in enable.iter().enumerate() {
            let mut m =
                StaticRr::with_options(&[1, 1, 1, 1], &[], &[true, true, true, false], false);
            let got = run(k + 10, &mut m, &[true, true, true, false], &[(k, 3, true)]);
            assert_eq!(got[k..], digits(want)[..], "enable at {}", k);
        }
    }

    #[test]
    fn set_weight_matches_haproxy() {
        // HAProxy 2.6.12: `set weight app/s1 10` before pick 7,
        // `set weight app/s0 1` before pick 25.
        let want = digits("010201010211011012101101121111211111120111121111112011112111");
        let mut f = Fwrr::new(&[5, 3, 2]);
        let got: Vec<usize> = (0..60)
            .map(|k| {
                if k == 7 {
                    f.set_weight(1, 10);
                }
                if k == 25 {
                    f.set_weight(0, 1);
                }
                f.next(&[]).unwrap()
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn nothing_usable() {
        let mut f = Fwrr::new(&[0, 0]);
        assert_eq!(f.next(&[]), None);
        let mut f = Fwrr::new(&[1, 1]);
        assert_eq!(f.next(&[false, false]), None);
        assert_eq!(f.next(&[true, false]), Some(0));
        let mut m = StaticRr::new(&[0, 0]);
        assert_eq!(m.next(&[]), None);
        let mut m = StaticRr::new(&[1, 1]);
        assert_eq!(m.next(&[false, false]), None);
        assert_eq!(m.next(&[false, true]), Some(1));
        assert_eq!(Fwrr::new(&[]).next(&[]), None);
        assert_eq!(StaticRr::new(&[]).next(&[]), None);
    }

    #[test]
    fn long_run_proportions() {
        let w = [7u32, 5, 3, 2, 1];
        let mut f = Fwrr::new(&w);
        let mut m = StaticRr::new(&w);
        let mut cf = [0usize; 5];
        let mut cm = [0usize; 5];
        for _ in 0..18 * 100 {
            cf[f.next(&[]).unwrap()] += 1;
            cm[m.next(&[]).unwrap()] += 1;
        }
        for i in 0..5 {
            assert_eq!(cf[i], w[i] as usize * 100, "fwrr {:?}", cf);
            assert_eq!(cm[i], w[i] as usize * 100, "map {:?}", cm);
        }
    }

    #[test]
    fn a_warming_server_gets_its_share_of_effective_weight() {
        // Slow start: server 1 back at 1/16 of its weight, then at full.
        let mut f = Fwrr::new(&[1, 1]);
        f.set_eweight(1, 1);
        let picks: Vec<usize> = (0..170).filter_map(|_| f.next(&[])).collect();
        let ones = picks.iter().filter(|i| **i == 1).count();
        assert!((8..=12).contains(&ones), "{ones} of 170");
        f.set_eweight(1, 16);
        let picks: Vec<usize> = (0..100).filter_map(|_| f.next(&[])).collect();
        let ones = picks.iter().filter(|i| **i == 1).count();
        assert!((45..=55).contains(&ones), "{ones} of 100");
    }
}
