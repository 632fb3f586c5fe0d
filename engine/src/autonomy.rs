//! Autonomy: every character scores candidate actions and picks one with its own random stream.
//!
//! Utility AI as in The Sims and Dave Mark's Infinite Axis Utility System: an action's score is the
//! product of considerations (needs, personality, mood, bond with the target, energy), each passed
//! through a simple response curve; the character picks among its top `k` actions by weighted random
//! (weights = score squared), so behaviour is characterful but not robotic.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bonds::Bond;
use crate::command::{AutonomyLevel, Control};
use crate::drama::Drama;
use crate::emotion::Emotions;
use crate::exec::Parallelism;
use crate::goals::{self, Goal, GoalKind, Goals};
use crate::graph::{NONE, SocialGraph};
use crate::ids::{CharacterId, Slot};
use crate::learning::Preferences;
use crate::mood::{Mood, Pad};
use crate::needs::{Needs, SocialEnergy};
use crate::params::Params;
use crate::personality::Personality;
use crate::plans::{self, Step};
use crate::rng::{self, Purpose};
use crate::scenario::Genre;
use crate::social::Publicity;
use crate::trust::EdgeHistory;
use crate::world::{TickClock, WorldInfo};

/// What a character can do in a tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Action {
    /// Small talk: satisfies the social need, builds familiarity.
    Chat,
    /// Practical help: raises the target's affinity and trust, costs energy.
    Help,
    /// Praise: pleases the target, raises respect.
    Compliment,
    /// An insult: hurts the target, lowers its affinity and trust toward the insulter.
    Insult,
    /// Sharing something personal: builds trust, and the listener now knows a secret.
    Confide,
    /// Keeping away from a disliked or feared character (solo).
    Avoid,
    /// Recovering energy (solo).
    #[default]
    Rest,
    /// Passing on an opinion of a third party (the intent's subject).
    Gossip,
    /// Apologising to someone one has harmed: repairs trust slowly.
    Apologize,
    /// Revealing a confided secret or turning on an ally: a betrayal.
    Betray,
    /// Proposing an alliance to a close friend.
    Ally,
    /// Helping a friend make peace with their enemy (the intent's subject).
    Mediate,
    /// An open threat: fear in the target, escalation of a feud.
    Threaten,
    /// Consoling a distressed friend: soothes and supports healing.
    Comfort,
    /// Playful romantic interest.
    Flirt,
    /// Declaring love.
    Confess,
}

/// Number of actions.
pub const N_ACTIONS: usize = 16;

impl Action {
    /// Every action, in index order.
    pub const ALL: [Action; N_ACTIONS] = [
        Self::Chat,
        Self::Help,
        Self::Compliment,
        Self::Insult,
        Self::Confide,
        Self::Avoid,
        Self::Rest,
        Self::Gossip,
        Self::Apologize,
        Self::Betray,
        Self::Ally,
        Self::Mediate,
        Self::Threaten,
        Self::Comfort,
        Self::Flirt,
        Self::Confess,
    ];

    /// Whether the action engages the target (needs its capacity) rather than being done alone.
    pub const fn is_interaction(self) -> bool {
        !matches!(self, Self::Avoid | Self::Rest)
    }

    /// Whether the action harms its target (escalates feuds, can be a betrayal).
    pub const fn is_hostile(self) -> bool {
        matches!(self, Self::Insult | Self::Threaten | Self::Betray)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Help => "help",
            Self::Compliment => "compliment",
            Self::Insult => "insult",
            Self::Confide => "confide",
            Self::Avoid => "avoid",
            Self::Rest => "rest",
            Self::Gossip => "gossip",
            Self::Apologize => "apologize",
            Self::Betray => "betray",
            Self::Ally => "ally",
            Self::Mediate => "mediate",
            Self::Threaten => "threaten",
            Self::Comfort => "comfort",
            Self::Flirt => "flirt",
            Self::Confess => "confess",
        }
    }
}

