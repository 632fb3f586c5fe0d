//! Interaction resolution: proposals are paired deterministically within capacity, outcomes are
//! appraised, bonds move and both parties feel something.
//!
//! Pairing: every character proposes at most one interaction (its intent). A target accepts
//! incoming proposals in priority order (a per-proposer key from `(seed, tick, id)`) up to its
//! capacity, counting one unit for its own proposal, so nobody takes part in more than
//! `capacity_per_tick` interactions. Each target decides independently: this is parallel and its
//! result does not depend on thread count.
//!
//! Outcomes (valence, emotions, dialogue) are computed in parallel from tick-start state; bond
//! updates are then applied in proposer-slot order, because two interactions may touch one bond.

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use crate::autonomy::{Action, Intent};
use crate::bonds::{self, Bond};
use crate::dialogue::{Line, TEMPLATES_PER_ACTION, Tone};
use crate::emotion::{EmotionKind, Emotions, N_EMOTIONS};
use crate::events::{DeclineReason, EventKind, EventLog};
use crate::exec::Parallelism;
use crate::graph::{NONE, SocialGraph};
use crate::ids::{CharacterId, Slot};
use crate::mood::{Mood, Pad};
use crate::needs::{self, Needs, SocialEnergy};
use crate::params::Params;
use crate::personality::{Personality, compatibility};
use crate::rng::{self, Purpose};
use crate::world::{TickClock, WorldInfo};

/// Per-slot state resolution reads, gathered once per tick.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    /// Stable id.
    pub id: CharacterId,
    /// Personality.
    pub pers: Personality,
    /// Mood at the start of resolution.
    pub mood: Pad,
    /// This tick's intent.
    pub intent: Intent,
}

/// What one tick's interactions do to one character, accumulated before it is applied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Effect {
    /// Emotion impulses (combined with `1 - (1 - a)(1 - b)`).
    pub emotions: [f32; N_EMOTIONS],
    /// Change of the social need.
    pub social: f32,
    /// Change of the status need.
    pub status: f32,
    /// Change of the safety need.
    pub safety: f32,
    /// Change of the rest need.
    pub rest: f32,
    /// Change of social energy.
    pub energy: f32,
    /// Interactions taken part in this tick (initiated or received).
    pub n_interactions: u8,
}

impl Effect {
    fn feel(&mut self, kind: EmotionKind, amount: f32) {
        let e = &mut self.emotions[kind as usize];
        *e = 1.0 - (1.0 - *e) * (1.0 - amount.clamp(0.0, 1.0));
    }
}

/// Scratch buffers of the Resolve stage, kept between ticks to avoid reallocating.
#[derive(Resource, Default, Debug)]
pub struct ResolveScratch {
    /// Per-slot view.
    pub views: Vec<View>,
    /// Per-slot effects of this tick.
    pub effects: Vec<Effect>,
    /// Interactions resolved this tick (for metrics).
    pub n_interactions: u32,
}

/// The appraised result of one accepted interaction.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Initiator slot.
    pub initiator: u32,
    /// Target slot.
    pub target: u32,
    /// Action.
    pub action: Action,
    /// How the target took it, in [-1, 1].
    pub valence: f32,
    /// How it felt to the initiator, in [-1, 1].
    pub initiator_valence: f32,
    /// Compatibility of the two personalities in [-1, 1].
    pub compat: f32,
    /// What was said.
    pub line: Line,
}

/// Appraises one interaction (pure). `bond_ti` is the target's bond toward the initiator; `r` is a
/// uniform [0, 1) draw for noise and `variant` picks the dialogue template.
pub fn appraise(init: &View, target: &View, bond_ti: &Bond, r: f32, variant: u8) -> (f32, f32, f32, Line) {
    let compat = compatibility(&init.pers, &target.pers);
    let noise = (r - 0.5) * 0.3;
    let receptive = 0.5 * target.mood.p + 0.3 * bond_ti.affinity + 0.2 * compat;
    let action = init.intent.action;
    let valence = match action {
        Action::Insult => (-0.7 * (0.8 + 0.3 * target.pers.neuroticism.max(0.0)) + 0.5 * noise).min(-0.1),
        _ => {
            let base = match action {
                Action::Help => 0.6,
                Action::Compliment => 0.45,
                Action::Confide if bond_ti.trust < -0.2 => 0.1,
                Action::Confide => 0.35,
                _ => 0.25,
            };
            base * (0.75 + 0.35 * receptive) + noise
        }
    }
    .clamp(-1.0, 1.0);
    let initiator_valence = match action {
        Action::Insult => 0.3 - 0.6 * init.pers.agreeableness,
        _ => 0.6 * valence + 0.2 * compat,
    }
    .clamp(-1.0, 1.0);
    (valence, initiator_valence, compat, Line { template: variant % TEMPLATES_PER_ACTION, tone: Tone::of(init.mood) })
}

