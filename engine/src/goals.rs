//! Goals: a few long-term aims per character that bend its choices for many ticks.
//!
//! A goal manager adopts, achieves and abandons goals from the character's own relationships and
//! standing (every [`GOALS_EVERY`] ticks); autonomy steers toward a goal's target and favours the
//! actions that serve it (see [`bias`]). Each change is an event.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};
use crate::graph::{NONE, SocialGraph};
use crate::ids::CharacterId;
use crate::needs::Needs;
use crate::personality::Personality;

/// Most goals a character holds; a new goal replaces the lowest-priority one only if it outranks it.
pub const GOALS_MAX: usize = 3;
/// Ticks between goal reviews.
pub const GOALS_EVERY: u64 = 5;

/// What a goal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    /// Win the target's affection.
    WinAffection,
    /// Get even with someone who betrayed this character.
    Revenge,
    /// Protect a friend who has an enemy.
    Protect,
    /// Gain standing.
    GainStatus,
}

/// One goal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// What for.
    pub kind: GoalKind,
    /// Whom it is about, if anyone.
    pub target: Option<CharacterId>,
    /// How much it weighs on choices, in [0, 1].
    pub priority: f32,
    /// Tick adopted.
    pub since: u64,
}

/// A character's goals, at most [`GOALS_MAX`], highest priority first.
///
/// Written by `manage_goals` (Decide, before choosing); read by autonomy.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Goals {
    /// The goals.
    pub list: Vec<Goal>,
}

/// What became of a goal at a review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalChange {
    /// Newly adopted.
    Adopted,
    /// Reached.
    Achieved,
    /// Given up (no longer wanted or possible).
    Abandoned,
}

/// What the manager sees of a character.
pub struct GoalView<'a> {
    /// The relationship index.
    pub graph: &'a SocialGraph,
    /// The character's slot.
    pub slot: u32,
    /// Its personality.
    pub pers: &'a Personality,
    /// Its needs.
    pub needs: &'a Needs,
    /// Its status in [-1, 1].
    pub status: f32,
    /// Each slot's worst enemy ([`NONE`] when none).
    pub enemy_of: &'a [u32],
}

/// Whether a goal is still wanted, reached, or to be dropped (pure).
fn judge(goal: &Goal, v: &GoalView) -> Option<GoalChange> {
    let g = v.graph;
    let edge = goal.target.and_then(|t| g.slot_of(t)).and_then(|t| g.edge(v.slot, t));
    match goal.kind {
        GoalKind::WinAffection => {
            let e = edge?;
            let (a, b) = (&g.appeal[e], &g.bonds()[e]);
            if a.back_affinity > 0.5 && b.affinity > 0.5 && b.attraction > 0.6 {
                Some(GoalChange::Achieved)
            } else {
                (a.allure < 0.2).then_some(GoalChange::Abandoned)
            }
        }
        GoalKind::Revenge => (g.history()[edge?].grudge < 0.15).then_some(GoalChange::Abandoned),
        GoalKind::Protect => {
            let t = g.slot_of(goal.target?)?;
            (v.enemy_of.get(t as usize).copied().unwrap_or(NONE) == NONE).then_some(GoalChange::Achieved)
        }
        GoalKind::GainStatus => (v.status > 0.3).then_some(GoalChange::Achieved),
    }
}

/// Goals a character would adopt now, with priorities (pure).
fn candidates(v: &GoalView, now: u64) -> Vec<Goal> {
    let g = v.graph;
    let mut out = Vec::new();
    let best = |kind, e: usize, value: f32, min: f32, out: &mut Vec<Goal>| {
        if value > min {
            let target = Some(g.slot_id[g.edges[e].partner as usize]);
            out.push(Goal { kind, target, priority: value.min(1.0), since: now });
        }
    };
    let row = g.row(v.slot);
    if let Some(e) = row.clone().max_by(|&x, &y| g.appeal[x].allure.total_cmp(&g.appeal[y].allure).then(y.cmp(&x))) {
        best(GoalKind::WinAffection, e, g.appeal[e].allure * (1.0 + 0.3 * v.pers.extraversion), 0.45, &mut out);
    }
    if let Some(e) =
        row.clone().max_by(|&x, &y| g.history()[x].grudge.total_cmp(&g.history()[y].grudge).then(y.cmp(&x)))
    {
        best(GoalKind::Revenge, e, g.history()[e].grudge * (1.0 - 0.5 * v.pers.agreeableness), 0.4, &mut out);
    }
    let friend_in_need = row.clone().filter(|&e| {
        let t = g.edges[e].partner;
        g.appeal[e].affinity > 0.6 && v.enemy_of.get(t as usize).is_some_and(|&x| x != NONE && x != v.slot)
    });
    if let Some(e) =
        friend_in_need.max_by(|&x, &y| g.appeal[x].affinity.total_cmp(&g.appeal[y].affinity).then(y.cmp(&x)))
    {
        best(GoalKind::Protect, e, g.appeal[e].affinity * (0.6 + 0.4 * v.pers.agreeableness), 0.3, &mut out);
    }
    if v.needs.status < 0.3 && v.pers.extraversion > 0.0 && v.status < 0.3 {
        out.push(Goal {
            kind: GoalKind::GainStatus,
            target: None,
            priority: 0.5 + 0.3 * v.pers.extraversion,
            since: now,
        });
    }
    out
}

