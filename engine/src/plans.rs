//! Plans: short sequences of steps toward a goal ("approach an ally, then confront the rival").
//!
//! A character holds at most one plan, for one of its goals; it lives in [`Goals::plan`] so it
//! travels in snapshots and the world hash with the goals. The goal manager forms, checks and
//! re-plans it every [`crate::goals::GOALS_EVERY`] ticks ([`review`]); the Resolve stage advances it
//! when the character's own interaction matches the current step ([`record`]); autonomy gives the
//! current step's actions toward the step's target a strong bonus ([`PLAN_BONUS`]) — a utility
//! bonus, not an override, so needs and strong feelings can still win. Every change is an event.
//!
//! Recipes (pure functions of the character's own row, its group and public facts):
//! - revenge: help or ally with a friend who dislikes the rival, then threaten or insult the rival;
//! - win affection: chat, compliment, confide, then flirt or confess, skipping steps rapport has
//!   already passed;
//! - expose: gossip about the culprit to two listeners who still think well of it, then confront it;
//! - lead: help a group member who respects one little, ally with the strongest member, then mediate
//!   a member's feud (or compliment another member).

use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, Intent};
use crate::goals::{Goal, GoalKind, GoalView, Goals};
use crate::graph::{NONE, SocialGraph};
use crate::ids::CharacterId;

/// Most steps in a plan.
pub const PLAN_STEPS_MAX: usize = 4;
/// Ticks a step may stay current before the plan is re-planned.
pub const STEP_TIMEOUT: u64 = 40;
/// Failed attempts at a step (declined or rejected) before the plan is re-planned.
pub const STEP_FAILURES_MAX: u8 = 3;
/// Re-plans a plan may go through before it is given up.
pub const REPLANS_MAX: u8 = 2;
/// Multiplier on the current step's actions when autonomy attends to the step's target.
pub const PLAN_BONUS: f32 = 3.0;
/// Chance that a decision attends to the current step's target.
pub const PLAN_FOCUS: f32 = 0.6;
/// Score a step's action gets before the bonus when its own considerations give it less (so a
/// confrontation can be planned against someone not yet openly hated).
pub const PLAN_FLOOR: f32 = 0.1;
/// Affinity toward an ally below which (either way) the ally counts as turned hostile.
pub const ALLY_HOSTILE: f32 = -0.1;

/// One step: any of `actions` toward `target` (about `subject`, for gossip) counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Bit `a as u16` set for each action that does this step.
    pub actions: u16,
    /// Whom the step is done to.
    pub target: CharacterId,
    /// Whom the step is about (gossip's subject), if anyone.
    pub subject: Option<CharacterId>,
}

impl Step {
    fn new(actions: &[Action], target: CharacterId, subject: Option<CharacterId>) -> Self {
        Self { actions: actions.iter().fold(0, |m, a| m | 1 << *a as u16), target, subject }
    }

    /// Whether `a` does this step.
    pub fn allows(&self, a: Action) -> bool {
        self.actions & (1 << a as u16) != 0
    }

    /// The step's actions, in index order.
    pub fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        Action::ALL.into_iter().filter(|a| self.allows(*a))
    }

    /// The first of the step's actions (how an event names the step).
    pub fn main_action(&self) -> Action {
        self.actions().next().unwrap_or_default()
    }
}

/// A plan toward one goal: steps done in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The goal's kind.
    pub goal: GoalKind,
    /// The goal's target.
    pub goal_target: Option<CharacterId>,
    /// The steps, at most [`PLAN_STEPS_MAX`].
    pub steps: Vec<Step>,
    /// Index of the current step.
    pub current: u8,
    /// Tick the plan was formed (first formed, kept across re-plans).
    pub started: u64,
    /// Tick the current step became current.
    pub step_since: u64,
    /// Failed attempts at the current step.
    pub failures: u8,
    /// Re-plans so far.
    pub replans: u8,
}

impl Plan {
    /// The current step.
    pub fn step(&self) -> Option<&Step> {
        self.steps.get(self.current as usize)
    }

    /// Whether this plan serves `goal`.
    pub fn serves(&self, goal: &Goal) -> bool {
        self.goal == goal.kind && self.goal_target == goal.target
    }
}

/// What happened to a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanChange {
    /// A plan was made.
    Formed,
    /// A step was done (the event names it).
    StepDone,
    /// The world changed (an ally turned hostile, a target left, a step failed or timed out): new steps.
    Replanned,
    /// The last step was done, or the goal was reached.
    Completed,
    /// Given up: the goal went, or no new plan could be made.
    Failed,
}