/// New bonds `(target -> initiator, initiator -> target)` after an outcome (pure).
pub fn update_bonds(o: &Outcome, mut ti: Bond, mut it: Bond, p: &Params) -> (Bond, Bond) {
    let v = o.valence;
    let weight = if v < 0.0 { 1.5 } else { 1.0 + 0.5 * o.compat };
    ti.affinity = bonds::nudge(ti.affinity, p.affinity_gain * v * weight);
    let trust_signal = match o.action {
        Action::Help | Action::Insult => v,
        Action::Confide => 0.8 * v,
        Action::Compliment => 0.3 * v,
        _ => 0.2 * v,
    };
    ti.trust = bonds::update_trust(ti.trust, trust_signal, p.trust_gain, p.trust_loss);
    ti.respect = match o.action {
        Action::Help | Action::Compliment => bonds::nudge(ti.respect, 0.05 * v),
        Action::Insult => bonds::nudge(ti.respect, -0.03),
        _ => ti.respect,
    };
    if matches!(o.action, Action::Chat | Action::Compliment | Action::Confide) && v > 0.0 {
        ti.attraction = bonds::nudge(ti.attraction, 0.04 * v * (0.5 + 0.5 * o.compat));
    }
    ti.familiarity = bonds::familiarize(ti.familiarity, p.familiarity_gain);

    // Harming someone lowers one's own liking of them (derogation of the victim, Festinger's
    // dissonance); otherwise the initiator warms by how well the exchange went.
    let it_signal = if o.action == Action::Insult { -0.3 } else { 0.6 * o.initiator_valence };
    it.affinity = bonds::nudge(it.affinity, p.affinity_gain * it_signal);
    if o.action == Action::Confide && v > 0.0 {
        it.trust = bonds::update_trust(it.trust, 0.5 * v, p.trust_gain, p.trust_loss);
    }
    it.familiarity = bonds::familiarize(it.familiarity, p.familiarity_gain);
    (ti, it)
}

/// Emotions and need changes an outcome causes in both parties (pure): OCC appraisal with
/// personality scaling (neuroticism amplifies negative, extraversion and agreeableness positive
/// social emotions; MECHANICS.md).
pub fn feel_outcome(o: &Outcome, init: &Personality, target: &Personality, ei: &mut Effect, et: &mut Effect) {
    let v = o.valence;
    let neg_t = 1.0 + 0.5 * target.neuroticism;
    let pos_t = 1.0 + 0.25 * target.extraversion + 0.25 * target.agreeableness;
    if v >= 0.0 {
        et.feel(EmotionKind::Joy, v * pos_t);
        let k = match o.action {
            Action::Help => EmotionKind::Gratitude,
            Action::Compliment => EmotionKind::Pride,
            _ => EmotionKind::Liking,
        };
        et.feel(k, 0.8 * v * pos_t);
        et.social += 0.15 * (0.5 + 0.5 * v);
        if o.action == Action::Compliment {
            et.status += 0.1 * v;
        }
    } else {
        let hurt = -v * neg_t;
        et.feel(EmotionKind::Distress, hurt);
        et.feel(EmotionKind::Anger, hurt * (0.6 - 0.3 * target.agreeableness));
        et.feel(EmotionKind::Reproach, 0.5 * hurt);
        if target.neuroticism > 0.3 {
            et.feel(EmotionKind::Shame, 0.3 * hurt);
        }
        et.safety -= 0.1 * -v;
        et.status -= 0.05 * -v;
    }
    let iv = o.initiator_valence;
    match o.action {
        Action::Insult if iv > 0.0 => ei.feel(EmotionKind::Gloating, iv),
        Action::Insult => ei.feel(EmotionKind::Remorse, -iv * (1.0 + 0.5 * init.neuroticism)),
        Action::Help if iv > 0.0 => {
            ei.feel(EmotionKind::Pride, 0.5 * iv);
            ei.status += 0.03;
        }
        _ if iv > 0.0 => ei.feel(EmotionKind::Joy, iv * (1.0 + 0.25 * init.extraversion)),
        _ => ei.feel(EmotionKind::Disappointment, -iv),
    }
    ei.social += 0.15 * (0.5 + 0.5 * iv.max(0.0));
}