/// What a character decided to do this tick.
///
/// Written by `choose_actions` (Decide); read by `resolve_interactions` (Resolve).
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub struct Intent {
    /// The chosen action.
    pub action: Action,
    /// Slot of the target, or [`NONE`] for solo actions without one.
    pub target: u32,
    /// Edge index of `self -> target` in the graph index, or [`NONE`]; valid for this tick only.
    pub edge: u32,
    /// Slot of a third party (gossip subject, mediation's other side), or [`NONE`].
    pub subject: u32,
    /// The opinion passed on by gossip, in [-1, 1].
    pub value: f32,
}

impl Default for Intent {
    fn default() -> Self {
        Self { action: Action::Rest, target: NONE, edge: NONE, subject: NONE, value: 0.0 }
    }
}

/// A character's own state as autonomy sees it.
#[derive(Clone, Copy, Debug)]
pub struct SelfView {
    /// Personality.
    pub pers: Personality,
    /// Current mood.
    pub mood: Pad,
    /// Needs.
    pub needs: Needs,
    /// Social energy in [0, 1].
    pub energy: f32,
    /// Sum of negative emotion intensities.
    pub negative_load: f32,
}

/// Warmth toward a partner in (0, 1.5]: who a character seeks out for friendly actions.
pub fn warmth(b: &Bond) -> f32 {
    (0.15 + 0.5 * b.affinity + 0.25 * b.familiarity + 0.2 * b.trust + 0.1 * b.attraction).clamp(0.01, 1.5)
}

/// How much personality compatibility adds to warmth: similar people seek each other out.
pub const COMPAT_WARMTH: f32 = 0.15;

/// Hostility toward a partner in [0, 1.5]: who a character insults or avoids.
pub fn hostility(b: &Bond) -> f32 {
    ((-b.affinity).max(0.0) + 0.5 * (-b.trust).max(0.0)).min(1.5)
}

/// Romantic pull toward a partner in [0, 1]: who a character flirts with or confesses to.
pub fn allure(b: &Bond) -> f32 {
    (b.attraction.max(0.0) * (0.5 + 0.5 * b.affinity.max(0.0))).min(1.0)
}

/// The partners a character considers this tick and what it knows of them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Candidates {
    /// Bond toward the friend drawn for friendly actions.
    pub warm: Option<Bond>,
    /// That friend's history (alliance, secrets).
    pub warm_hist: EdgeHistory,
    /// How distressed that friend looked last tick, in [0, 1].
    pub warm_distress: f32,
    /// Whether that friend has an enemy this character also knows (mediation possible).
    pub warm_feud: bool,
    /// Bond toward the most hostile partner.
    pub cold: Option<Bond>,
    /// Whether this character knows a secret of that partner.
    pub cold_secret: bool,
    /// Bond toward the most alluring partner.
    pub allure: Option<Bond>,
    /// Whether this character already declared its love to that partner.
    pub declared: bool,
    /// Largest guilt toward a partner.
    pub guilt: f32,
    /// Strength of the opinion this character could gossip, in [0, 1].
    pub gossip: f32,
    /// How hurt this character is by a recent harm from the `cold` partner, in [0, 1] (0: none).
    pub provoked: f32,
    /// How much a recent kindness from the `warm` partner pleased this character, in [0, 1].
    pub helped: f32,
}

