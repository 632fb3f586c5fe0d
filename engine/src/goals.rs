//! Goals: a few long-term aims per character that bend its choices for many ticks.
//!
//! A goal manager adopts, achieves and abandons goals from the character's own relationships,
//! standing, group, memories and hearsay (every [`GOALS_EVERY`] ticks), then reviews the character's
//! plan ([`crate::plans`]); autonomy steers toward a goal's target and favours the actions that serve
//! it (see [`bias`]). Each change is an event. The manager runs per character in parallel and writes
//! only that character's [`Goals`].

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};
use crate::gossip::Beliefs;
use crate::graph::{NONE, SocialGraph};
use crate::ids::CharacterId;
use crate::memory::{Memory, MemoryKind};
use crate::needs::Needs;
use crate::personality::Personality;
use crate::plans::{self, Plan, PlanNote};
use crate::social::Group;

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
    /// Become the leader of one's group (the target is the leader to displace).
    Lead,
    /// Make others see a culprit (someone who harmed this character or a friend) for what it is.
    Expose,
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

/// A character's goals, at most [`GOALS_MAX`], highest priority first, and its plan.
///
/// Written by `manage_goals` (Decide, before choosing) and, for plan progress, by the Resolve stage;
/// read by autonomy.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Goals {
    /// The goals.
    pub list: Vec<Goal>,
    /// The plan toward one of them, if any.
    pub plan: Option<Plan>,
    /// Best status reached while pursuing [`GoalKind::Lead`], and the tick it was reached: a lead
    /// goal without progress for [`LEAD_PATIENCE`] ticks is abandoned.
    pub lead_best: (f32, u64),
    /// Tick before which a character that gave up leading does not want to lead again.
    pub lead_rest_until: u64,
    /// The fresh harm and kindness it wants to answer (short-term aims: get back at, repay).
    pub react: crate::autonomy::Reaction,
}

/// Ticks a lead goal may go without raising the character's status before it is abandoned.
pub const LEAD_PATIENCE: u64 = 400;
/// Status gain that counts as progress toward leading.
pub const LEAD_PROGRESS: f32 = 0.02;
/// Drive to lead (extraversion and dominance) above which a group member wants to lead.
pub const LEAD_DRIVE: f32 = 0.3;
/// Ticks an expose goal may stay unreached before it is abandoned.
pub const EXPOSE_PATIENCE: u64 = 600;
/// Share of a culprit's acquaintances who must dislike it for it to count as exposed.
pub const EXPOSED_SHARE: f32 = 0.5;
/// Affinity below which an acquaintance counts as thinking ill of a culprit.
pub const EXPOSED_AFFINITY: f32 = -0.05;
/// Affinity toward a culprit above which the exposer has reconciled with it.
pub const RECONCILED_AFFINITY: f32 = 0.2;

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
    /// Each slot's status (last ranking).
    pub status_of: &'a [f32],
    /// The character's alliance, if it is in one.
    pub group: Option<&'a Group>,
    /// Its memories.
    pub memory: &'a Memory,
    /// Its hearsay beliefs.
    pub beliefs: &'a Beliefs,
}

/// Drive to lead in [0, 1]: extraversion and resting dominance (Mehrabian's PAD from Big Five).
pub fn lead_drive(p: &Personality) -> f32 {
    (0.5 * p.extraversion.max(0.0) + 0.5 * p.baseline_mood().d.max(0.0)).min(1.0)
}

/// Share of a culprit's acquaintances (other than `exposer`) who think ill of it, and how many
/// acquaintances it has (pure, O(degree)).
pub fn exposure(g: &SocialGraph, culprit: u32, exposer: u32) -> (f32, usize) {
    let (mut bad, mut all) = (0usize, 0usize);
    for e in g.row(culprit) {
        if g.edges[e].partner == exposer {
            continue;
        }
        all += 1;
        bad += usize::from(g.appeal[e].back_affinity < EXPOSED_AFFINITY);
    }
    (bad as f32 / all.max(1) as f32, all)
}