/// A plan change as the event reports it: what happened, for which goal, at which step (action and
/// target of that step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanNote {
    /// What happened.
    pub change: PlanChange,
    /// The goal served.
    pub goal: GoalKind,
    /// Index of the step concerned.
    pub step: u8,
    /// The step's action (the one done, for a finished step).
    pub action: Action,
    /// The step's target.
    pub target: Option<CharacterId>,
}

fn note(change: PlanChange, plan: &Plan, step: u8, action: Option<Action>) -> PlanNote {
    let s = plan.steps.get(step as usize);
    PlanNote {
        change,
        goal: plan.goal,
        step,
        action: action.or(s.map(Step::main_action)).unwrap_or_default(),
        target: s.map(|s| s.target),
    }
}

/// Edge index of `me -> who` when `who` is still reachable.
fn edge_to(g: &SocialGraph, me: u32, who: CharacterId) -> Option<usize> {
    g.slot_of(who).and_then(|t| g.edge(me, t))
}

/// Makes a plan for a goal, or `None` when the goal has no recipe or nobody fits (pure).
pub fn form(goal: &Goal, v: &GoalView, now: u64) -> Option<Plan> {
    let g = v.graph;
    let me = v.slot;
    let row = g.row(me);
    let partner = |e: usize| g.slot_id[g.edges[e].partner as usize];
    let steps = match goal.kind {
        GoalKind::Revenge => {
            let rival = goal.target?;
            let r = g.slot_of(rival)?;
            edge_to(g, me, rival)?;
            // The friend most likely to back me: how much I like them, plus how much they dislike the rival.
            let backing = |e: usize| {
                let their = g.edge(g.edges[e].partner, r).map_or(0.0, |x| g.bonds()[x].affinity);
                g.appeal[e].affinity - their
            };
            let ally = row
                .clone()
                .filter(|&e| g.edges[e].partner != r && g.appeal[e].affinity > 0.3 && g.appeal[e].back_affinity > 0.0)
                .max_by(|&x, &y| backing(x).total_cmp(&backing(y)).then(y.cmp(&x)))?;
            vec![
                Step::new(&[Action::Help, Action::Ally], partner(ally), None),
                Step::new(&[Action::Insult, Action::Threaten, Action::Betray], rival, None),
            ]
        }
        GoalKind::WinAffection => {
            let t = goal.target?;
            let b = g.bonds()[edge_to(g, me, t)?];
            let mut steps = Vec::new();
            if b.familiarity < 0.5 {
                steps.push(Step::new(&[Action::Chat], t, None));
            }
            if b.affinity < 0.4 {
                steps.push(Step::new(&[Action::Compliment], t, None));
            }
            if b.trust < 0.4 {
                steps.push(Step::new(&[Action::Confide], t, None));
            }
            steps.push(Step::new(&[Action::Flirt, Action::Confess], t, None));
            steps
        }
        GoalKind::Expose => {
            let culprit = goal.target?;
            let c = g.slot_of(culprit)?;
            // Listeners: the warmest partners who do not already think ill of the culprit.
            let opinion = |e: usize| g.edge(g.edges[e].partner, c).map_or(0.0, |x| g.bonds()[x].affinity);
            let mut listeners: Vec<usize> = row
                .clone()
                .filter(|&e| g.edges[e].partner != c && g.appeal[e].affinity > 0.0 && opinion(e) > -0.2)
                .collect();
            listeners.sort_by(|&x, &y| g.appeal[y].warmth.total_cmp(&g.appeal[x].warmth).then(x.cmp(&y)));
            let mut steps: Vec<Step> =
                listeners.iter().take(2).map(|&e| Step::new(&[Action::Gossip], partner(e), Some(culprit))).collect();
            if steps.is_empty() {
                return None;
            }
            if edge_to(g, me, culprit).is_some() {
                steps.push(Step::new(&[Action::Threaten, Action::Insult], culprit, None));
            }
            steps
        }
        GoalKind::Lead => {
            let group = v.group?;
            let me_id = g.slot_id[me as usize];
            let members: Vec<usize> = row
                .clone()
                .filter(|&e| {
                    let p = partner(e);
                    p != me_id && group.members.binary_search(&p).is_ok() && g.appeal[e].affinity > 0.0
                })
                .collect();
            // Leading needs followers: at least two members to work on.
            if members.len() < 2 {
                return None;
            }
            let respect = |e: usize| g.bonds()[g.reverse[e] as usize].respect;
            let status = |e: usize| v.status_of.get(g.edges[e].partner as usize).copied().unwrap_or(0.0);
            let win_over = *members.iter().min_by(|&&x, &&y| respect(x).total_cmp(&respect(y)).then(x.cmp(&y)))?;
            let strongest = *members
                .iter()
                .filter(|&&e| e != win_over)
                .max_by(|&&x, &&y| status(x).total_cmp(&status(y)).then(y.cmp(&x)))?;
            let feud = members.iter().copied().find(|&e| {
                let enemy = v.enemy_of.get(g.edges[e].partner as usize).copied().unwrap_or(NONE);
                enemy != NONE && enemy != me && g.edge(me, enemy).is_some()
            });
            let third = match feud {
                Some(e) => Step::new(&[Action::Mediate], partner(e), None),
                None => {
                    let other = members.iter().copied().find(|&e| e != win_over && e != strongest).unwrap_or(win_over);
                    Step::new(&[Action::Compliment, Action::Help], partner(other), None)
                }
            };
            vec![
                Step::new(&[Action::Help, Action::Compliment], partner(win_over), None),
                Step::new(&[Action::Ally, Action::Help], partner(strongest), None),
                third,
            ]
        }
        GoalKind::Protect | GoalKind::GainStatus => return None,
    };
    // One step is no plan: the goal's own bias already favours it.
    if steps.len() < 2 {
        return None;
    }
    let mut steps = steps;
    steps.truncate(PLAN_STEPS_MAX);
    Some(Plan {
        goal: goal.kind,
        goal_target: goal.target,
        steps,
        current: 0,
        started: now,
        step_since: now,
        failures: 0,
        replans: 0,
    })
}