/// Scores every action for a character given its candidates. Pure; unit-tested.
pub fn score_actions(me: &SelfView, c: &Candidates) -> [f32; N_ACTIONS] {
    use Action as A;
    let p = &me.pers;
    let lonely = 0.3 + 0.7 * (1.0 - me.needs.social);
    let tired = 1.0 - me.energy;
    let kind = 0.5 + 0.5 * p.agreeableness;
    let mut s = [0.0f32; N_ACTIONS];
    if let Some(w) = &c.warm {
        let closeness = 0.3 + 0.7 * warmth(w).min(1.0);
        s[A::Chat as usize] = lonely * (0.6 + 0.4 * p.extraversion) * (0.5 + 0.5 * me.energy) * closeness;
        s[A::Help as usize] = 0.8
            * (0.55 + 0.45 * p.agreeableness)
            * (0.5 + 0.3 * p.conscientiousness)
            * me.energy
            * (0.2 + 0.8 * w.affinity.max(0.0));
        s[A::Compliment as usize] = 0.6 * kind * (0.5 + 0.5 * me.mood.p) * closeness * (0.4 + 0.6 * me.energy);
        let told_before = if c.warm_hist.confided { 0.25 } else { 1.0 };
        s[A::Confide as usize] = 0.7
            * told_before
            * (0.2 + 0.8 * w.trust.max(0.0))
            * (0.3 + 0.3 * p.neuroticism + 0.4 * me.negative_load.min(1.0))
            * w.familiarity;
        s[A::Gossip as usize] =
            c.gossip * lonely * (0.6 + 0.3 * p.extraversion - 0.2 * p.conscientiousness) * closeness;
        s[A::Comfort as usize] = c.warm_distress * kind * (0.3 + 0.7 * w.affinity.max(0.0)) * me.energy.max(0.2);
        if w.affinity > 0.5 && w.trust > 0.4 && !c.warm_hist.allied {
            s[A::Ally as usize] = 0.5 * (0.5 + 0.5 * (1.0 - me.needs.safety) + 0.5 * (1.0 - me.needs.status)) * w.trust;
        }
        if c.warm_feud {
            s[A::Mediate as usize] = 0.6 * kind * (0.5 + 0.5 * p.conscientiousness) * w.affinity.max(0.0);
        }
    }
    if let Some(cold) = &c.cold {
        let h = hostility(cold);
        let anger = (0.5 - 0.5 * me.mood.p + 0.3 * me.mood.a + 0.2 * me.mood.d).clamp(0.0, 1.0);
        let nasty = 0.5 - 0.5 * p.agreeableness;
        s[A::Insult as usize] = h * nasty * (0.3 + 0.7 * anger) * me.energy.max(0.3);
        s[A::Avoid as usize] = h * (0.4 + 0.6 * (1.0 - me.needs.safety)) * (0.5 + 0.5 * p.neuroticism);
        s[A::Threaten as usize] = h * nasty * (0.5 + 0.5 * me.mood.d).max(0.0) * anger * 0.8;
        if c.cold_secret {
            s[A::Betray as usize] = h * nasty * (0.6 - 0.4 * p.conscientiousness) * anger;
        }
    }
    // Opportunism: a careless, disagreeable confidant may sell a friend's secret for standing.
    if c.warm_hist.knows_secret && c.warm.is_some() {
        let nasty = 0.5 - 0.5 * p.agreeableness;
        let opportunist = nasty * (0.6 - 0.4 * p.conscientiousness) * (0.3 + 0.7 * (1.0 - me.needs.status)) * 0.6;
        s[A::Betray as usize] = s[A::Betray as usize].max(opportunist);
    }
    if let Some(a) = &c.allure {
        let courage = 0.5 + 0.3 * p.extraversion - 0.2 * p.neuroticism;
        s[A::Flirt as usize] =
            allure(a) * (0.5 + 0.3 * p.extraversion + 0.2 * p.openness) * (0.6 + 0.4 * me.mood.p) * me.energy;
        if a.attraction > 0.6 && a.affinity > 0.5 && !c.declared {
            s[A::Confess as usize] = allure(a) * courage * 0.9;
        }
    }
    // Reactive: a fresh harm is answered in kind by the disagreeable and bold, avoided by the
    // anxious and the agreeable; a fresh kindness is returned (reciprocity).
    if c.provoked > 0.0 && c.cold.is_some() {
        let nasty = 0.5 - 0.5 * p.agreeableness;
        let bold = (0.5 + 0.3 * me.mood.d + 0.2 * p.extraversion).clamp(0.0, 1.0);
        let timid = (0.5 + 0.5 * p.neuroticism).clamp(0.0, 1.0);
        let hurt = c.provoked;
        s[A::Insult as usize] = s[A::Insult as usize].max(0.9 * hurt * (0.1 + nasty) * (0.5 + 0.5 * bold));
        s[A::Threaten as usize] = s[A::Threaten as usize].max(0.6 * hurt * nasty * bold);
        s[A::Avoid as usize] = s[A::Avoid as usize].max(0.8 * hurt * (0.3 + 0.7 * timid) * (1.2 - nasty));
    }
    if c.helped > 0.0 && c.warm.is_some() {
        s[A::Help as usize] = s[A::Help as usize].max(c.helped * kind * me.energy.max(0.3));
        s[A::Compliment as usize] = s[A::Compliment as usize].max(0.6 * c.helped * kind);
    }
    s[A::Apologize as usize] = c.guilt * kind * (0.5 + 0.5 * p.conscientiousness);
    s[A::Rest as usize] = 0.05 + tired * (0.3 + 0.7 * (1.0 - me.needs.rest)) * (1.0 - 0.3 * p.extraversion);
    s.map(|x| x.max(0.0))
}

