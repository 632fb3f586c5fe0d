//! The incremental matcher: partial matches kept and advanced as facts arrive (Winnow).
//!
//! Each pattern has its own partial matches, bucketed by position (the last clause matched) and,
//! inside a bucket, keyed by the value of the bucket's index variable, so an arriving fact only
//! visits the partials it could concern. Patterns are independent, so they run in parallel; each
//! pattern handles the facts of a call one by one in `seq` order. See the module docs of
//! [`crate::plot`] for what is reported and when.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::fact::{Fact, Value};
use super::pattern::{Bindings, Pattern, Test, VARS_MAX};
use crate::bonds::Bond;
use crate::events::Party;
use crate::mood::Pad;
use crate::personality::Personality;

/// Partial matches kept across all patterns. Each holds a binding array and an evidence link
/// (about 250 bytes with its index entry), so the default bounds the sifter near 16 MiB. Stories
/// in progress are few; what fills the store is openings (every kindness may start a betrayal).
pub const PARTIALS_MAX: usize = 1 << 16;
/// Partial matches kept per pattern, so one pattern with a common opening cannot starve the others.
/// The effective per-pattern bound is the smaller of this and `PARTIALS_MAX / n_patterns`.
pub const PARTIALS_PER_PATTERN_MAX: usize = 1 << 13;

/// What patterns may ask about the world at the time a fact arrives.
///
/// The sifter evaluates `when` conditions against the view passed to [`Sifter::feed`]; the tick
/// integration passes the state at the end of the tick the facts come from.
pub trait StateView {
    /// How `a` feels about `b`, if they have a relationship.
    fn bond(&self, a: u32, b: u32) -> Option<Bond>;
    /// Traits of character `c`.
    fn personality(&self, c: u32) -> Option<Personality>;
    /// Current mood of character `c`.
    fn mood(&self, c: u32) -> Option<Pad>;
}

/// A state that knows nothing: every condition on bonds, traits or moods is false.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoState;

impl StateView for NoState {
    fn bond(&self, _: u32, _: u32) -> Option<Bond> {
        None
    }
    fn personality(&self, _: u32) -> Option<Personality> {
        None
    }
    fn mood(&self, _: u32) -> Option<Pad> {
        None
    }
}

/// Identity of a (partial) match: a hash of the pattern name, the clauses matched with their facts'
/// `seq`s, and the bindings. Equal evidence and bindings give equal ids, in any run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct MatchId(pub u64);

/// One piece of evidence: which clause a fact matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Beat {
    /// Clause index in the pattern (see [`Pattern::beat`] and [`Pattern::stage_of`]).
    pub clause: usize,
    /// `seq` of the fact.
    pub seq: u64,
}

/// Why a reported match can go no further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Abandon {
    /// Every possible next clause's time window passed.
    Expired,
    /// An `unless` fact ruled out the last possible next clause.
    Negated,
    /// Dropped to stay within the partial-match bound (see [`Limits`]).
    Evicted,
}

/// Something the sifter has to say about a match.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchEvent {
    /// Index of the pattern in the sifter's (or batch's) pattern list.
    pub pattern: usize,
    /// The match as of `stage`.
    pub id: MatchId,
    /// The match as of the previous stage (`None` at the first stage).
    pub parent: Option<MatchId>,
    /// The match as of the last required stage, once reached: the arc that later optional stages
    /// extend.
    pub arc: Option<MatchId>,
    /// Last stage reached.
    pub stage: usize,
    /// Tick of the last fact, or the tick of abandonment (a window's deadline + 1 when it expired).
    pub tick: u64,
    /// Variable bindings, sorted by variable name.
    pub bindings: Vec<(Arc<str>, Value)>,
    /// Evidence, one beat per clause matched, in order.
    pub beats: Vec<Beat>,
    /// Whether every required stage is reached.
    pub completed: bool,
    /// Set when the match can go no further (it was reported before and was not extended).
    pub abandoned: Option<Abandon>,
}

