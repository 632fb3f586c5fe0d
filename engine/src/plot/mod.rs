//! Story sifting: finding stories in the event log with declarative patterns.
//!
//! Felt (Kreminski, Dickinson & Wardrip-Fruin 2019) sifts stories with queries over the event
//! database that join events through logic variables; Winnow (Kreminski, Dickinson, Mateas &
//! Wardrip-Fruin 2021) compiles such queries into stages and matches them incrementally, keeping
//! partial matches, killing them with `unless` clauses and time windows. This module does both.
//!
//! - [`fact`]: events flattened into [`Fact`]s with fields addressed by name.
//! - [`parse`]/[`load`]/[`load_dir`]: pattern files (`format = "aion.pattern/1"`, documented in
//!   `scenarios/patterns/README.md`) to validated [`Pattern`]s, reporting every problem.
//! - [`Sifter`]: the incremental matcher; [`batch`]: the reference matcher it is tested against;
//!   [`SiftState`]: the sifter's partial matches for snapshots.
//!
//! # What a match is
//!
//! A pattern's clauses are numbered in file order. Each stage is either *ordered* (its clauses match
//! one after the other) or `any` (exactly one of its clauses, an alternative, matches). A *match
//! prefix* is a sequence of facts `f0, f1, …, fk` (strictly increasing `seq`) and clauses
//! `c0, c1, …, ck` such that:
//!
//! 1. `c0` opens the pattern (the first clause, or an alternative of an `any` first stage), and each
//!    `c(i+1)` may follow `ci` (the next clause of an ordered stage, else an opening clause of the
//!    next stage);
//! 2. every fact satisfies its clause: its kind, its `where` constraints under one consistent set of
//!    bindings (a variable bound once keeps its value; distinct variables have distinct values; a
//!    set field such as `members` binds a new variable to each member in turn, giving one prefix
//!    per member), and its `when` conditions, evaluated with the state the fact was fed with;
//! 3. windows hold: `f(i+1).tick <= fi.tick + within` of clause `c(i+1)`, and for a stage `within`,
//!    each of the stage's facts is at most `within` ticks after the last fact of the previous stage;
//! 4. no fact strictly between `fi` and `f(i+1)` satisfies an `unless` test of `c(i+1)` under the
//!    bindings of the prefix up to `fi` (a stage's `unless` applies to each of its clauses);
//! 5. if the stage of `c(i+1)` is `once`, no fact strictly between `fi` and `f(i+1)` would already
//!    extend the prefix up to `fi` under rules 1–4 (through any of its possible next clauses): a
//!    `once` step takes the first fitting fact only (every binding it allows).
//!
//! Every prefix is kept, not only the earliest: a prefix that is extended stays to be extended
//! again (copy-on-extend, as Felt's queries and Winnow's partial matches do), so "A helped B, then
//! B betrayed A twice" is two betrayal matches; rule 5 is the opt-out. A prefix's identity
//! ([`MatchId`]) hashes the pattern name, the clause and `seq` of each fact and the bindings.
//!
//! # What is reported
//!
//! - **Reached**: a prefix whose last clause completes stage `s` is reported once, when its last fact
//!   arrives, if `s >= 1` or if stage 0 alone completes the arc (openings are not news).
//!   `completed` is set from the last required stage on; `parent` is the prefix at the previous
//!   stage, `arc` the prefix at the last required stage (what optional stages extend).
//! - **Abandoned**: a reported prefix that is not the end of the pattern *dies* when each of its
//!   possible next clauses has died: by its window closing (at the first later fact beyond the
//!   deadline, or at [`Sifter::advance`]; reported with tick = deadline + 1, [`Abandon::Expired`]) or
//!   by an `unless` fact ([`Abandon::Negated`], that fact's tick). It is reported as abandoned only
//!   if no extension of it had reached the next stage before it died (an extension at a fact counts
//!   as before a negation by the same fact, after an expiry noticed at it), and it was not used up
//!   by a `once` step. A reported prefix dropped by the bound is reported with [`Abandon::Evicted`].
//!   So an optional stage that never comes ends a completed arc as abandoned (still `completed`).
//! - A prefix at a stage boundary can be extended many times (copy-on-extend), so an optional stage
//!   may be reached several times for one arc; all those reports share the `arc` id.
//!
//! [`Sifter::feed`] (with [`Sifter::advance`]) and [`batch`] produce the same events, in the same
//! order (tick, pattern, id, reaching before abandoning), however the facts are split into calls and
//! whether or not patterns run in parallel, as long as the bound drops nothing.
//!
//! # Driving it from the tick
//!
//! After each tick `T`: convert the events with `seq >=` the last one fed ([`fact_of`]), call
//! [`Sifter::feed`] with a [`StateView`] of the world at the end of `T` (that is "the state when the
//! event happened" for `when` conditions), then [`Sifter::advance`]`(T + 1)` so windows that closed
//! with `T` expire now rather than at the next event. Facts must come in `seq` order with ticks
//! never decreasing; facts already fed are skipped. Save [`Sifter::state`] beside a snapshot and
//! [`Sifter::restore`] it with the same patterns so a continued world sifts like an uninterrupted one.

pub mod fact;

mod batch;
mod check;
mod expr;
mod parse;
mod pattern;
mod save;
mod sift;

pub use batch::batch;
pub use expr::{BOND_DIMS, MOOD_AXES, TRAITS};
pub use fact::{Fact, FactKind, FieldSpec, FieldType, Value, fact_of};
pub use parse::{load, load_dir, parse};
pub use pattern::{
    ARC_KINDS, CLAUSES_MAX, ClauseShape, Pattern, STAGE_CLAUSES_MAX, STAGES_MAX, Stage, UNLESS_MAX, VARS_MAX,
    WITHIN_MAX,
};
pub use save::{PartialState, PatternState, RestoreError, SiftState, fingerprint};
pub use sift::{
    Abandon, Beat, Limits, MatchEvent, MatchId, NoState, PARTIALS_MAX, PARTIALS_PER_PATTERN_MAX, Sifter, StateView,
};

use crate::scenario::Problem;

/// The format tag a pattern file must declare.
pub const FORMAT: &str = "aion.pattern/1";
/// Most pattern files [`load_dir`] loads (a bound on start-up work; the shipped library has a dozen).
pub const PATTERN_FILES_MAX: usize = 256;

/// Why patterns could not be loaded. Lists every problem found, not only the first.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read patterns {file}: {source}")]
    Io {
        /// File or directory name.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The files were read but are invalid.
    #[error("{} problem(s) in patterns:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

#[cfg(test)]
mod tests;