/// Why the current step can no longer be done as planned, if it cannot (pure).
fn broken(plan: &Plan, v: &GoalView, now: u64) -> bool {
    let g = v.graph;
    let Some(step) = plan.step() else { return true };
    let Some(e) = edge_to(g, v.slot, step.target) else { return true };
    if now.saturating_sub(plan.step_since) > STEP_TIMEOUT || plan.failures >= STEP_FAILURES_MAX {
        return true;
    }
    let friendly = !step.actions().any(Action::is_hostile);
    // A friend the plan leans on who turned hostile (either way) breaks it.
    if friendly && Some(step.target) != plan.goal_target {
        let a = &g.appeal[e];
        if a.affinity < ALLY_HOSTILE || a.back_affinity < ALLY_HOSTILE {
            return true;
        }
    }
    // A member the lead plan courts who left the group.
    if plan.goal == GoalKind::Lead && v.group.is_none_or(|grp| grp.members.binary_search(&step.target).is_err()) {
        return true;
    }
    false
}

/// Reviews a character's plan after its goals were reviewed: ends it when its goal went (completed
/// when the goal was reached), re-plans it when its step broke, forms one for the top goal that has a
/// recipe when there is none. `achieved` are the goals reached at this review. Returns the changes.
pub fn review(goals: &mut Goals, v: &GoalView, achieved: &[Goal], now: u64) -> Vec<PlanNote> {
    let mut out = Vec::new();
    if let Some(plan) = &goals.plan {
        let step = plan.current;
        if achieved.iter().any(|g| plan.serves(g)) {
            out.push(note(PlanChange::Completed, plan, step, None));
            goals.plan = None;
        } else if let Some(goal) = goals.list.iter().find(|g| plan.serves(g)) {
            if broken(plan, v, now) {
                let replans = plan.replans + 1;
                match form(goal, v, now).filter(|_| replans <= REPLANS_MAX) {
                    Some(mut fresh) => {
                        fresh.started = plan.started;
                        fresh.replans = replans;
                        out.push(note(PlanChange::Replanned, &fresh, 0, None));
                        goals.plan = Some(fresh);
                    }
                    None => {
                        out.push(note(PlanChange::Failed, plan, step, None));
                        goals.plan = None;
                    }
                }
            }
        } else {
            out.push(note(PlanChange::Failed, plan, step, None));
            goals.plan = None;
        }
    }
    if goals.plan.is_none()
        && let Some(plan) = goals.list.iter().find_map(|g| form(g, v, now))
    {
        out.push(note(PlanChange::Formed, &plan, 0, None));
        goals.plan = Some(plan);
    }
    out
}