/// Genre weighting of actions (drama favours conflict and reconciliation, romance courtship,
/// mystery secrets and rumours, adventure loyalty and help).
pub fn genre_weights(genre: Genre) -> [f32; N_ACTIONS] {
    use Action as A;
    let mut w = [1.0f32; N_ACTIONS];
    let boost: &[(Action, f32)] = match genre {
        Genre::Drama => &[(A::Insult, 1.2), (A::Apologize, 1.3), (A::Mediate, 1.3), (A::Betray, 1.2)],
        Genre::Romance => &[(A::Flirt, 1.6), (A::Confess, 1.5), (A::Compliment, 1.2), (A::Threaten, 0.7)],
        Genre::Mystery => &[(A::Gossip, 1.5), (A::Confide, 1.3), (A::Betray, 1.4), (A::Chat, 0.9)],
        Genre::Adventure => &[(A::Help, 1.3), (A::Ally, 1.5), (A::Threaten, 1.2), (A::Comfort, 1.2)],
    };
    for &(a, f) in boost {
        w[a as usize] = f;
    }
    w
}

/// Largest `k` for [`pick`].
pub const TOP_K_MAX: usize = 7;

/// Picks among the `k` best scores by weighted random (weights = score squared); ties in rank go to
/// the lower action index. Returns the action index.
pub fn pick(scores: &[f32; N_ACTIONS], k: usize, r: f32) -> usize {
    // One pass keeping the k best in rank order; ties keep the lower index first. Most scores fail
    // the first comparison, so this is about one compare per action.
    let k = k.clamp(1, TOP_K_MAX);
    let mut top = [0usize; TOP_K_MAX];
    let mut val = [f32::NEG_INFINITY; TOP_K_MAX];
    let mut len = 0;
    for (i, &v) in scores.iter().enumerate() {
        if len == k && v <= val[k - 1] {
            continue;
        }
        let mut at = len.min(k - 1);
        while at > 0 && v > val[at - 1] {
            top[at] = top[at - 1];
            val[at] = val[at - 1];
            at -= 1;
        }
        top[at] = i;
        val[at] = v;
        len = (len + 1).min(k);
    }
    let top = &top[..len];
    let total: f32 = top.iter().map(|&i| scores[i] * scores[i]).sum();
    if total <= 0.0 {
        return Action::Rest as usize;
    }
    let mut x = r * total;
    for &i in top {
        x -= scores[i] * scores[i];
        if x < 0.0 {
            return i;
        }
    }
    top[top.len() - 1]
}

/// Base chance that a goal about someone steers a decision toward them (plus the goal's priority).
pub const GOAL_FOCUS: f32 = 0.3;

/// Ticks after which a harm or kindness no longer calls for an answer.
pub const REACT_WINDOW: u64 = 5;
/// Chance that a decision attends to a fresh harm, scaled by how bad it was (half to all of this).
pub const REACT_FOCUS: f32 = 0.8;
/// Chance that a decision attends to a fresh kindness, times how much it pleased.
pub const KINDNESS_FOCUS: f32 = 0.7;
/// Kindness weaker than this is taken in stride (everyday friendliness calls for no answer).
pub const KINDNESS_MIN: f32 = 0.4;

/// Someone to answer and how strongly, in [0, 1].
pub type Answer = Option<(CharacterId, f32)>;

