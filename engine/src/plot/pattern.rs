//! Sifting patterns: validated, compiled, and matched against one fact at a time.
//!
//! A [`Pattern`] is what `plot::parse` makes of a `scenarios/patterns/*.toml` file: stages of event
//! clauses over logic variables. Its clauses are flattened in file order (clause `c` of the whole
//! pattern), and a plan of *positions* is precomputed: position `0` is "nothing matched yet" and
//! position `c + 1` is "clause `c` was the last one matched". For each position the plan lists the
//! clauses that may come next (one clause inside an ordered stage; every alternative of an `any`
//! stage) and a variable the sifter can index waiting partial matches by.

use std::ops::Range;
use std::sync::Arc;

use super::expr::Expr;
use super::fact::{Fact, FactKind, Slot, Value};
use super::sift::StateView;
use crate::events::Party;
use crate::scenario::Genre;

/// Most variables a pattern may declare (bindings are a fixed array of this size).
pub const VARS_MAX: usize = 8;
/// Most stages in a pattern.
pub const STAGES_MAX: usize = 16;
/// Most clauses in one stage (alternatives of an `any` stage are tracked in an 8-bit mask).
pub const STAGE_CLAUSES_MAX: usize = 8;
/// Most clauses in a whole pattern (positions are `u8`; evidence stays short).
pub const CLAUSES_MAX: usize = 32;
/// Most `unless` tests on one clause.
pub const UNLESS_MAX: usize = 8;
/// Longest time window, in ticks (about 30 years of one tick a day; guards against typos).
pub const WITHIN_MAX: u64 = 10_000_000;

/// Arc kinds a pattern may declare (`[pattern] kind`): the vocabulary the arc tracker and the
/// chronicle know.
pub const ARC_KINDS: &[&str] = &[
    "friendship",
    "romance",
    "heartbreak",
    "love_triangle",
    "rivalry",
    "feud",
    "betrayal",
    "revenge",
    "redemption",
    "reconciliation",
    "alliance",
    "mystery",
    "quest",
    "downfall",
    "rise",
    "trauma",
];

/// Variable values, by variable index; `None` while unbound.
pub(crate) type Bindings = [Option<Party>; VARS_MAX];

/// The character a binding names, if it names one.
pub(crate) fn character(p: Option<Party>) -> Option<u32> {
    match p? {
        Party::Character(c) => Some(c.0),
        Party::Group(_) => None,
    }
}

/// A validated sifting pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// Unique name (`[pattern] name`).
    pub name: String,
    /// Arc kind, one of [`ARC_KINDS`].
    pub kind: String,
    /// Genres where this pattern is primary (empty: none in particular).
    pub genres: Vec<Genre>,
    /// Free text for tools and the chronicle.
    pub description: String,
    /// File it came from.
    pub source: String,
    /// Declared variables (without `?`), in declaration order; bindings use these indices.
    pub vars: Vec<Arc<str>>,
    /// Stages in order.
    pub stages: Vec<Stage>,
    pub(crate) clauses: Vec<Clause>,
    pub(crate) plan: Vec<Position>,
}

/// One stage: reached when its clauses match (in order, or any one of them with `any`).
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// Name, unique in the pattern.
    pub name: String,
    /// Whether the arc is already complete without this stage (only later stages may be optional).
    pub optional: bool,
    /// Whether any one clause reaches the stage (alternatives) rather than all of them in order.
    pub any: bool,
    /// Most ticks from the previous stage's last fact to each fact of this stage.
    pub within: Option<u64>,
    /// Whether a match takes only the first fact that fits each step of this stage, instead of
    /// every fact that fits (see the module docs of [`crate::plot`]).
    pub once: bool,
    /// Clause names ("beats"), one per clause of the stage.
    pub beats: Vec<String>,
    /// The stage's clauses, as indices into the pattern's flattened clauses.
    pub clauses: Range<usize>,
}

/// One event clause.
#[derive(Clone, Debug)]
pub(crate) struct Clause {
    pub stage: usize,
    pub test: Test,
    /// Most ticks since the previous clause's fact.
    pub within: Option<u64>,
    /// Facts that, arriving between the previous clause's fact and this one's, rule this clause out.
    pub unless: Vec<Test>,
}