/// Bounds on partial matches (defaults: [`PARTIALS_MAX`], [`PARTIALS_PER_PATTERN_MAX`]).
///
/// Policy when a pattern holds more than its bound after a fact: drop the partial matches that
/// advanced least recently first (smallest last `seq`; then fewest clauses matched; then id), down
/// to 7/8 of the bound so that trimming is not paid on every fact. Least-recent-first never
/// starves new stories (an opening is never dropped before older partials), and a story that keeps
/// advancing keeps its place; a story that waits long (an optional stage without a window) is the
/// first to go when openings flood in. A dropped match that was reported is reported again as
/// abandoned ([`Abandon::Evicted`]). The policy depends only on the facts, never on threads or on
/// how facts are split into calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most partial matches over all patterns.
    pub partials_max: usize,
    /// Most partial matches of one pattern.
    pub partials_per_pattern_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { partials_max: PARTIALS_MAX, partials_per_pattern_max: PARTIALS_PER_PATTERN_MAX }
    }
}

/// The incremental sifter: patterns and their partial matches.
#[derive(Clone, Debug)]
pub struct Sifter {
    pub(super) patterns: Vec<Pattern>,
    pub(super) runs: Vec<Run>,
    pub(super) limits: Limits,
    /// Facts with a smaller `seq` have been fed.
    pub(super) next_seq: u64,
}

impl Sifter {
    /// A sifter for `patterns` with the default [`Limits`].
    pub fn new(patterns: Vec<Pattern>) -> Self {
        Self::with_limits(patterns, Limits::default())
    }

    /// A sifter for `patterns` with the given bounds.
    pub fn with_limits(patterns: Vec<Pattern>, limits: Limits) -> Self {
        let runs = patterns.iter().map(Run::new).collect();
        Self { patterns, runs, limits, next_seq: 0 }
    }

    /// The patterns, in index order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Partial matches held now (over all patterns).
    pub fn n_partials(&self) -> usize {
        self.runs.iter().map(|r| r.len).sum()
    }

    /// Partial matches dropped by the bound so far.
    pub fn n_evicted(&self) -> u64 {
        self.runs.iter().map(|r| r.evicted).sum()
    }

    /// The effective bound of one pattern.
    pub fn pattern_bound(&self) -> usize {
        let share = self.limits.partials_max / self.patterns.len().max(1);
        self.limits.partials_per_pattern_max.min(share).max(1)
    }

    /// Advances every pattern over `facts` (in `seq` order, ticks never decreasing; facts already
    /// fed are skipped), evaluating conditions against `state`. With `parallel`, patterns run on
    /// rayon's current pool; the result is the same either way, sorted by (tick, pattern, id,
    /// abandonment).
    pub fn feed<S: StateView + Sync>(&mut self, facts: &[Fact], state: &S, parallel: bool) -> Vec<MatchEvent> {
        debug_assert!(facts.windows(2).all(|w| w[0].seq < w[1].seq && w[0].tick <= w[1].tick), "facts out of order");
        let facts = &facts[facts.partition_point(|f| f.seq < self.next_seq)..];
        let Some(last) = facts.last() else { return Vec::new() };
        self.next_seq = last.seq + 1;
        let bound = self.pattern_bound();
        let work = |(i, (run, pat)): (usize, (&mut Run, &Pattern))| {
            let mut out = Vec::new();
            for f in facts {
                run.on_fact(Ctx { index: i, pat, state }, f, bound, &mut out);
            }
            out
        };
        let outs: Vec<Vec<MatchEvent>> = if parallel {
            self.runs.par_iter_mut().zip(self.patterns.par_iter()).enumerate().map(work).collect()
        } else {
            self.runs.iter_mut().zip(self.patterns.iter()).enumerate().map(work).collect()
        };
        merge(outs)
    }