/// Resolve stage, part 1: pair proposals, appraise outcomes, move bonds, log events.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn resolve_interactions(
    clock: Res<TickClock>,
    info: Res<WorldInfo>,
    params: Res<Params>,
    par: Res<Parallelism>,
    mut graph: ResMut<SocialGraph>,
    mut log: ResMut<EventLog>,
    mut scratch: ResMut<ResolveScratch>,
    q: Query<(&Slot, &CharacterId, &Personality, &Mood, &Intent)>,
) {
    let (seed, tick) = (info.seed, clock.tick);
    let n = graph.n_characters();
    let s = &mut *scratch;
    s.views.clear();
    s.views.resize(n, View::default());
    for (slot, id, pers, mood, intent) in &q {
        s.views[slot.0 as usize] = View { id: *id, pers: *pers, mood: mood.0, intent: *intent };
    }
    s.effects.clear();
    s.effects.resize(n, Effect::default());

    let accepted = pair_proposals(&s.views, seed, tick, params.capacity_per_tick, par.parallel(n));
    let views = &s.views;
    let g = &*graph;
    let appraise_one = |&p: &u32| {
        let (init, t) = (&views[p as usize], views[p as usize].intent.target);
        let target = &views[t as usize];
        let e_ti = g.edge(t, p).expect("every relationship has a reverse (world building adds them)");
        let mut r = rng::stream(seed, tick, init.id.0 as u64, Purpose::Resolve);
        let (valence, initiator_valence, compat, line) =
            appraise(init, target, &g.bonds()[e_ti], rng::unit_f32(&mut r), (rng::unit_f32(&mut r) * 255.0) as u8);
        Outcome { initiator: p, target: t, action: init.intent.action, valence, initiator_valence, compat, line }
    };
    let outcomes: Vec<Outcome> = if par.parallel(accepted.len()) {
        accepted.par_iter().map(appraise_one).collect()
    } else {
        accepted.iter().map(appraise_one).collect()
    };

    let mut is_accepted = vec![false; n];
    for &p in &accepted {
        is_accepted[p as usize] = true;
    }
    for (p, view) in s.views.iter().enumerate() {
        let intent = view.intent;
        if intent.action.is_interaction() && intent.target != NONE && !is_accepted[p] {
            let reason = DeclineReason::TargetBusy;
            let target = s.views[intent.target as usize].id;
            log.push(
                tick,
                EventKind::InteractionDeclined { initiator: view.id, target, action: intent.action, reason },
            );
            s.effects[p].feel(EmotionKind::Disappointment, 0.1);
        } else if intent.action == Action::Avoid && intent.target != NONE {
            log.push(tick, EventKind::Avoided { character: view.id, target: s.views[intent.target as usize].id });
            s.effects[p].safety += 0.05;
        } else if intent.action == Action::Rest {
            s.effects[p].energy += params.rest_energy_gain;
            s.effects[p].rest += 0.2;
        }
    }

    for o in &outcomes {
        apply_outcome(o, tick, &params, &mut graph, &mut log, s);
    }
    s.n_interactions = outcomes.len() as u32;
}

fn apply_outcome(
    o: &Outcome,
    tick: u64,
    params: &Params,
    graph: &mut SocialGraph,
    log: &mut EventLog,
    s: &mut ResolveScratch,
) {
    let (vi, vt) = (s.views[o.initiator as usize], s.views[o.target as usize]);
    let seq = log.push(
        tick,
        EventKind::InteractionResolved {
            initiator: vi.id,
            target: vt.id,
            action: o.action,
            valence: o.valence,
            initiator_valence: o.initiator_valence,
            line: o.line,
        },
    );
    let e_it = graph.edge(o.initiator, o.target).expect("initiators only target partners in their row");
    let e_ti = graph.edge(o.target, o.initiator).expect("every relationship has a reverse");
    let (old_ti, old_it) = (graph.bonds()[e_ti], graph.bonds()[e_it]);
    let (new_ti, new_it) = update_bonds(o, old_ti, old_it, params);
    for (e, old, new, src, dst) in [(e_ti, old_ti, new_ti, vt.id, vi.id), (e_it, old_it, new_it, vi.id, vt.id)] {
        graph.set_bond(e, new);
        if old.standing() != new.standing() {
            log.push(
                tick,
                EventKind::BondCrossed {
                    source: src,
                    target: dst,
                    from: old.standing(),
                    to: new.standing(),
                    cause: seq,
                },
            );
        }
    }
    let (mut ei, mut et) = (s.effects[o.initiator as usize], s.effects[o.target as usize]);
    feel_outcome(o, &vi.pers, &vt.pers, &mut ei, &mut et);
    ei.energy -= needs::interaction_cost(&vi.pers, params.interaction_energy_cost);
    et.energy -= needs::interaction_cost(&vt.pers, params.interaction_energy_cost);
    ei.n_interactions += 1;
    et.n_interactions += 1;
    s.effects[o.initiator as usize] = ei;
    s.effects[o.target as usize] = et;
}