/// What a fact must be: its kind, field constraints and conditions.
#[derive(Clone, Debug)]
pub(crate) struct Test {
    pub kind: FactKind,
    /// Scalar constraints first, then set memberships (which may branch).
    pub fields: Vec<FieldTest>,
    pub when: Vec<Expr>,
}

/// One `where` entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldTest {
    /// The scalar field equals the variable's value (binding it if unbound).
    Var { slot: u8, var: u8 },
    /// The set field contains the variable's value (binding it to each member if unbound).
    Member { slot: Slot, var: u8 },
    /// The scalar field is one of these values.
    OneOf { slot: u8, values: Vec<Value> },
}

/// Precomputed facts about one position of the plan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Position {
    /// Clauses that may come next; bit `i` of a partial's `alive` mask is `cands[i]`.
    pub cands: Vec<u8>,
    /// The stage this position completes, if it ends one.
    pub boundary: Option<usize>,
    /// A variable bound here that every candidate constrains: waiting partials are indexed by it.
    pub index_var: Option<u8>,
    /// Kinds of the candidates, as a bit set.
    pub clause_kinds: u32,
    /// Kinds of the candidates' `unless` tests, as a bit set.
    pub unless_kinds: u32,
    /// Whether a candidate has a time window.
    pub windowed: bool,
    /// Whether the candidates' stage is `once`: a partial is used up by its first extension.
    pub once: bool,
}

