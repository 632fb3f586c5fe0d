//! The sifter's partial matches in a serializable form, so a world saved in a snapshot and
//! continued sifts exactly as the uninterrupted world would.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::pattern::{Pattern, VARS_MAX};
use super::sift::{Limits, Link, MatchId, Partial, Run, Sifter};
use crate::events::Party;

/// Everything a [`Sifter`] holds besides its patterns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiftState {
    /// Facts with a smaller `seq` have been fed.
    pub next_seq: u64,
    /// One per pattern, in the sifter's order.
    pub patterns: Vec<PatternState>,
}

/// One pattern's partial matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternState {
    /// Pattern name.
    pub name: String,
    /// Fingerprint of the compiled pattern: a state only restores into the same pattern.
    pub fingerprint: u64,
    /// Latest tick seen.
    pub now: u64,
    /// Partial matches dropped by the bound so far.
    pub evicted: u64,
    /// Partial matches, by position then key.
    pub partials: Vec<PartialState>,
}

/// One partial match.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialState {
    /// Identity.
    pub id: MatchId,
    /// 1 + the last clause matched.
    pub pos: u8,
    /// Candidates still possible, as a bit set.
    pub alive: u8,
    /// Whether an extension reached the next stage.
    pub extended: bool,
    /// Tick of the last fact matched.
    pub last_tick: u64,
    /// Tick of the last fact of the previous stage.
    pub stage_tick: u64,
    /// The match at the end of the previous stage: position and id.
    pub anc: Option<(u8, MatchId)>,
    /// The match at the last required stage.
    pub arc: Option<MatchId>,
    /// Bindings by variable index.
    pub bindings: Vec<Option<Party>>,
    /// Evidence: `(clause, seq)` per clause matched, in order.
    pub beats: Vec<(u8, u64)>,
}

/// Why a saved state does not fit the patterns it is restored into.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RestoreError {
    /// The patterns differ (count, order, name or content) from those the state was saved with.
    #[error("sifter state does not fit the patterns: {0}")]
    Mismatch(String),
    /// A partial match is malformed.
    #[error("sifter state of pattern {pattern:?} is corrupt: {why}")]
    Corrupt {
        /// Pattern name.
        pattern: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// Fingerprint of a compiled pattern (its stages, clauses and plan as printed by `Debug`, which
/// is deterministic).
pub fn fingerprint(p: &Pattern) -> u64 {
    xxh3_64(format!("{:?}|{:?}|{:?}|{:?}", p.vars, p.stages, p.clauses, p.plan).as_bytes())
}

impl Sifter {
    /// The partial matches and clocks, to save beside a world snapshot.
    pub fn state(&self) -> SiftState {
        let patterns = (self.patterns.iter().zip(&self.runs))
            .map(|(pat, run)| PatternState {
                name: pat.name.clone(),
                fingerprint: fingerprint(pat),
                now: run.now,
                evicted: run.evicted,
                partials: run.buckets.iter().flat_map(|b| b.map.values()).map(save).collect(),
            })
            .collect();
        SiftState { next_seq: self.next_seq, patterns }
    }

    /// A sifter for `patterns` continuing from `state` (saved by [`Sifter::state`] with the same
    /// patterns in the same order).
    pub fn restore(patterns: Vec<Pattern>, limits: Limits, state: &SiftState) -> Result<Self, RestoreError> {
        if patterns.len() != state.patterns.len() {
            let m = format!("{} patterns saved, {} given", state.patterns.len(), patterns.len());
            return Err(RestoreError::Mismatch(m));
        }
        let mut runs = Vec::with_capacity(patterns.len());
        for (pat, saved) in patterns.iter().zip(&state.patterns) {
            if pat.name != saved.name || fingerprint(pat) != saved.fingerprint {
                return Err(RestoreError::Mismatch(format!(
                    "pattern {:?} saved, {:?} given or changed",
                    saved.name, pat.name
                )));
            }
            let mut run = Run::new(pat);
            (run.now, run.evicted) = (saved.now, saved.evicted);
            for p in &saved.partials {
                let corrupt = |why| RestoreError::Corrupt { pattern: pat.name.clone(), why };
                run.insert(pat, load(pat, p).map_err(corrupt)?);
            }
            runs.push(run);
        }
        Ok(Self { patterns, runs, limits, next_seq: state.next_seq })
    }
}

fn save(p: &Partial) -> PartialState {
    let mut beats = Vec::with_capacity(usize::from(p.n_matched));
    let mut link = Some(&p.beats);
    while let Some(l) = link {
        beats.push((l.clause, l.seq));
        link = l.prev.as_ref();
    }
    beats.reverse();
    PartialState {
        id: p.id,
        pos: p.pos,
        alive: p.alive,
        extended: p.extended,
        last_tick: p.last_tick,
        stage_tick: p.stage_tick,
        anc: p.anc,
        arc: p.arc,
        bindings: p.bindings.to_vec(),
        beats,
    }
}

fn load(pat: &Pattern, s: &PartialState) -> Result<Partial, &'static str> {
    let pos = usize::from(s.pos);
    if pos == 0 || pos >= pat.plan.len() || pat.plan[pos].cands.is_empty() {
        return Err("a position that holds no partial match");
    }
    if s.bindings.len() > VARS_MAX || s.beats.is_empty() || s.beats.len() > pos {
        return Err("bindings or evidence of the wrong size");
    }
    let Some(&(last_clause, last_seq)) = s.beats.last() else { return Err("no evidence") };
    if usize::from(last_clause) + 1 != pos || s.beats.iter().any(|b| usize::from(b.0) >= pat.n_clauses()) {
        return Err("evidence that does not end at the position");
    }
    let mut bindings = [None; VARS_MAX];
    bindings[..s.bindings.len()].copy_from_slice(&s.bindings);
    let mut link = None;
    for &(clause, seq) in &s.beats {
        link = Some(Arc::new(Link { clause, seq, prev: link }));
    }
    Ok(Partial {
        id: s.id,
        pos: s.pos,
        n_matched: s.beats.len() as u8,
        alive: s.alive,
        extended: s.extended,
        last_seq,
        last_tick: s.last_tick,
        stage_tick: s.stage_tick,
        anc: s.anc,
        arc: s.arc,
        bindings,
        beats: link.expect("evidence is not empty"),
    })
}