/// The culprit this character most wants exposed and how strongly, from its betrayals (its own
/// edge histories), what it witnessed done to friends (negative [`MemoryKind::Witnessed`]
/// memories) and what it heard (confident negative hearsay).
fn culprit(v: &GoalView) -> Option<(CharacterId, f32)> {
    let g = v.graph;
    let mut best: Option<(CharacterId, f32)> = None;
    let mut offer = |who: CharacterId, weight: f32| {
        if best.is_none_or(|(b, w)| weight > w || (weight == w && who < b)) {
            best = Some((who, weight));
        }
    };
    for e in g.row(v.slot) {
        let h = &g.history()[e];
        if h.betrayals > 0 {
            offer(g.slot_id[g.edges[e].partner as usize], (0.5 + h.grudge).min(1.0));
        }
    }
    for m in v.memory.iter() {
        if m.kind == MemoryKind::Witnessed && m.valence < -0.3 {
            offer(m.other, m.intensity.max(-m.valence));
        }
    }
    for b in v.beliefs.iter() {
        if b.opinion < -0.5 {
            offer(b.subject, -b.opinion * b.confidence.min(1.0));
        }
    }
    let me = g.slot_id[v.slot as usize];
    best.filter(|(who, _)| *who != me)
}

/// Whether a goal is still wanted, reached, or to be dropped (pure). `lead_moved` is the tick the
/// character's status last rose while it wanted to lead.
fn judge(goal: &Goal, v: &GoalView, lead_moved: u64, now: u64) -> Option<GoalChange> {
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
        GoalKind::Lead => match v.group {
            None => Some(GoalChange::Abandoned),
            Some(grp) if grp.leader == g.slot_id[v.slot as usize] => Some(GoalChange::Achieved),
            Some(_) => {
                (now.saturating_sub(lead_moved.max(goal.since)) > LEAD_PATIENCE).then_some(GoalChange::Abandoned)
            }
        },
        GoalKind::Expose => {
            let Some(c) = goal.target.and_then(|t| g.slot_of(t)).filter(|&c| !g.row(c).is_empty()) else {
                return Some(GoalChange::Abandoned);
            };
            let (share, all) = exposure(g, c, v.slot);
            if all >= 2 && share >= EXPOSED_SHARE {
                Some(GoalChange::Achieved)
            } else if edge.is_some_and(|e| g.appeal[e].affinity > RECONCILED_AFFINITY)
                || now.saturating_sub(goal.since) > EXPOSE_PATIENCE
            {
                Some(GoalChange::Abandoned)
            } else {
                None
            }
        }
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
    let me = g.slot_id[v.slot as usize];
    if let Some(grp) = v.group.filter(|grp| grp.leader != me) {
        let drive = lead_drive(v.pers);
        if drive > LEAD_DRIVE {
            // A close race for the top (the leader barely ahead) makes leading more tempting.
            let leader_status = g.slot_of(grp.leader).and_then(|s| v.status_of.get(s as usize)).copied().unwrap_or(0.0);
            let close = if leader_status - v.status < 0.1 { 0.2 } else { 0.0 };
            let priority = (0.3 + drive + close).min(1.0);
            out.push(Goal { kind: GoalKind::Lead, target: Some(grp.leader), priority, since: now });
        }
    }
    if let Some((who, weight)) = culprit(v) {
        let p = v.pers;
        // Conscientious, agreeable characters expose rather than avenge.
        let value = weight * (0.5 + 0.25 * p.conscientiousness + 0.25 * p.agreeableness);
        let known = g.slot_of(who).is_some_and(|c| !g.row(c).is_empty());
        if value > 0.3 && known && exposure(g, g.slot_of(who).unwrap_or(NONE), v.slot).0 < EXPOSED_SHARE {
            out.push(Goal { kind: GoalKind::Expose, target: Some(who), priority: value.min(1.0), since: now });
        }
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
    if goals.list.iter().any(|g| g.kind == GoalKind::Lead) && v.status > goals.lead_best.0 + LEAD_PROGRESS {
        goals.lead_best = (v.status, now);
    }
    let lead_moved = goals.lead_best.1;
    goals.list.retain(|goal| match judge(goal, v, lead_moved, now) {
        Some(c) => {
            changes.push((c, *goal));
            false
        }
        None => true,
    });
    if changes.iter().any(|(c, g)| *c == GoalChange::Abandoned && g.kind == GoalKind::Lead) {
        goals.lead_rest_until = now + LEAD_PATIENCE;
    }
    for c in candidates(v, now) {
        if c.kind == GoalKind::Lead && now < goals.lead_rest_until {
            continue;
        }
        // One lead goal at a time, whoever leads now.
        let same = |g: &Goal| g.kind == c.kind && (g.target == c.target || c.kind == GoalKind::Lead);
        if goals.list.iter().any(same) {
            continue;
        }
        if c.kind == GoalKind::Lead {
            goals.lead_best = (v.status, now);
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
        GoalKind::Lead => &[A::Help, A::Compliment, A::Ally, A::Mediate],
        GoalKind::Expose => &[A::Gossip, A::Threaten, A::Insult, A::Ally],
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
    &'static Memory,
    &'static Beliefs,
    &'static mut Goals,
);

/// One item of [`GoalData`].
type GoalItem<'a> = (
    &'a CharacterId,
    &'a crate::ids::Slot,
    &'a Personality,
    &'a Needs,
    &'a crate::social::Status,
    &'a Memory,
    &'a Beliefs,
    Mut<'a, Goals>,
);

/// The event of a plan change.
pub fn plan_event(character: CharacterId, n: PlanNote) -> crate::events::EventKind {
    crate::events::EventKind::PlanChanged {
        character,
        change: n.change,
        goal: n.goal,
        step: n.step,
        action: n.action,
        target: n.target,
    }
}

/// Decide stage, first: every [`GOALS_EVERY`] ticks each character reviews its goals and then its
/// plan (in parallel, each writing only its own [`Goals`]); changes are events, logged in slot order.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn manage_goals(
    clock: Res<crate::world::TickClock>,
    params: Res<crate::params::Params>,
    par: Res<crate::exec::Parallelism>,
    graph: Res<SocialGraph>,
    public: Res<crate::social::Publicity>,
    groups: Res<crate::social::Groups>,
    mut log: ResMut<crate::events::EventLog>,
    mut q: Query<GoalData>,
) {
    let now = clock.tick;
    if !params.goals || !now.is_multiple_of(GOALS_EVERY) {
        return;
    }
    let found: std::sync::Mutex<Vec<(u32, crate::events::EventKind)>> = std::sync::Mutex::new(Vec::new());
    let f = |(id, slot, pers, needs, status, memory, beliefs, mut goals): GoalItem| {
        let group = public.group.get(slot.0 as usize).and_then(|&i| groups.groups.get(i as usize));
        let v = GoalView {
            graph: &graph,
            slot: slot.0,
            pers,
            needs,
            status: status.0,
            enemy_of: &public.enemy,
            status_of: &public.status,
            group,
            memory,
            beliefs,
        };
        let mut copy = goals.clone();
        let changes = review(&mut copy, &v, now);
        let achieved: Vec<Goal> = changes.iter().filter(|(c, _)| *c == GoalChange::Achieved).map(|(_, g)| *g).collect();
        let plan_changes = if params.plans { plans::review(&mut copy, &v, &achieved, now) } else { Vec::new() };
        if copy != *goals {
            *goals = copy;
        }
        if changes.is_empty() && plan_changes.is_empty() {
            return;
        }
        let mut out = found.lock().expect("no panics while holding the lock");
        for (change, g) in changes {
            let ev = crate::events::EventKind::GoalChanged { character: *id, change, kind: g.kind, target: g.target };
            out.push((slot.0, ev));
        }
        for n in plan_changes {
            out.push((slot.0, plan_event(*id, n)));
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