    /// Declares that every fact with a tick before `now` has been fed: partial matches whose every
    /// next clause had to come before `now` expire. Call it after a tick's facts with the next tick.
    pub fn advance(&mut self, now: u64) -> Vec<MatchEvent> {
        let mut outs = Vec::with_capacity(self.runs.len());
        for (i, (run, pat)) in self.runs.iter_mut().zip(&self.patterns).enumerate() {
            let mut out = Vec::new();
            if now > run.now {
                run.expire(Ctx { index: i, pat, state: &NoState }, now, &mut out);
                run.now = now;
            }
            outs.push(out);
        }
        merge(outs)
    }
}

/// Sorts per-pattern outputs into the documented order.
fn merge(outs: Vec<Vec<MatchEvent>>) -> Vec<MatchEvent> {
    let mut all: Vec<MatchEvent> = outs.into_iter().flatten().collect();
    all.sort_by_key(order);
    all
}

/// The order of reported events: by tick, pattern, id, then reaching before abandoning.
pub(crate) fn order(e: &MatchEvent) -> (u64, usize, MatchId, bool) {
    (e.tick, e.pattern, e.id, e.abandoned.is_some())
}

/// Evidence as a shared linked list: extending a partial copies one link, not the whole list.
#[derive(Debug)]
pub(crate) struct Link {
    pub clause: u8,
    pub seq: u64,
    pub prev: Option<Arc<Link>>,
}

/// A partial match: a prefix of a pattern's clauses matched by facts in order.
#[derive(Clone, Debug)]
pub(crate) struct Partial {
    pub id: MatchId,
    /// 1 + the last clause matched.
    pub pos: u8,
    pub n_matched: u8,
    /// Bit `i`: candidate `i` of the position may still come.
    pub alive: u8,
    /// Whether an extension of this match reached the next stage.
    pub extended: bool,
    pub last_seq: u64,
    pub last_tick: u64,
    /// Tick of the last fact of the previous stage (anchor of stage windows).
    pub stage_tick: u64,
    /// The match at the end of the previous stage: its position and id.
    pub anc: Option<(u8, MatchId)>,
    pub arc: Option<MatchId>,
    pub bindings: Bindings,
    pub beats: Arc<Link>,
}

impl Partial {
    /// The match `parent` (or nothing, for a first clause) extended by fact `f` as clause `c`.
    pub(crate) fn extend(pat: &Pattern, parent: Option<&Partial>, c: usize, f: &Fact, b: &Bindings) -> Self {
        let pos = c + 1;
        let (prev_id, n, stage_tick, anc, arc, link) = match parent {
            None => (MatchId(xxh3_64(pat.name.as_bytes())), 0, f.tick, None, None, None),
            Some(p) => {
                let at_boundary = pat.plan[usize::from(p.pos)].boundary.is_some();
                let stage_tick = if pat.opens_stage(c) { p.last_tick } else { p.stage_tick };
                let anc = if at_boundary { Some((p.pos, p.id)) } else { p.anc };
                (p.id, p.n_matched, stage_tick, anc, p.arc, Some(p.beats.clone()))
            }
        };
        let id = chain(prev_id, c, f.seq, b);
        let arc = arc.or((pat.plan[pos].boundary == Some(pat.last_required())).then_some(id));
        Self {
            id,
            pos: pos as u8,
            n_matched: n + 1,
            alive: ((1u16 << pat.plan[pos].cands.len()) - 1) as u8,
            extended: false,
            last_seq: f.seq,
            last_tick: f.tick,
            stage_tick,
            anc,
            arc,
            bindings: *b,
            beats: Arc::new(Link { clause: c as u8, seq: f.seq, prev: link }),
        }
    }

    /// The stage this partial has completed, if it sits at a stage boundary.
    pub(crate) fn boundary(&self, pat: &Pattern) -> Option<usize> {
        pat.plan[usize::from(self.pos)].boundary
    }

    /// Whether this partial's stage was reported when it was reached.
    pub(crate) fn reported(&self, pat: &Pattern) -> bool {
        self.boundary(pat).is_some_and(|s| pat.reports(s))
    }