/// The strongest recent harm and kindness a character received, with when (written by the Resolve
/// stage as they happen, kept in [`Goals::react`] so it travels in snapshots and the hash).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// Who harmed it (insult, threat, betrayal), how badly in [0, 1], and the tick.
    pub harm: Option<(CharacterId, f32, u64)>,
    /// Who was kind to it (help, compliment, comfort), how much in [0, 1], and the tick.
    pub kindness: Option<(CharacterId, f32, u64)>,
}

impl Reaction {
    /// Records something done to this character at `now`: hostile acts as harm, kind acts with a
    /// good outcome as kindness; a stronger or fresher one replaces the one held.
    pub fn receive(&mut self, from: CharacterId, action: Action, valence: f32, now: u64) {
        let keep = |held: Option<(CharacterId, f32, u64)>, strength: f32| {
            held.is_none_or(|(_, s, t)| t + REACT_WINDOW < now || strength >= s)
        };
        let strength = valence.abs().min(1.0);
        if action.is_hostile() && valence < 0.0 {
            if keep(self.harm, strength) {
                self.harm = Some((from, strength, now));
            }
        } else if matches!(action, Action::Help | Action::Compliment | Action::Comfort)
            && valence > 0.0
            && keep(self.kindness, strength)
        {
            self.kindness = Some((from, strength, now));
        }
    }

    /// The harm and kindness still calling for an answer at `now` (from the last [`REACT_WINDOW`] ticks).
    pub fn fresh(&self, now: u64) -> (Answer, Answer) {
        let f =
            |x: Option<(CharacterId, f32, u64)>| x.filter(|&(_, _, t)| t + REACT_WINDOW >= now).map(|(c, s, _)| (c, s));
        (f(self.harm), f(self.kindness))
    }
}

/// Digest of a [`Reaction`] for the world hash.
pub fn reaction_digest(r: &Reaction) -> u64 {
    let f = |x: Option<(CharacterId, f32, u64)>, salt: u64| {
        x.map_or(salt, |(c, s, t)| rng::mix64(salt ^ (c.0 as u64) << 32 ^ s.to_bits() as u64 ^ t.rotate_left(48)))
    };
    rng::mix64(f(r.harm, 0x1d8e_4e27_c47d_124f) ^ f(r.kindness, 0x5851_f42d_4c95_7f2d).rotate_left(1))
}

/// What a character wants beyond the moment: learned action weights, goals, its plan's current
/// step and what it is reacting to.
pub struct Aims<'a> {
    /// Learned multiplier per action.
    pub learned: &'a [f32; N_ACTIONS],
    /// Goals, highest priority first.
    pub goals: &'a [Goal],
    /// The current step of its plan, if it has one.
    pub step: Option<&'a Step>,
    /// A fresh harm to answer (who, how badly).
    pub harm: Answer,
    /// A fresh kindness to return (who, how much).
    pub kindness: Answer,
}

/// What a character sees of the world beyond its own row: last tick's public per-slot facts.
pub struct Outlook<'a> {
    /// The relationship index.
    pub graph: &'a SocialGraph,
    /// Public facts by slot.
    pub public: &'a Publicity,
    /// Action weights of the world's genre.
    pub genre: &'a [f32; N_ACTIONS],
    /// Among how many best actions to pick.
    pub top_k: usize,
}