/// Whether an intent does the step (action, target and, for gossip, subject).
pub fn does(step: &Step, intent: &Intent, g: &SocialGraph) -> bool {
    step.allows(intent.action)
        && intent.target != NONE
        && g.slot_id.get(intent.target as usize) == Some(&step.target)
        && step.subject.is_none_or(|s| intent.subject != NONE && g.slot_id.get(intent.subject as usize) == Some(&s))
}

/// Records how the character's attempt at its current step went: a success moves to the next step
/// (completing the plan after the last), a failure counts toward a re-plan. Returns the change.
pub fn record(slot: &mut Option<Plan>, action: Action, succeeded: bool, now: u64) -> Option<PlanNote> {
    let plan = slot.as_mut()?;
    if !succeeded {
        plan.failures = plan.failures.saturating_add(1);
        return None;
    }
    let done = plan.current;
    let n = note(PlanChange::StepDone, plan, done, Some(action));
    plan.current += 1;
    plan.step_since = now;
    plan.failures = 0;
    if plan.step().is_none() {
        let finished = note(PlanChange::Completed, plan, done, Some(action));
        *slot = None;
        return Some(finished);
    }
    Some(n)
}

/// Digest of a plan for the world hash.
pub fn digest(plan: &Option<Plan>) -> u64 {
    use crate::rng::mix64;
    let Some(p) = plan else { return 0x51_7cc1_b727_220a };
    let t = |c: Option<CharacterId>| c.map_or(u64::MAX, |c| c.0 as u64);
    let head = (p.goal as u64) << 56 ^ t(p.goal_target) << 8 ^ (p.current as u64) << 48;
    let mut h = mix64(head ^ p.started.rotate_left(20) ^ p.step_since.rotate_left(40));
    h = mix64(h ^ (p.failures as u64) << 32 ^ (p.replans as u64) << 40);
    for s in &p.steps {
        h = mix64(h ^ s.actions as u64 ^ (s.target.0 as u64) << 16 ^ t(s.subject) << 48);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(steps: usize) -> Plan {
        let s = Step::new(&[Action::Help, Action::Ally], CharacterId(2), None);
        Plan {
            goal: GoalKind::Revenge,
            goal_target: Some(CharacterId(3)),
            steps: vec![s; steps],
            current: 0,
            started: 0,
            step_since: 0,
            failures: 0,
            replans: 0,
        }
    }

    #[test]
    fn a_step_allows_exactly_its_actions() {
        let s = Step::new(&[Action::Help, Action::Ally], CharacterId(2), None);
        let got: Vec<Action> = s.actions().collect();
        assert_eq!(got, vec![Action::Help, Action::Ally]);
        assert_eq!(s.main_action(), Action::Help);
        assert!(!s.allows(Action::Insult));
    }

    #[test]
    fn successes_advance_and_complete_failures_count() {
        let mut p = Some(plan(2));
        assert_eq!(record(&mut p, Action::Ally, false, 5), None);
        assert_eq!(p.as_ref().map(|p| p.failures), Some(1));
        let n = record(&mut p, Action::Ally, true, 6).expect("a step is done");
        assert_eq!((n.change, n.step, n.action), (PlanChange::StepDone, 0, Action::Ally));
        assert_eq!(p.as_ref().map(|p| (p.current, p.failures, p.step_since)), Some((1, 0, 6)));
        let n = record(&mut p, Action::Help, true, 7).expect("the plan is done");
        assert_eq!((n.change, n.step), (PlanChange::Completed, 1));
        assert!(p.is_none());
    }

    #[test]
    fn event_field_names_follow_the_enums() {
        use crate::plot::fact::{GOAL_KINDS, PLAN_CHANGES};
        use PlanChange as C;
        for (i, c) in [C::Formed, C::StepDone, C::Replanned, C::Completed, C::Failed].into_iter().enumerate() {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", PLAN_CHANGES[i]));
        }
        use GoalKind as G;
        let kinds = [G::WinAffection, G::Revenge, G::Protect, G::GainStatus, G::Lead, G::Expose];
        for (i, k) in kinds.into_iter().enumerate() {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", GOAL_KINDS[i]));
        }
    }

    #[test]
    fn the_digest_sees_progress() {
        let (a, mut b) = (plan(2), plan(2));
        b.current = 1;
        assert_ne!(digest(&Some(a.clone())), digest(&Some(b)));
        assert_ne!(digest(&Some(a)), digest(&None));
    }
}