/// Reviews a character's goals: drops achieved and abandoned ones, adopts new ones within the
/// bound. Returns the changes, in a fixed order (pure, deterministic).
pub fn review(goals: &mut Goals, v: &GoalView, now: u64) -> Vec<(GoalChange, Goal)> {
    let mut changes = Vec::new();
    goals.list.retain(|goal| match judge(goal, v) {
        Some(c) => {
            changes.push((c, *goal));
            false
        }
        None => true,
    });
    for c in candidates(v, now) {
        if goals.list.iter().any(|g| g.kind == c.kind && g.target == c.target) {
            continue;
        }
        if goals.list.len() < GOALS_MAX {
            goals.list.push(c);
            changes.push((GoalChange::Adopted, c));
        } else if let Some(low) = goals.list.iter().position(|g| g.priority < c.priority) {
            let gone = goals.list[low];
            goals.list[low] = c;
            changes.push((GoalChange::Abandoned, gone));
            changes.push((GoalChange::Adopted, c));
        }
    }
    goals.list.sort_by(|a, b| b.priority.total_cmp(&a.priority).then(a.kind.cmp(&b.kind)));
    changes
}

/// How a goal multiplies action scores: the actions that serve it weigh `1 + priority` more.
pub fn bias(goal: &Goal) -> [f32; N_ACTIONS] {
    use Action as A;
    let mut w = [1.0f32; N_ACTIONS];
    let favoured: &[Action] = match goal.kind {
        GoalKind::WinAffection => &[A::Flirt, A::Compliment, A::Confess, A::Help, A::Chat],
        GoalKind::Revenge => &[A::Insult, A::Threaten, A::Betray, A::Gossip],
        GoalKind::Protect => &[A::Comfort, A::Mediate, A::Help, A::Ally],
        GoalKind::GainStatus => &[A::Compliment, A::Help, A::Ally, A::Gossip],
    };
    for a in favoured {
        w[*a as usize] = 1.0 + goal.priority;
    }
    w
}

/// Query data of [`manage_goals`].
type GoalData = (
    &'static CharacterId,
    &'static crate::ids::Slot,
    &'static Personality,
    &'static Needs,
    &'static crate::social::Status,
    &'static mut Goals,
);

/// Decide stage, first: every [`GOALS_EVERY`] ticks each character reviews its goals; changes are
/// events, logged in slot order.
pub fn manage_goals(
    clock: Res<crate::world::TickClock>,
    params: Res<crate::params::Params>,
    par: Res<crate::exec::Parallelism>,
    graph: Res<SocialGraph>,
    public: Res<crate::social::Publicity>,
    mut log: ResMut<crate::events::EventLog>,
    mut q: Query<GoalData>,
) {
    let now = clock.tick;
    if !params.goals || !now.is_multiple_of(GOALS_EVERY) {
        return;
    }
    let found: std::sync::Mutex<Vec<(u32, crate::events::EventKind)>> = std::sync::Mutex::new(Vec::new());
    let f = |(id, slot, pers, needs, status, mut goals): (
        &CharacterId,
        &crate::ids::Slot,
        &Personality,
        &Needs,
        &crate::social::Status,
        Mut<Goals>,
    )| {
        let v = GoalView { graph: &graph, slot: slot.0, pers, needs, status: status.0, enemy_of: &public.enemy };
        let mut copy = goals.clone();
        let changes = review(&mut copy, &v, now);
        if changes.is_empty() {
            return;
        }
        *goals = copy;
        let mut out = found.lock().expect("no panics while holding the lock");
        for (change, g) in changes {
            let ev = crate::events::EventKind::GoalChanged { character: *id, change, kind: g.kind, target: g.target };
            out.push((slot.0, ev));
        }
    };
    if par.parallel(graph.n_characters()) {
        crate::exec::par_each(q.iter_mut(), f);
    } else {
        q.iter_mut().for_each(f);
    }
    let mut found = found.into_inner().expect("no panics while holding the lock");
    found.sort_by_key(|(slot, _)| *slot);
    for (_, ev) in found {
        log.push(now, ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_favour_the_actions_that_serve_them() {
        let g = Goal { kind: GoalKind::Revenge, target: None, priority: 0.8, since: 0 };
        let w = bias(&g);
        assert!(w[Action::Insult as usize] > 1.5 && w[Action::Compliment as usize] == 1.0);
    }
}
