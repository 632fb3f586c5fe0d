//! The reference matcher: every match over a whole log by plain backtracking search.
//!
//! It follows the definitions in the [`crate::plot`] module docs directly (clause after clause,
//! scanning forward; a window or an `unless` fact ends the scan) and is used to test the incremental
//! [`super::Sifter`], which must report exactly the same events. It is exponential in the worst case
//! and meant for small logs.

use super::fact::Fact;
use super::pattern::{Pattern, VARS_MAX};
use super::sift::{Abandon, MatchEvent, Partial, StateView, order};

/// Every event the incremental sifter reports for `patterns` over `facts` (sorted by `seq`, ticks
/// non-decreasing) followed by `advance(now)`, with `state_at(seq)` the state a fact was seen with.
pub fn batch<S: StateView, F: Fn(u64) -> S>(
    patterns: &[Pattern],
    facts: &[Fact],
    now: u64,
    state_at: F,
) -> Vec<MatchEvent> {
    let mut out = Vec::new();
    for (index, pat) in patterns.iter().enumerate() {
        let mut all = Vec::new();
        for (j, f) in facts.iter().enumerate() {
            for &c in &pat.plan[0].cands {
                let c = usize::from(c);
                for b in bindings(pat, c, None, f, &state_at) {
                    let p = Partial::extend(pat, None, c, f, &b);
                    grow(pat, facts, &state_at, p, j, &mut all);
                }
            }
        }
        for (p, j, first) in &all {
            if p.reported(pat) {
                out.push(p.event(index, pat, p.last_tick, None));
            }
            if p.reported(pat) && !pat.plan[usize::from(p.pos)].cands.is_empty() {
                out.extend(abandonment(index, pat, facts, now, &state_at, (p, *j, *first), &all));
            }
        }
    }
    out.sort_by_key(order);
    out
}

/// The ways fact `f` matches clause `c` after partial `p` (or as an opening).
fn bindings<S: StateView, F: Fn(u64) -> S>(
    pat: &Pattern,
    c: usize,
    p: Option<&Partial>,
    f: &Fact,
    state_at: &F,
) -> Vec<super::pattern::Bindings> {
    let mut out = Vec::new();
    let b = p.map_or([None; VARS_MAX], |p| p.bindings);
    pat.clauses[c].test.bind(f, &b, &state_at(f.seq), &mut |nb| out.push(*nb));
    out
}

/// A prefix found by the search: the partial, the index of its last fact, and the `seq` of the
/// first fact that extended it (if any).
type Found = (Partial, usize, Option<u64>);

/// Records `p` (whose last fact is `facts[j]`) and every extension of it.
fn grow<S: StateView, F: Fn(u64) -> S>(
    pat: &Pattern,
    facts: &[Fact],
    state_at: &F,
    p: Partial,
    j: usize,
    all: &mut Vec<Found>,
) {
    let posn = &pat.plan[usize::from(p.pos)];
    let mut exts = Vec::new();
    for &c in &posn.cands {
        let c = usize::from(c);
        let deadline = pat.deadline(c, p.last_tick, p.stage_tick);
        for (k, g) in facts.iter().enumerate().skip(j + 1) {
            if deadline.is_some_and(|d| g.tick > d) {
                break;
            }
            exts.extend(bindings(pat, c, Some(&p), g, state_at).into_iter().map(|b| (k, c, b)));
            if negated(pat, c, &p, g, state_at) {
                break;
            }
        }
    }
    // A `once` stage: only the first fact that extends the partial (by any clause) counts.
    let first = exts.iter().map(|e| e.0).min();
    if posn.once {
        exts.retain(|e| Some(e.0) == first);
    }
    for (k, c, b) in exts {
        grow(pat, facts, state_at, Partial::extend(pat, Some(&p), c, &facts[k], &b), k, all);
    }
    all.push((p, j, first.map(|k| facts[k].seq)));
}

fn negated<S: StateView, F: Fn(u64) -> S>(pat: &Pattern, c: usize, p: &Partial, g: &Fact, state_at: &F) -> bool {
    pat.clauses[c].unless.iter().any(|u| u.holds(g, &p.bindings, &state_at(g.seq)))
}

/// When a reported partial `p` can go no further and was not extended before that, its abandonment.
///
/// Each candidate dies at a position: `(seq, 0)` for a window that closed before fact `seq`,
/// `(seq, 2)` for an `unless` fact `seq`, `(u64::MAX, 0)` for a window closed by `now`. The partial
/// dies when its last candidate does; an extension at fact `seq` sits at `(seq, 1)`. A partial that
/// reached the next stage before it died, or was used up by a `once` stage, is not abandoned.
fn abandonment<S: StateView, F: Fn(u64) -> S>(
    index: usize,
    pat: &Pattern,
    facts: &[Fact],
    now: u64,
    state_at: &F,
    (p, j, first): (&Partial, usize, Option<u64>),
    all: &[Found],
) -> Option<MatchEvent> {
    // (position, tick, reason) of the death of each candidate.
    let mut deaths = Vec::new();
    for &c in &pat.plan[usize::from(p.pos)].cands {
        let c = usize::from(c);
        let deadline = pat.deadline(c, p.last_tick, p.stage_tick);
        let mut death = None;
        for g in &facts[j + 1..] {
            if let Some(d) = deadline.filter(|d| g.tick > *d) {
                death = Some(((g.seq, 0), d + 1, Abandon::Expired));
                break;
            }
            if negated(pat, c, p, g, state_at) {
                death = Some(((g.seq, 2), g.tick, Abandon::Negated));
                break;
            }
        }
        let death = death.or_else(|| deadline.filter(|d| now > *d).map(|d| ((u64::MAX, 0), d + 1, Abandon::Expired)));
        deaths.push(death?);
    }
    let last = deaths.iter().map(|d| d.0).max()?;
    let (tick, why) = deaths.iter().filter(|d| d.0 == last).map(|d| (d.1, d.2)).max()?;
    let extended = all
        .iter()
        .any(|(q, _, _)| q.boundary(pat).is_some() && q.anc.map(|(_, id)| id) == Some(p.id) && (q.last_seq, 1) < last);
    let used = pat.plan[usize::from(p.pos)].once && first.is_some_and(|s| (s, 1) < last);
    (!extended && !used).then(|| p.event(index, pat, tick, Some(why)))
}