    /// The event describing this partial.
    pub(crate) fn event(&self, index: usize, pat: &Pattern, tick: u64, abandoned: Option<Abandon>) -> MatchEvent {
        let stage = self.boundary(pat).unwrap_or(0);
        let mut bindings: Vec<(Arc<str>, Value)> = (pat.vars.iter().zip(self.bindings))
            .filter_map(|(name, b)| Some((name.clone(), Value::of_party(b?))))
            .collect();
        bindings.sort_by(|x, y| x.0.cmp(&y.0));
        let mut beats = Vec::with_capacity(usize::from(self.n_matched));
        let mut link = Some(&self.beats);
        while let Some(l) = link {
            beats.push(Beat { clause: usize::from(l.clause), seq: l.seq });
            link = l.prev.as_ref();
        }
        beats.reverse();
        MatchEvent {
            pattern: index,
            id: self.id,
            parent: self.anc.map(|(_, id)| id),
            arc: self.arc,
            stage,
            tick,
            bindings,
            beats,
            completed: stage >= pat.last_required() && self.boundary(pat).is_some(),
            abandoned,
        }
    }
}

/// The id of a match extended by `seq` as clause `c`, with bindings `b`.
fn chain(prev: MatchId, c: usize, seq: u64, b: &Bindings) -> MatchId {
    let mut buf = [0u8; 17 + 9 * VARS_MAX];
    buf[..8].copy_from_slice(&prev.0.to_le_bytes());
    buf[8] = c as u8;
    buf[9..17].copy_from_slice(&seq.to_le_bytes());
    for (i, v) in b.iter().enumerate() {
        let (tag, x) = match v {
            None => (0, 0),
            Some(Party::Character(c)) => (1, u64::from(c.0)),
            Some(Party::Group(g)) => (2, *g),
        };
        buf[17 + 9 * i] = tag;
        buf[18 + 9 * i..26 + 9 * i].copy_from_slice(&x.to_le_bytes());
    }
    MatchId(xxh3_64(&buf))
}

/// What a run needs besides its own state.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    index: usize,
    pat: &'a Pattern,
    state: &'a dyn StateView,
}

/// Key of a partial in its bucket: the index variable's value, then the id.
pub(super) type Key = (Option<Party>, MatchId);

/// Partial matches at one position.
#[derive(Clone, Debug)]
pub(super) struct Bucket {
    pub map: BTreeMap<Key, Partial>,
    /// No alive candidate of a partial here has a deadline before this tick.
    min_deadline: u64,
}

/// One pattern's partial matches and clock.
#[derive(Clone, Debug)]
pub(super) struct Run {
    /// By position; bucket 0 (nothing matched) stays empty.
    pub buckets: Vec<Bucket>,
    /// Latest tick seen.
    pub now: u64,
    pub len: usize,
    pub evicted: u64,
}

impl Run {
    pub(super) fn new(pat: &Pattern) -> Self {
        let empty = Bucket { map: BTreeMap::new(), min_deadline: u64::MAX };
        Self { buckets: vec![empty; pat.plan.len()], now: 0, len: 0, evicted: 0 }
    }

    /// One fact: expire by time, extend, report, negate, store, bound.
    fn on_fact(&mut self, cx: Ctx<'_>, f: &Fact, bound: usize, out: &mut Vec<MatchEvent>) {
        if f.tick > self.now {
            self.expire(cx, f.tick, out);
            self.now = f.tick;
        }
        let mut born = Vec::new();
        let mut used = Vec::new();
        self.extensions(cx, f, &mut born, &mut used);
        // Partials waiting for a `once` stage are used up by their first extension.
        used.sort_unstable();
        used.dedup();
        for (pos, key) in used {
            if self.buckets[pos].map.remove(&key).is_some() {
                self.len -= 1;
            }
        }
        for child in &born {
            if child.reported(cx.pat) {
                out.push(child.event(cx.index, cx.pat, f.tick, None));
            }
            if let (Some(_), Some(anc)) = (child.boundary(cx.pat), child.anc) {
                self.mark_extended(cx.pat, anc, &child.bindings);
            }
        }
        self.negations(cx, f, out);
        for child in born {
            if !cx.pat.plan[usize::from(child.pos)].cands.is_empty() {
                self.insert(cx.pat, child);
            }
        }
        if self.len > bound {
            self.trim(cx, bound, out);
        }
    }