/// Pairs proposals within capacity. Returns accepted proposer slots in ascending order.
///
/// Each target sorts its incoming proposals by a priority key derived from `(seed, tick, proposer
/// id)` and accepts as many as its capacity allows after counting its own proposal.
pub fn pair_proposals(views: &[View], seed: u64, tick: u64, capacity: u8, parallel: bool) -> Vec<u32> {
    let n = views.len();
    let proposes = |v: &View| v.intent.action.is_interaction() && v.intent.target != NONE;
    let mut start = vec![0u32; n + 1];
    for v in views.iter().filter(|v| proposes(v)) {
        start[v.intent.target as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut incoming = vec![(0u64, 0u32); start[n] as usize];
    for (p, v) in views.iter().enumerate().filter(|(_, v)| proposes(v)) {
        let t = v.intent.target as usize;
        let key = rng::stream_key(seed, tick, v.id.0 as u64, Purpose::Priority);
        incoming[fill[t] as usize] = (key, p as u32);
        fill[t] += 1;
    }
    let choose = |(t, list): (usize, &mut [(u64, u32)])| {
        let own = u8::from(proposes(&views[t]));
        let room = capacity.saturating_sub(own) as usize;
        list.sort_unstable();
        for item in list.iter_mut().skip(room) {
            item.1 = NONE;
        }
    };
    let mut chunks: Vec<(usize, &mut [(u64, u32)])> = Vec::with_capacity(n);
    let mut rest: &mut [(u64, u32)] = &mut incoming;
    for t in 0..n {
        let (head, tail) = rest.split_at_mut((start[t + 1] - start[t]) as usize);
        if !head.is_empty() {
            chunks.push((t, head));
        }
        rest = tail;
    }
    if parallel {
        chunks.into_par_iter().for_each(choose);
    } else {
        chunks.into_iter().for_each(choose);
    }
    let mut accepted: Vec<u32> = incoming.iter().map(|x| x.1).filter(|&p| p != NONE).collect();
    accepted.sort_unstable();
    accepted
}

/// Resolve stage, part 2: apply each character's accumulated effects to its emotions, needs, energy.
pub fn apply_effects(
    scratch: Res<ResolveScratch>,
    par: Res<Parallelism>,
    mut q: Query<(&Slot, &mut Emotions, &mut Needs, &mut SocialEnergy)>,
) {
    let effects = &scratch.effects;
    let f = |(slot, mut emo, mut needs, mut energy): (&Slot, Mut<Emotions>, Mut<Needs>, Mut<SocialEnergy>)| {
        let e = &effects[slot.0 as usize];
        for (k, &amount) in e.emotions.iter().enumerate() {
            if amount > 0.0 {
                emo.feel(EmotionKind::ALL[k], amount);
            }
        }
        needs.social = (needs.social + e.social).clamp(0.0, 1.0);
        needs.status = (needs.status + e.status).clamp(0.0, 1.0);
        needs.safety = (needs.safety + e.safety).clamp(0.0, 1.0);
        needs.rest = (needs.rest + e.rest - 0.05 * e.n_interactions as f32).clamp(0.0, 1.0);
        energy.0 = (energy.0 + e.energy).clamp(0.0, 1.0);
    };
    if par.parallel(effects.len()) {
        q.par_iter_mut().for_each(f);
    } else {
        q.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u32, action: Action, target: u32) -> View {
        View { id: CharacterId(id), intent: Intent { action, target }, ..Default::default() }
    }

    #[test]
    fn nobody_exceeds_capacity() {
        // Everyone proposes to slot 0; slot 0 proposes to slot 1.
        let mut views: Vec<View> = (0..50).map(|i| view(i, Action::Chat, 0)).collect();
        views[0] = view(0, Action::Chat, 1);
        for cap in 1..=4u8 {
            let acc = pair_proposals(&views, 9, 3, cap, false);
            let into_zero = acc.iter().filter(|&&p| views[p as usize].intent.target == 0).count();
            assert_eq!(into_zero, (cap - 1) as usize, "capacity {cap}");
            assert_eq!(acc, pair_proposals(&views, 9, 3, cap, true));
        }
    }

    #[test]
    fn an_insult_hurts_the_target_and_lowers_its_affinity() {
        let p = Params::default();
        let insulter = View { intent: Intent { action: Action::Insult, target: 1 }, ..Default::default() };
        let target = View { id: CharacterId(1), ..Default::default() };
        let (valence, iv, compat, line) = appraise(&insulter, &target, &Bond::default(), 0.5, 0);
        assert!(valence < 0.0);
        let o =
            Outcome { initiator: 0, target: 1, action: Action::Insult, valence, initiator_valence: iv, compat, line };
        let (ti, _) = update_bonds(&o, Bond::default(), Bond::default(), &p);
        assert!(ti.affinity < 0.0 && ti.trust < 0.0);
        let (mut ei, mut et) = (Effect::default(), Effect::default());
        feel_outcome(&o, &insulter.pers, &target.pers, &mut ei, &mut et);
        assert!(et.emotions[EmotionKind::Distress as usize] > 0.0);
        assert!(et.emotions[EmotionKind::Anger as usize] > 0.0);
    }
}