/// Chooses one character's intent from its row of the graph and its hearsay beliefs (subject and
/// confidence-weighted opinion). `draw` yields uniform [0, 1) numbers from the character's stream.
pub fn decide(
    me: &SelfView,
    o: &Outlook,
    slot: u32,
    aims: &Aims,
    beliefs: impl Iterator<Item = (CharacterId, f32)>,
    mut draw: impl FnMut() -> f32,
) -> Intent {
    let g = o.graph;
    let row = g.row(slot);
    if row.is_empty() {
        return Intent::default();
    }
    let (bonds, hist, appeal) = (&g.bonds()[row.clone()], &g.history()[row.clone()], &g.appeal[row.clone()]);
    let (mut total, mut cold, mut cold_h, mut lure, mut lure_v, mut sorry, mut guilt, mut fav) =
        (0.0f32, 0usize, 0.0f32, 0usize, 0.0f32, 0usize, 0.0f32, 0usize);
    for (i, a) in appeal.iter().enumerate() {
        total += a.warmth;
        if a.hostility > cold_h {
            (cold, cold_h) = (i, a.hostility);
        }
        if a.allure > lure_v {
            (lure, lure_v) = (i, a.allure);
        }
        if a.guilt > guilt {
            (sorry, guilt) = (i, a.guilt);
        }
        if a.affinity > appeal[fav].affinity {
            fav = i;
        }
    }
    let mut x = draw() * total;
    let mut warm = bonds.len() - 1;
    for (i, a) in appeal.iter().enumerate() {
        x -= a.warmth;
        if x < 0.0 {
            warm = i;
            break;
        }
    }
    // A goal about someone in this row steers attention to them, as often as the goal weighs.
    for goal in aims.goals {
        let Some(i) = goal.target.and_then(|t| g.slot_of(t)).and_then(|t| g.edge(slot, t)).map(|e| e - row.start)
        else {
            continue;
        };
        if draw() >= (GOAL_FOCUS + goal.priority).min(0.95) {
            continue;
        }
        match goal.kind {
            GoalKind::WinAffection => {
                (warm, lure, lure_v) = (i, i, lure_v.max(appeal[i].allure));
            }
            GoalKind::Revenge => (cold, cold_h) = (i, cold_h.max(0.5)),
            GoalKind::Protect => warm = i,
            GoalKind::Lead | GoalKind::GainStatus => {}
            GoalKind::Expose => {
                if appeal[i].hostility > 0.0 {
                    (cold, cold_h) = (i, cold_h.max(appeal[i].hostility));
                }
            }
        }
    }
    // Reacting: a fresh harm draws attention to whoever did it, a fresh kindness to the giver.
    let in_row = |who: CharacterId| g.slot_of(who).and_then(|t| g.edge(slot, t)).map(|e| e - row.start);
    let (mut provoked, mut helped) = (0.0f32, 0.0f32);
    if let Some((who, hurt)) = aims.harm
        && let Some(i) = in_row(who)
        && draw() < REACT_FOCUS * (0.5 + 0.5 * hurt)
    {
        (cold, cold_h, provoked) = (i, cold_h.max(appeal[i].hostility).max(f32::MIN_POSITIVE), hurt);
    }
    if let Some((who, joy)) = aims.kindness
        && let Some(i) = in_row(who)
        && joy >= KINDNESS_MIN
        && draw() < KINDNESS_FOCUS * joy
    {
        (warm, helped) = (i, joy);
    }
    // A plan's current step draws attention to its target (and, for gossip, its subject).
    let mut planned: Option<(&Step, u32)> = None;
    if let Some(step) = aims.step
        && let Some(i) = in_row(step.target)
        && draw() < plans::PLAN_FOCUS
    {
        let about = step.subject.and_then(|s| g.slot_of(s)).unwrap_or(NONE);
        if step.actions().any(Action::is_hostile) {
            (cold, cold_h) = (i, cold_h.max(appeal[i].hostility).max(f32::MIN_POSITIVE));
        } else if step.allows(Action::Flirt) || step.allows(Action::Confess) {
            (lure, lure_v) = (i, lure_v.max(appeal[i].allure));
        } else {
            warm = i;
        }
        planned = Some((step, about));
    }
    let warm_slot = g.edges[row.start + warm].partner;
    let enemy = o.public.enemy.get(warm_slot as usize).copied().unwrap_or(NONE);
    let warm_feud = enemy != NONE && enemy != slot && g.edge(slot, enemy).is_some();
    // Gossip: the strongest opinion this character holds of someone other than the listener.
    let mut subject = (NONE, 0.0f32);
    let mut consider = |s: u32, opinion: f32| {
        if s != warm_slot && s != slot && s != NONE && opinion.abs() > subject.1.abs() {
            subject = (s, opinion);
        }
    };
    if cold_h > 0.0 {
        consider(g.edges[row.start + cold].partner, appeal[cold].affinity);
    }
    consider(g.edges[row.start + fav].partner, appeal[fav].affinity);
    for (who, opinion) in beliefs {
        consider(g.slot_of(who).unwrap_or(NONE), opinion);
    }
    // Exposing: the plan names the subject; the teller passes on at least a clear negative view.
    if let Some((_, about)) = planned
        && about != NONE
        && about != warm_slot
    {
        let own = g.edge(slot, about).map_or(0.0, |e| g.appeal[e].affinity);
        subject = (about, own.min(-0.5));
    }
    let c = Candidates {
        warm: Some(bonds[warm]),
        warm_hist: hist[warm],
        warm_distress: o.public.distress.get(warm_slot as usize).copied().unwrap_or(0.0),
        warm_feud,
        cold: (cold_h > 0.0).then_some(bonds[cold]),
        cold_secret: hist[cold].knows_secret,
        allure: (lure_v > 0.0).then_some(bonds[lure]),
        declared: hist[lure].declared,
        guilt,
        gossip: subject.1.abs().min(1.0),
        provoked,
        helped,
    };
    let mut scores = score_actions(me, &c);
    for ((s, w), l) in scores.iter_mut().zip(o.genre).zip(aims.learned) {
        *s *= w * l;
    }
    for goal in aims.goals {
        for (s, b) in scores.iter_mut().zip(goals::bias(goal)) {
            *s *= b;
        }
    }
    if let Some((step, _)) = planned {
        for a in step.actions() {
            let floor =
                if matches!(a, Action::Betray | Action::Confess | Action::Mediate) { 0.0 } else { plans::PLAN_FLOOR };
            scores[a as usize] = scores[a as usize].max(floor) * plans::PLAN_BONUS;
        }
    }
    let action = Action::ALL[pick(&scores, o.top_k, draw())];
    let (i, subject, value) = match action {
        Action::Rest => return Intent::default(),
        Action::Betray if !(cold_h > 0.0 && hist[cold].knows_secret) => (warm, NONE, 0.0),
        Action::Insult | Action::Avoid | Action::Threaten | Action::Betray => (cold, NONE, 0.0),
        Action::Flirt | Action::Confess => (lure, NONE, 0.0),
        Action::Apologize => (sorry, NONE, 0.0),
        Action::Gossip => (warm, subject.0, subject.1),
        Action::Mediate => (warm, enemy, 0.0),
        _ => (warm, NONE, 0.0),
    };
    let edge = row.start + i;
    Intent { action, target: g.edges[edge].partner, edge: edge as u32, subject, value }
}