/// What one clause asks of a fact, in field names: what a director reads to make the event
/// happen (see [`Pattern::stage_clauses`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseShape {
    /// The clause (its beat name is [`Pattern::beat`]).
    pub clause: usize,
    /// Event kind.
    pub kind: FactKind,
    /// Scalar fields equal to a variable: `(field, variable index into Pattern::vars)`.
    pub vars: Vec<(&'static str, usize)>,
    /// Variables required among the fact's `parties` (or another set field).
    pub members: Vec<usize>,
    /// Scalar fields restricted to listed values: `(field, values)`.
    pub values: Vec<(&'static str, Vec<Value>)>,
    /// Whether `when` conditions also apply.
    pub conditional: bool,
}

impl ClauseShape {
    /// The variable a scalar field must equal.
    pub fn var(&self, field: &str) -> Option<usize> {
        self.vars.iter().find(|(f, _)| *f == field).map(|(_, v)| *v)
    }

    /// The values a scalar field may take (`None`: unconstrained).
    pub fn values(&self, field: &str) -> Option<&[Value]> {
        self.values.iter().find(|(f, _)| *f == field).map(|(_, v)| &v[..])
    }
}

impl Pattern {
    /// The clauses that may reach stage `s` next: each clause of an `any` stage, or the first
    /// clause of an ordered one.
    pub fn stage_clauses(&self, s: usize) -> Vec<ClauseShape> {
        let Some(stage) = self.stages.get(s) else { return Vec::new() };
        let clauses = if stage.any { stage.clauses.clone() } else { stage.clauses.start..stage.clauses.start + 1 };
        clauses
            .map(|c| {
                let test = &self.clauses[c].test;
                let field =
                    |slot: u8| test.kind.fields().iter().find(|f| f.slot == Slot::Scalar(slot)).map_or("", |f| f.name);
                let mut shape = ClauseShape {
                    clause: c,
                    kind: test.kind,
                    vars: Vec::new(),
                    members: Vec::new(),
                    values: Vec::new(),
                    conditional: !test.when.is_empty(),
                };
                for t in &test.fields {
                    match t {
                        FieldTest::Var { slot, var } => shape.vars.push((field(*slot), usize::from(*var))),
                        FieldTest::Member { var, .. } => shape.members.push(usize::from(*var)),
                        FieldTest::OneOf { slot, values } => shape.values.push((field(*slot), values.clone())),
                    }
                }
                shape
            })
            .collect()
    }

    /// Number of clauses (positions run from 0 to this).
    pub fn n_clauses(&self) -> usize {
        self.clauses.len()
    }

    /// Stage of clause `c`.
    pub fn stage_of(&self, c: usize) -> usize {
        self.clauses[c].stage
    }

    /// Name of clause `c` (its beat).
    pub fn beat(&self, c: usize) -> &str {
        let s = &self.stages[self.clauses[c].stage];
        &s.beats[c - s.clauses.start]
    }

    /// Index of the last required stage: reaching it completes the arc.
    pub fn last_required(&self) -> usize {
        self.stages.iter().rposition(|s| !s.optional).unwrap_or(0)
    }

    /// Whether reaching the end of stage `s` is reported: every stage after the first, and the
    /// first too when it alone completes the arc.
    pub(crate) fn reports(&self, s: usize) -> bool {
        s >= 1 || self.last_required() == 0
    }

    /// Whether clause `c` starts a step after the previous stage (the first clause of an ordered
    /// stage, or any alternative of an `any` stage): its stage window counts from the previous stage.
    pub(crate) fn opens_stage(&self, c: usize) -> bool {
        let s = &self.stages[self.clauses[c].stage];
        s.any || s.clauses.start == c
    }

    /// Deadline (last tick allowed) of clause `c` for a partial whose last fact was at `last_tick`
    /// and whose previous stage ended at `stage_tick`; `None` without a window.
    pub(crate) fn deadline(&self, c: usize, last_tick: u64, stage_tick: u64) -> Option<u64> {
        let clause = &self.clauses[c];
        let anchor = if self.opens_stage(c) { last_tick } else { stage_tick };
        let own = clause.within.map(|w| last_tick.saturating_add(w));
        let stage = self.stages[clause.stage].within.map(|w| anchor.saturating_add(w));
        match (own, stage) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Test {
    /// Calls `emit` once for each way fact `f` satisfies this test, given bindings `b`: with `b`
    /// extended by the variables the test binds. Distinct variables never take the same value.
    pub(crate) fn bind(&self, f: &Fact, b: &Bindings, s: &dyn StateView, emit: &mut dyn FnMut(&Bindings)) {
        if f.kind != self.kind {
            return;
        }
        let mut b = *b;
        for t in &self.fields {
            match t {
                FieldTest::Var { slot, var } => {
                    let Some(p) = f.scalar(*slot).and_then(Value::party) else { return };
                    if !assign(&mut b, *var, p) {
                        return;
                    }
                }
                FieldTest::OneOf { slot, values } => {
                    if !f.scalar(*slot).is_some_and(|v| values.contains(&v)) {
                        return;
                    }
                }
                FieldTest::Member { .. } => {}
            }
        }
        self.members(0, f, &mut b, s, emit);
    }

    /// Whether fact `f` satisfies this test without binding anything new (`unless` tests).
    pub(crate) fn holds(&self, f: &Fact, b: &Bindings, s: &dyn StateView) -> bool {
        let mut hit = false;
        self.bind(f, b, s, &mut |_| hit = true);
        hit
    }

    /// Set memberships from field test `from` on, then the conditions.
    fn members(&self, from: usize, f: &Fact, b: &mut Bindings, s: &dyn StateView, emit: &mut dyn FnMut(&Bindings)) {
        let next = self.fields[from..].iter().position(|t| matches!(t, FieldTest::Member { .. }));
        let Some(i) = next.map(|i| from + i) else {
            if self.when.iter().all(|w| w.eval(f, b, s)) {
                emit(b);
            }
            return;
        };
        let FieldTest::Member { slot, var } = self.fields[i] else { unreachable!("found a member test") };
        for m in f.members_of(slot) {
            let saved = *b;
            if m.party().is_some_and(|p| assign(b, var, p)) {
                self.members(i + 1, f, b, s, emit);
            }
            *b = saved;
        }
    }

    /// Variables this test binds or checks, as a bit set.
    pub(crate) fn vars(&self) -> u32 {
        self.fields
            .iter()
            .map(|t| match t {
                FieldTest::Var { var, .. } | FieldTest::Member { var, .. } => 1 << var,
                FieldTest::OneOf { .. } => 0,
            })
            .fold(0, |a, b| a | b)
    }

    /// The values variable `var` can take if fact `f` satisfies this test: `Some(values)` when the
    /// test constrains it (possibly empty), `None` when any value could do.
    pub(crate) fn probe(&self, f: &Fact, var: u8, out: &mut Vec<Party>) -> bool {
        out.clear();
        for t in &self.fields {
            match *t {
                FieldTest::Var { slot, var: v } if v == var => {
                    out.extend(f.scalar(slot).and_then(Value::party));
                    return true;
                }
                FieldTest::Member { slot, var: v } if v == var => {
                    out.extend(f.members_of(slot).filter_map(Value::party));
                    out.sort_unstable();
                    out.dedup();
                    return true;
                }
                _ => {}
            }
        }
        false
    }
}

/// Binds `var` to `p`, or checks it; refuses a value another variable already has.
fn assign(b: &mut Bindings, var: u8, p: Party) -> bool {
    let var = usize::from(var);
    match b[var] {
        Some(x) => x == p,
        None if b.contains(&Some(p)) => false,
        None => {
            b[var] = Some(p);
            true
        }
    }
}

/// Variables certainly bound before and after each clause, as bit sets: a variable bound by only
/// some alternatives of an `any` stage is not certainly bound after it.
pub(crate) fn bound_sets(stages: &[Stage], clauses: &[Clause]) -> (Vec<u32>, Vec<u32>) {
    let mut before = vec![0; clauses.len()];
    let mut after = vec![0; clauses.len()];
    let mut stage_start = 0u32;
    for stage in stages {
        let mut running = stage_start;
        let mut common = u32::MAX;
        for c in stage.clauses.clone() {
            let base = if stage.any { stage_start } else { running };
            before[c] = base;
            after[c] = base | clauses[c].test.vars();
            running = after[c];
            common &= after[c];
        }
        stage_start = match (stage.clauses.is_empty(), stage.any) {
            (true, _) => stage_start,
            (false, true) => common,
            (false, false) => running,
        };
    }
    (before, after)
}

/// The position plan of a pattern (see the module docs).
pub(crate) fn plan(stages: &[Stage], clauses: &[Clause]) -> Vec<Position> {
    let (_, after) = bound_sets(stages, clauses);
    let opening = |s: usize| -> Vec<u8> {
        match stages.get(s) {
            Some(st) if st.any => st.clauses.clone().map(|c| c as u8).collect(),
            Some(st) if !st.clauses.is_empty() => vec![st.clauses.start as u8],
            _ => Vec::new(),
        }
    };
    let mut out = Vec::with_capacity(clauses.len() + 1);
    out.push(position(opening(0), None, 0, stages, clauses));
    for (c, clause) in clauses.iter().enumerate() {
        let st = &stages[clause.stage];
        let ends = st.any || c + 1 == st.clauses.end;
        let cands = if ends { opening(clause.stage + 1) } else { vec![c as u8 + 1] };
        out.push(position(cands, ends.then_some(clause.stage), after[c], stages, clauses));
    }
    out
}

fn position(cands: Vec<u8>, boundary: Option<usize>, bound: u32, stages: &[Stage], clauses: &[Clause]) -> Position {
    let of = |c: &u8| &clauses[usize::from(*c)];
    let clause_kinds = cands.iter().map(|c| of(c).test.kind.bit()).fold(0, |a, b| a | b);
    let unless_kinds = cands.iter().flat_map(|c| of(c).unless.iter().map(|u| u.kind.bit())).fold(0, |a, b| a | b);
    let windowed = cands.iter().any(|c| of(c).within.is_some() || stages[of(c).stage].within.is_some());
    let once = cands.first().is_some_and(|c| stages[of(c).stage].once);
    let index_var = (0..VARS_MAX as u8).find(|&v| {
        bound & (1 << v) != 0 && !cands.is_empty() && cands.iter().all(|c| of(c).test.vars() & (1 << v) != 0)
    });
    Position { cands, boundary, index_var, clause_kinds, unless_kinds, windowed, once }
}