    /// New partials: openings from nothing, and extensions of waiting partials by `f`; `used`
    /// receives the partials extended into a `once` stage.
    fn extensions(&self, cx: Ctx<'_>, f: &Fact, born: &mut Vec<Partial>, used: &mut Vec<(usize, Key)>) {
        let pat = cx.pat;
        for &c in &pat.plan[0].cands {
            let c = usize::from(c);
            pat.clauses[c].test.bind(f, &[None; VARS_MAX], cx.state, &mut |b| {
                born.push(Partial::extend(pat, None, c, f, b));
            });
        }
        let mut keys = Vec::new();
        for (pos, posn) in pat.plan.iter().enumerate().skip(1) {
            if posn.clause_kinds & f.kind.bit() == 0 || self.buckets[pos].map.is_empty() {
                continue;
            }
            for (i, &c) in posn.cands.iter().enumerate() {
                let (c, test) = (usize::from(c), &pat.clauses[usize::from(c)].test);
                if test.kind != f.kind {
                    continue;
                }
                visit(&self.buckets[pos], posn.index_var, test, f, &mut keys, &mut |key, p| {
                    if p.alive & (1 << i) == 0 || p.last_seq >= f.seq {
                        return;
                    }
                    if pat.deadline(c, p.last_tick, p.stage_tick).is_some_and(|d| f.tick > d) {
                        return;
                    }
                    let before = born.len();
                    test.bind(f, &p.bindings, cx.state, &mut |b| born.push(Partial::extend(pat, Some(p), c, f, b)));
                    if posn.once && born.len() > before {
                        used.push((pos, *key));
                    }
                });
            }
        }
    }

    /// `unless` tests: a fact that matches one rules out that candidate for the partials waiting
    /// before it; a partial with no candidate left is dropped.
    fn negations(&mut self, cx: Ctx<'_>, f: &Fact, out: &mut Vec<MatchEvent>) {
        let pat = cx.pat;
        let mut keys = Vec::new();
        for (pos, posn) in pat.plan.iter().enumerate().skip(1) {
            if posn.unless_kinds & f.kind.bit() == 0 || self.buckets[pos].map.is_empty() {
                continue;
            }
            let mut hits: BTreeMap<Key, u8> = BTreeMap::new();
            for (i, &c) in posn.cands.iter().enumerate() {
                for u in pat.clauses[usize::from(c)].unless.iter().filter(|u| u.kind == f.kind) {
                    visit(&self.buckets[pos], posn.index_var, u, f, &mut keys, &mut |key, p| {
                        if p.alive & (1 << i) != 0 && p.last_seq < f.seq && u.holds(f, &p.bindings, cx.state) {
                            *hits.entry(*key).or_default() |= 1 << i;
                        }
                    });
                }
            }
            for (key, mask) in hits {
                let bucket = &mut self.buckets[pos];
                let Some(p) = bucket.map.get_mut(&key) else { continue };
                p.alive &= !mask;
                if p.alive == 0 {
                    let p = bucket.map.remove(&key).expect("present: just read");
                    self.len -= 1;
                    if p.reported(pat) && !p.extended {
                        out.push(p.event(cx.index, pat, f.tick, Some(Abandon::Negated)));
                    }
                }
            }
        }
    }