/// The intent a command asks for: the action toward the target's slot and edge, or rest when the
/// target is no longer reachable.
fn commanded_intent(g: &SocialGraph, slot: u32, action: Action, target: Option<CharacterId>) -> Intent {
    let Some(t) = target else { return Intent { action, ..Intent::default() } };
    match g.slot_of(t).and_then(|ts| g.edge(slot, ts)) {
        Some(e) => Intent { action, target: g.edges[e].partner, edge: e as u32, ..Intent::default() },
        None => Intent::default(),
    }
}

/// Query data autonomy reads (and the intent it writes) for each character.
type DecideData = (
    &'static CharacterId,
    &'static Slot,
    &'static Personality,
    &'static Mood,
    &'static Needs,
    &'static SocialEnergy,
    &'static Emotions,
    &'static Preferences,
    &'static Goals,
    &'static mut Control,
    &'static mut Intent,
);

/// Query data autonomy reads for each character.
type DecideItem<'a> = (
    &'a CharacterId,
    &'a Slot,
    &'a Personality,
    &'a Mood,
    &'a Needs,
    &'a SocialEnergy,
    &'a Emotions,
    &'a Preferences,
    &'a Goals,
    Mut<'a, Control>,
    Mut<'a, Intent>,
);

/// Decide stage: every character chooses an action and a target.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn choose_actions(
    clock: Res<TickClock>,
    info: Res<WorldInfo>,
    params: Res<Params>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    public: Res<Publicity>,
    drama: Res<Drama>,
    mut q: Query<DecideData>,
) {
    let (seed, tick) = (info.seed, clock.tick);
    let mut genre = genre_weights(info.genre);
    if params.drama_peak >= 0.0 {
        for (g, d) in genre.iter_mut().zip(crate::drama::weights(drama.nudge)) {
            *g *= d;
        }
    }
    let o = Outlook { graph: &graph, public: &public, genre: &genre, top_k: params.autonomy_top_k as usize };
    let g = &*graph;
    let f = |(id, slot, pers, mood, needs, energy, emo, prefs, goals, mut control, mut intent): DecideItem| {
        let commanded = if control.queued.is_some() { control.queued.take() } else { None };
        let commanded = commanded.map(|(action, target)| commanded_intent(g, slot.0, action, target));
        if control.level == AutonomyLevel::Off {
            *intent = commanded.unwrap_or_default();
            return;
        }
        let me =
            SelfView { pers: *pers, mood: mood.0, needs: *needs, energy: energy.0, negative_load: emo.negative_load() };
        let mut r = rng::stream(seed, tick, id.0 as u64, Purpose::Decide);
        let step = goals.plan.as_ref().and_then(|p| p.step());
        let (harm, kindness) = goals.react.fresh(tick);
        let aims = Aims { learned: &prefs.weight, goals: &goals.list, step, harm, kindness };
        let decided = decide(&me, &o, slot.0, &aims, std::iter::empty(), || rng::unit_f32(&mut r));
        *intent = if control.level == AutonomyLevel::Suggest {
            let target = (decided.target != NONE).then(|| g.slot_id[decided.target as usize]);
            let suggestion = Some((decided.action, target));
            if control.suggestion != suggestion {
                control.suggestion = suggestion;
            }
            commanded.unwrap_or_default()
        } else {
            commanded.unwrap_or(decided)
        };
    };
    if par.parallel(q.iter().len()) {
        crate::exec::par_each(q.iter_mut(), f);
    } else {
        q.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(pers: Personality) -> SelfView {
        SelfView { pers, mood: Pad::default(), needs: Needs::default(), energy: 0.8, negative_load: 0.0 }
    }

    #[test]
    fn agreeable_characters_prefer_kindness_and_disagreeable_ones_insults() {
        let enemy = Bond { affinity: -0.8, trust: -0.5, ..Default::default() };
        let friend = Bond { affinity: 0.6, trust: 0.5, familiarity: 0.6, ..Default::default() };
        let c = Candidates { warm: Some(friend), cold: Some(enemy), ..Default::default() };
        let kind = score_actions(&me(Personality { agreeableness: 0.9, ..Default::default() }), &c);
        let nasty = score_actions(&me(Personality { agreeableness: -0.9, ..Default::default() }), &c);
        assert!(kind[Action::Help as usize] > nasty[Action::Help as usize]);
        assert!(nasty[Action::Insult as usize] > kind[Action::Insult as usize]);
    }

    #[test]
    fn exhausted_characters_rest() {
        let mut tired = me(Personality::default());
        tired.energy = 0.05;
        tired.needs.rest = 0.1;
        let s = score_actions(&tired, &Candidates { warm: Some(Bond::default()), ..Default::default() });
        assert_eq!(pick(&s, 1, 0.5), Action::Rest as usize);
    }

    proptest::proptest! {
        #[test]
        fn pick_chooses_exactly_among_the_k_best(scores in proptest::array::uniform16(0.0f32..1.0), k in 1usize..=7) {
            let mut order: Vec<usize> = (0..N_ACTIONS).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            let best: std::collections::BTreeSet<usize> = order[..k].iter().copied().collect();
            let seen: std::collections::BTreeSet<usize> = (0..2000).map(|i| pick(&scores, k, i as f32 / 2000.0)).collect();
            proptest::prop_assert!(seen.is_subset(&best), "{seen:?} not within {best:?}");
        }
    }

    #[test]
    fn pick_only_chooses_among_the_top_k() {
        let mut s = [0.0; N_ACTIONS];
        s[..7].copy_from_slice(&[0.9, 0.1, 0.8, 0.0, 0.0, 0.0, 0.05]);
        for i in 0..100 {
            let a = pick(&s, 2, i as f32 / 100.0);
            assert!(a == 0 || a == 2);
        }
    }
}