    /// Drops candidates whose window closed before `now`, and partials left with none.
    fn expire(&mut self, cx: Ctx<'_>, now: u64, out: &mut Vec<MatchEvent>) {
        let pat = cx.pat;
        for (pos, posn) in pat.plan.iter().enumerate().skip(1) {
            let bucket = &mut self.buckets[pos];
            if !posn.windowed || bucket.min_deadline >= now {
                continue;
            }
            let mut min_deadline = u64::MAX;
            let mut dead = Vec::new();
            for (key, p) in bucket.map.iter_mut() {
                let mut died_at = None;
                for (i, &c) in posn.cands.iter().enumerate() {
                    let Some(d) = pat.deadline(usize::from(c), p.last_tick, p.stage_tick) else { continue };
                    if p.alive & (1 << i) == 0 {
                        continue;
                    }
                    if d < now {
                        p.alive &= !(1 << i);
                        died_at = died_at.max(Some(d + 1));
                    } else {
                        min_deadline = min_deadline.min(d);
                    }
                }
                if let (0, Some(t)) = (p.alive, died_at) {
                    dead.push((*key, t));
                }
            }
            bucket.min_deadline = min_deadline;
            for (key, tick) in dead {
                let p = bucket.map.remove(&key).expect("present: just visited");
                self.len -= 1;
                if p.reported(pat) && !p.extended {
                    out.push(p.event(cx.index, pat, tick, Some(Abandon::Expired)));
                }
            }
        }
    }

    /// Marks the match at the end of the previous stage as extended (it may be gone already).
    fn mark_extended(&mut self, pat: &Pattern, (pos, id): (u8, MatchId), b: &Bindings) {
        let index_var = pat.plan[usize::from(pos)].index_var;
        let key = (index_var.and_then(|v| b[usize::from(v)]), id);
        if let Some(p) = self.buckets[usize::from(pos)].map.get_mut(&key) {
            p.extended = true;
        }
    }

    pub(super) fn insert(&mut self, pat: &Pattern, p: Partial) {
        let pos = usize::from(p.pos);
        let posn = &pat.plan[pos];
        let bucket = &mut self.buckets[pos];
        for (i, &c) in posn.cands.iter().enumerate() {
            if let Some(d) = pat.deadline(usize::from(c), p.last_tick, p.stage_tick).filter(|_| p.alive & (1 << i) != 0)
            {
                bucket.min_deadline = bucket.min_deadline.min(d);
            }
        }
        let key = (posn.index_var.and_then(|v| p.bindings[usize::from(v)]), p.id);
        if bucket.map.insert(key, p).is_none() {
            self.len += 1;
        }
    }

    /// Applies the bound's policy (see [`Limits`]).
    fn trim(&mut self, cx: Ctx<'_>, bound: usize, out: &mut Vec<MatchEvent>) {
        let keep = bound - bound / 8;
        let mut all: Vec<(u64, u8, MatchId, usize, Key)> = Vec::with_capacity(self.len);
        for (pos, bucket) in self.buckets.iter().enumerate() {
            all.extend(bucket.map.iter().map(|(k, p)| (p.last_seq, p.n_matched, p.id, pos, *k)));
        }
        let n_drop = all.len().saturating_sub(keep);
        if n_drop == 0 {
            return;
        }
        all.select_nth_unstable(n_drop - 1);
        all.truncate(n_drop);
        all.sort_unstable();
        for (_, _, _, pos, key) in all {
            let p = self.buckets[pos].map.remove(&key).expect("present: just listed");
            self.len -= 1;
            self.evicted += 1;
            if p.reported(cx.pat) && !p.extended {
                out.push(p.event(cx.index, cx.pat, self.now, Some(Abandon::Evicted)));
            }
        }
    }
}

/// Calls `each` with the partials of `bucket` that `test` could concern for fact `f`: those whose
/// index variable has a value `test` allows, or all of them when `test` leaves it free.
fn visit(
    bucket: &Bucket,
    index_var: Option<u8>,
    test: &Test,
    f: &Fact,
    keys: &mut Vec<Party>,
    each: &mut dyn FnMut(&Key, &Partial),
) {
    match index_var {
        Some(v) if test.probe(f, v, keys) => {
            for &k in keys.iter() {
                let range = (Some(k), MatchId(0))..=(Some(k), MatchId(u64::MAX));
                for (key, p) in bucket.map.range(range) {
                    each(key, p);
                }
            }
        }
        _ => {
            for (key, p) in &bucket.map {
                each(key, p);
            }
        }
    }
}
