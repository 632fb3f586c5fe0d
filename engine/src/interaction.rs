//! Interaction resolution: proposals are paired deterministically within capacity, outcomes are
//! appraised, bonds and histories move, witnesses react, both parties feel and remember.
//!
//! Pairing: every character proposes at most one interaction (its intent). A target accepts
//! incoming proposals in priority order (a per-proposer key from `(seed, tick, id)`) up to its
//! capacity, counting one unit for its own proposal, so nobody takes part in more than
//! `capacity_per_tick` interactions. Each target decides independently: this is parallel and its
//! result does not depend on thread count.
//!
//! Outcomes (valence, emotions, dialogue) are computed in parallel from tick-start state; bond
//! updates, feuds and events are then applied in proposer-slot order, because two interactions may
//! touch one bond; per-character effects (emotions, needs, memories, beliefs, trauma) are applied
//! in parallel at the end, each character reading only its own slot's lists.

use std::sync::Mutex;

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use crate::autonomy::{Action, Intent};
use crate::bonds;
use crate::emotion::{EmotionKind, Emotions};
use crate::events::{DeclineReason, EventKind, EventLog, Party};
use crate::exec::Parallelism;
use crate::goals::Goals;
use crate::gossip::{self, Beliefs, Told};
use crate::graph::{NONE, SocialGraph};
use crate::groups::Resolution;
use crate::ids::{CharacterId, Slot};
use crate::learning::Preferences;
use crate::memory::{self, Memory, MemoryItem, MemoryKind, Trauma};
use crate::mood::{Mood, Pad};
use crate::needs::{self, Needs, SocialEnergy};
use crate::outcome::{self, Edges, Effect, Outcome, Side};
use crate::params::Params;
use crate::personality::Personality;
use crate::plans;
use crate::rng::{self, Purpose};
use crate::social::{Feuds, Publicity};
use crate::world::{TickClock, WorldInfo};

/// Outcomes with at least this |valence| are seen by witnesses and remembered.
pub const NOTABLE_VALENCE: f32 = 0.3;
/// Witnesses per notable outcome (the target's first qualifying partners in row order).
pub const WITNESSES_MAX: usize = 4;
/// Share of an outcome's intensity a witness remembers (vicarious, not suffered).
pub const WITNESS_INTENSITY: f32 = 0.5;
/// Affinity toward a partner above which its kindness counts as social support (healing).
pub const SUPPORT_AFFINITY: f32 = 0.5;
/// How much gossip moves a hearer's own bond toward the teller's view, per unit of credibility.
pub const GOSSIP_INFLUENCE: f32 = 0.3;

/// Per-slot state resolution reads, gathered once per tick.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    /// Stable id.
    pub id: CharacterId,
    /// Personality.
    pub pers: Personality,
    /// Mood at the start of resolution.
    pub mood: Pad,
    /// Visible distress (last tick).
    pub distress: f32,
    /// Status (last ranking).
    pub status: f32,
    /// This tick's intent.
    pub intent: Intent,
}

impl View {
    fn side(&self) -> Side {
        Side {
            pers: self.pers,
            pleasure: self.mood.p,
            arousal: self.mood.a,
            dominance: self.mood.d,
            distress: self.distress,
        }
    }
}

/// Something to apply to one character's memory or beliefs at the end of the stage.
#[derive(Clone, Copy, Debug)]
pub enum Note {
    /// A memory to store (and to test for trauma), with the `seq` of its event.
    Remember(MemoryItem, u64),
    /// Gossip heard about a character the hearer has no bond with.
    Hear(Told),
    /// Something done to this character that calls for an answer (harm or kindness).
    Received {
        /// Who did it.
        from: CharacterId,
        /// What.
        action: Action,
        /// How it felt to the receiver.
        valence: f32,
    },
}

/// How a character's own proposal went this tick (plans advance on it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tried {
    /// It proposed no interaction.
    #[default]
    Nothing,
    /// Declined for lack of capacity, or a proposal (ally, flirt, ...) refused.
    Failed,
    /// Resolved and, for proposals, accepted.
    Succeeded,
}

/// Scratch buffers of the Resolve stage, kept between ticks to avoid reallocating.
#[derive(Resource, Default, Debug)]
pub struct ResolveScratch {
    /// Per-slot view.
    pub views: Vec<View>,
    /// Per-slot effects of this tick.
    pub effects: Vec<Effect>,
    /// Notes by slot: `notes[note_start[s]..note_start[s + 1]]` belong to slot `s`.
    pub notes: Vec<(u32, Note)>,
    /// Offsets into `notes`, length `n + 1`.
    pub note_start: Vec<u32>,
    /// Interactions resolved this tick (for metrics).
    pub n_interactions: u32,
    /// Of which hostile (insult, threaten, betray), for the drama manager.
    pub n_hostile: u32,
    /// How each slot's own proposal went this tick.
    pub tried: Vec<Tried>,
}

/// Resolve stage, part 1: pair proposals, appraise outcomes, move bonds, log events.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn resolve_interactions(
    clock: Res<TickClock>,
    info: Res<WorldInfo>,
    params: Res<Params>,
    par: Res<Parallelism>,
    public: Res<Publicity>,
    mut graph: ResMut<SocialGraph>,
    mut log: ResMut<EventLog>,
    mut feuds: ResMut<Feuds>,
    mut scratch: ResMut<ResolveScratch>,
    forced: Res<crate::director::Forced>,
    q: Query<(&Slot, &CharacterId, &Personality, &Mood, &Intent)>,
) {
    let (seed, tick, genre) = (info.seed, clock.tick, info.genre);
    let n = graph.n_characters();
    let s = &mut *scratch;
    s.views.clear();
    s.views.resize(n, View::default());
    for (slot, id, pers, mood, intent) in &q {
        let i = slot.0 as usize;
        let (distress, status) = (public.distress.get(i).copied(), public.status.get(i).copied());
        s.views[i] = View {
            id: *id,
            pers: *pers,
            mood: mood.0,
            distress: distress.unwrap_or(0.0),
            status: status.unwrap_or(0.0),
            intent: *intent,
        };
    }
    s.effects.clear();
    s.effects.resize(n, Effect::default());
    s.notes.clear();
    s.tried.clear();
    s.tried.resize(n, Tried::Nothing);

    let accepted = pair_proposals(&s.views, seed, tick, params.capacity_per_tick, par.parallel(n));
    // Injected interactions (director `inject`) bypass the target's capacity.
    let accepted = crate::director::with_forced(accepted, &forced, &s.views);
    let views = &s.views;
    let g = &*graph;
    let appraise_one = |&p: &u32| {
        let (init, t) = (&views[p as usize], views[p as usize].intent.target);
        let e = edges_of(g, init.intent.edge as usize);
        let mut r = rng::stream(seed, tick, init.id.0 as u64, Purpose::Resolve);
        let (noise, variant) = (rng::unit_f32(&mut r), (rng::unit_f32(&mut r) * 255.0) as u8);
        let compat = g.compat(init.intent.edge as usize);
        let a =
            outcome::appraise(init.intent.action, &init.side(), &views[t as usize].side(), &e, compat, noise, variant);
        let (valence, initiator_valence, accepted) = (a.valence, a.initiator_valence, a.accepted);
        let line = crate::dialogue::Line { genre, ..a.line };
        Outcome {
            initiator: p,
            target: t,
            action: init.intent.action,
            valence,
            initiator_valence,
            compat,
            accepted,
            line,
        }
    };
    let outcomes: Vec<Outcome> = if par.parallel(accepted.len()) {
        accepted.par_iter().map(appraise_one).collect()
    } else {
        accepted.iter().map(appraise_one).collect()
    };

    solo_and_declined(&accepted, tick, &params, &mut log, s);
    let mut ctx = Apply { tick, seed, params: &params, graph: &mut graph, log: &mut log, feuds: &mut feuds, s };
    for o in &outcomes {
        ctx.apply(o);
    }
    index_notes(s, n);
    s.n_interactions = outcomes.len() as u32;
    s.n_hostile = outcomes.iter().filter(|o| o.action.is_hostile()).count() as u32;
}

fn edges_of(g: &SocialGraph, e_it: usize) -> Edges {
    // Every relationship has a reverse: world building adds the missing ones.
    let e_ti = g.reverse[e_it] as usize;
    Edges { ti: g.bonds()[e_ti], ti_hist: g.history()[e_ti], it: g.bonds()[e_it], it_hist: g.history()[e_it] }
}

fn solo_and_declined(accepted: &[u32], tick: u64, params: &Params, log: &mut EventLog, s: &mut ResolveScratch) {
    let mut is_accepted = vec![false; s.views.len()];
    for &p in accepted {
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
            s.tried[p] = Tried::Failed;
        } else if intent.action == Action::Avoid && intent.target != NONE {
            log.push(tick, EventKind::Avoided { character: view.id, target: s.views[intent.target as usize].id });
            s.effects[p].safety += 0.05;
        } else if intent.action == Action::Rest {
            s.effects[p].energy += params.rest_energy_gain;
            s.effects[p].rest += 0.2;
        }
    }
}

/// Groups the notes by slot with a counting sort (stable: each slot keeps apply order) and indexes
/// them.
fn index_notes(s: &mut ResolveScratch, n: usize) {
    s.note_start.clear();
    s.note_start.resize(n + 1, 0);
    for (slot, _) in &s.notes {
        s.note_start[*slot as usize + 1] += 1;
    }
    for i in 0..n {
        s.note_start[i + 1] += s.note_start[i];
    }
    let Some(&filler) = s.notes.first() else { return };
    let mut fill = s.note_start.clone();
    let mut sorted = vec![filler; s.notes.len()];
    for &(slot, note) in &s.notes {
        sorted[fill[slot as usize] as usize] = (slot, note);
        fill[slot as usize] += 1;
    }
    s.notes = sorted;
}

/// The sequential part of resolution: one outcome at a time, in proposer-slot order.
struct Apply<'a> {
    tick: u64,
    seed: u64,
    params: &'a Params,
    graph: &'a mut SocialGraph,
    log: &'a mut EventLog,
    feuds: &'a mut Feuds,
    s: &'a mut ResolveScratch,
}

impl Apply<'_> {
    fn apply(&mut self, o: &Outcome) {
        let tick = self.tick;
        let (vi, vt) = (self.s.views[o.initiator as usize], self.s.views[o.target as usize]);
        let (valence, initiator_valence, action, line) = (o.valence, o.initiator_valence, o.action, o.line);
        let (initiator, target) = (vi.id, vt.id);
        let about = (vi.intent.subject != NONE).then(|| self.graph.slot_id[vi.intent.subject as usize]);
        let seq = self.log.push(
            tick,
            EventKind::InteractionResolved { initiator, target, action, valence, initiator_valence, line, about },
        );
        let e_it = vi.intent.edge as usize;
        let e_ti = self.graph.reverse[e_it] as usize;
        let before = edges_of(self.graph, e_it);
        let (after, change) = outcome::update_edges(o, before, self.params, tick);
        self.write_edge(e_ti, before.ti, after.ti, after.ti_hist, (target, initiator), seq);
        self.write_edge(e_it, before.it, after.it, after.it_hist, (initiator, target), seq);
        if let Some(kind) = change.betrayal {
            let (trust_before, trust_after) = (before.ti.trust, after.ti.trust);
            let ev = EventKind::TrustBroken {
                victim: target,
                betrayer: initiator,
                kind,
                trust_before,
                trust_after,
                cause: seq,
            };
            self.log.push(tick, ev);
        }
        if change.forgiven {
            let ev =
                EventKind::TrustRepaired { victim: target, betrayer: initiator, trust: after.ti.trust, cause: seq };
            self.log.push(tick, ev);
        }
        self.feud(o, initiator, target, seq);
        match action {
            Action::Gossip => self.gossip(o, &vi, &vt, seq),
            Action::Mediate if o.accepted => self.mediate(&vi, o.target, &vt, seq),
            _ => {}
        }
        let (mut ei, mut et) = (self.s.effects[o.initiator as usize], self.s.effects[o.target as usize]);
        outcome::feel_outcome(o, &vi.pers, &vt.pers, &mut ei, &mut et);
        // Kindness from someone close is social support (comfort counts in full, in feel_outcome).
        if valence > 0.0 && before.ti.affinity > SUPPORT_AFFINITY && action != Action::Comfort {
            et.support = (et.support + 0.5 * valence).min(1.0);
        }
        ei.energy -= needs::interaction_cost(&vi.pers, self.params.interaction_energy_cost);
        et.energy -= needs::interaction_cost(&vt.pers, self.params.interaction_energy_cost);
        ei.n_interactions += 1;
        et.n_interactions += 1;
        ei.learned = Some((action, initiator_valence));
        self.s.effects[o.initiator as usize] = ei;
        self.s.effects[o.target as usize] = et;
        self.remember(o, &vi, &vt, change.betrayal.is_some(), seq);
        self.s.tried[o.initiator as usize] = if o.accepted { Tried::Succeeded } else { Tried::Failed };
        if action.is_hostile() || matches!(action, Action::Help | Action::Compliment | Action::Comfort) {
            self.s.notes.push((o.target, Note::Received { from: initiator, action, valence }));
        }
        if valence.abs() >= NOTABLE_VALENCE {
            self.witness(o, initiator, seq);
        }
    }

    fn write_edge(
        &mut self,
        e: usize,
        old: bonds::Bond,
        new: bonds::Bond,
        hist: crate::trust::EdgeHistory,
        (source, target): (CharacterId, CharacterId),
        cause: u64,
    ) {
        self.graph.set_edge(e, new, hist);
        if old.standing() != new.standing() {
            let (from, to) = (old.standing(), new.standing());
            self.log.push(self.tick, EventKind::BondCrossed { source, target, from, to, cause });
        }
    }

    fn feud(&mut self, o: &Outcome, initiator: CharacterId, target: CharacterId, seq: u64) {
        let (a, b) = (Party::Character(initiator), Party::Character(target));
        if o.action.is_hostile() {
            let severity = (-o.valence).clamp(0.0, 1.0);
            if let Some(level) = self.feuds.escalate(a, b, severity, self.tick) {
                let (a, b) = Feuds::key(a, b);
                self.log.push(self.tick, EventKind::ConflictEscalated { a, b, level, cause: seq });
            }
        } else if o.accepted && matches!(o.action, Action::Apologize) {
            self.resolve_feud(a, b, Resolution::Apology, 0.5 + 0.5 * o.valence.max(0.0), seq);
        }
    }

    fn resolve_feud(&mut self, a: Party, b: Party, how: Resolution, strength: f32, seq: u64) {
        if self.feuds.deescalate(a, b, how, strength, self.tick) {
            let (a, b) = Feuds::key(a, b);
            self.log.push(self.tick, EventKind::ConflictResolved { a, b, how, cause: seq });
        }
    }

    /// Gossip: the hearer's view of the subject moves toward what it was told (distorted in passing
    /// with a chance that falls with the teller's conscientiousness and the hearer's familiarity).
    fn gossip(&mut self, o: &Outcome, teller: &View, hearer: &View, seq: u64) {
        let subject = teller.intent.subject;
        if subject == NONE {
            return;
        }
        let g = &*self.graph;
        let direct = g.edge(o.target, subject);
        let familiarity = direct.map_or(0.0, |e| g.bonds()[e].familiarity);
        let mut r = rng::stream(self.seed, self.tick, teller.id.0 as u64, Purpose::Gossip);
        let (r1, r2) = (rng::unit_f32(&mut r), rng::unit_f32(&mut r));
        let (opinion, distorted) =
            gossip::distort(teller.intent.value, teller.pers.conscientiousness, familiarity, r1, r2);
        let teller_trust = g.bonds()[g.reverse[teller.intent.edge as usize] as usize].trust;
        let hops = if g.edge(o.initiator, subject).is_some() { 0 } else { 1 };
        let subject_id = g.slot_id[subject as usize];
        let told =
            Told { subject: subject_id, opinion, teller: teller.id, teller_trust, teller_status: teller.status, hops };
        if let Some(e) = direct {
            let mut b = g.bonds()[e];
            let pull = gossip::credibility(&told) * GOSSIP_INFLUENCE;
            b.affinity = (b.affinity + pull * (opinion - b.affinity)).clamp(-1.0, 1.0);
            self.graph.set_bond(e, b);
        } else {
            self.s.notes.push((o.target, Note::Hear(told)));
        }
        let ev = EventKind::RumorSpread {
            teller: teller.id,
            hearer: hearer.id,
            subject: subject_id,
            opinion,
            distorted,
            cause: seq,
        };
        self.log.push(self.tick, ev);
    }

    /// Mediation: the target warms toward its enemy (the intent's subject) and its grudge eases, by
    /// how much it respects the mediator; their feud de-escalates.
    fn mediate(&mut self, mediator: &View, party_slot: u32, party: &View, seq: u64) {
        let other = mediator.intent.subject;
        let g = &*self.graph;
        let Some(e) = (other != NONE).then(|| g.edge(party_slot, other)).flatten() else {
            return;
        };
        let respect = g.bonds()[g.reverse[mediator.intent.edge as usize] as usize].respect;
        let weight = 0.5 + 0.5 * respect;
        let (mut b, mut h) = (g.bonds()[e], g.history()[e]);
        b.affinity = bonds::nudge(b.affinity, 0.1 * weight);
        h.grudge *= 1.0 - 0.3 * weight;
        self.graph.set_edge(e, b, h);
        let (a, o) = (Party::Character(party.id), Party::Character(self.graph.slot_id[other as usize]));
        self.resolve_feud(a, o, Resolution::Mediation, weight, seq);
    }

    fn remember(&mut self, o: &Outcome, vi: &View, vt: &View, betrayal: bool, seq: u64) {
        use MemoryKind as M;
        let (kind_t, kind_i) = match o.action {
            _ if betrayal && o.action == Action::Betray => (M::SecretRevealed, M::Betrayer),
            _ if betrayal => (M::Betrayed, M::Betrayer),
            Action::Confide => (M::Confided, M::Confided),
            Action::Comfort => (M::Comforted, M::Interaction(Action::Comfort)),
            Action::Threaten => (M::Threatened, M::Interaction(Action::Threaten)),
            a => (M::Interaction(a), M::Interaction(a)),
        };
        let special = betrayal || matches!(o.action, Action::Confide | Action::Comfort | Action::Threaten);
        let tick = self.tick;
        if special || o.valence.abs() >= NOTABLE_VALENCE {
            let item = MemoryItem { tick, other: vi.id, kind: kind_t, valence: o.valence, intensity: o.valence.abs() };
            self.s.notes.push((o.target, Note::Remember(item, seq)));
        }
        if special || o.initiator_valence.abs() >= NOTABLE_VALENCE {
            let iv = o.initiator_valence;
            let item = MemoryItem { tick, other: vt.id, kind: kind_i, valence: iv, intensity: iv.abs() };
            self.s.notes.push((o.initiator, Note::Remember(item, seq)));
        }
    }

    /// Witnesses (OCC fortunes of others): partners of the target who care about it feel for it, and
    /// their view of the initiator shifts as balance theory predicts (Heider 1946: harming my friend
    /// makes you less liked, harming my enemy more).
    fn witness(&mut self, o: &Outcome, initiator: CharacterId, seq: u64) {
        let mut seen = 0;
        for e in self.graph.row(o.target) {
            let w = self.graph.edges[e].partner;
            if w == o.initiator {
                continue;
            }
            let aff_wt = self.graph.appeal[e].back_affinity;
            if aff_wt.abs() < 0.3 {
                continue;
            }
            let (kind, strength) = outcome::witness_emotion(aff_wt, o.valence);
            self.s.effects[w as usize].feel(kind, strength);
            if let Some(e_wi) = self.graph.edge(w, o.initiator) {
                let mut b = self.graph.bonds()[e_wi];
                b.affinity = bonds::nudge(b.affinity, 0.03 * o.valence * aff_wt.signum() * aff_wt.abs());
                self.graph.set_bond(e_wi, b);
            }
            // Seen, not suffered: a witness remembers at half the intensity.
            let item = MemoryItem {
                tick: self.tick,
                other: initiator,
                kind: MemoryKind::Witnessed,
                valence: o.valence * aff_wt.signum(),
                intensity: WITNESS_INTENSITY * strength,
            };
            if item.intensity >= NOTABLE_VALENCE {
                self.s.notes.push((w, Note::Remember(item, seq)));
            }
            seen += 1;
            if seen == WITNESSES_MAX {
                break;
            }
        }
    }
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

/// Query data of [`apply_effects`].
type EffectData = (
    &'static Slot,
    &'static CharacterId,
    &'static mut Emotions,
    &'static mut Needs,
    &'static mut SocialEnergy,
    &'static mut Memory,
    &'static mut Beliefs,
    &'static mut Trauma,
    &'static mut Preferences,
    &'static mut Goals,
);

/// One item of [`EffectData`].
type EffectItem<'a> = (
    &'a Slot,
    &'a CharacterId,
    Mut<'a, Emotions>,
    Mut<'a, Needs>,
    Mut<'a, SocialEnergy>,
    Mut<'a, Memory>,
    Mut<'a, Beliefs>,
    Mut<'a, Trauma>,
    Mut<'a, Preferences>,
    Mut<'a, Goals>,
);

/// Resolve stage, part 2: apply each character's accumulated effects and notes: emotions, needs,
/// energy, memories (with recall of whom it met and trauma from very intense harm), beliefs, what
/// calls for an answer ([`Goals::react`]) and the progress of its plan (plan events, in slot order).
pub fn apply_effects(
    clock: Res<TickClock>,
    params: Res<Params>,
    scratch: Res<ResolveScratch>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    mut log: ResMut<EventLog>,
    mut q: Query<EffectData>,
) {
    let tick = clock.tick;
    let s = &*scratch;
    let g = &*graph;
    let found: Mutex<Vec<(u32, EventKind)>> = Mutex::new(Vec::new());
    let rate = params.learning_rate;
    let f = |(slot, id, mut emo, mut needs, mut energy, mut mem, mut beliefs, mut trauma, mut prefs, mut goals): EffectItem| {
        let i = slot.0 as usize;
        let e = &s.effects[i];
        if e.soothe > 0.0 {
            for (v, k) in emo.intensity.iter_mut().zip(EmotionKind::ALL) {
                if k.is_negative() {
                    *v *= 1.0 - e.soothe;
                }
            }
        }
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
        if rate > 0.0 {
            prefs.forget();
            if let Some((action, reward)) = e.learned {
                prefs.learn(action, reward, rate);
            }
        }
        // A plan advances when the character's own interaction does its current step.
        let tried = s.tried.get(i).copied().unwrap_or_default();
        let intent = s.views[i].intent;
        if tried != Tried::Nothing
            && goals.plan.as_ref().and_then(|p| p.step()).is_some_and(|step| plans::does(step, &intent, g))
        {
            let succeeded = tried == Tried::Succeeded;
            if let Some(n) = plans::record(&mut goals.plan, intent.action, succeeded, tick) {
                found.lock().expect("no panics while holding the lock").push((slot.0, crate::goals::plan_event(*id, n)));
            }
        }
        let notes = &s.notes[s.note_start[i] as usize..s.note_start[i + 1] as usize];
        for (_, note) in notes {
            match *note {
                Note::Remember(item, seq) => {
                    // Meeting someone recalls what we remember of them, before this memory joins.
                    let recall = mem.recall(item.other, tick);
                    if recall.count > 0 {
                        for (k, amount) in memory::retrigger(recall) {
                            emo.feel(k, amount);
                        }
                    }
                    let triggered = if trauma.triggers.is_empty() {
                        None
                    } else {
                        memory::triggered(&trauma, Some(item.other), item.kind)
                    };
                    if let Some(strength) = triggered {
                        emo.feel(EmotionKind::Fear, strength);
                        emo.feel(EmotionKind::Distress, 0.5 * strength);
                    }
                    mem.remember(item, tick);
                    let t = memory::TRAUMA_THRESHOLD;
                    // Checked here first so that ordinary memories do not mark the trauma as changed.
                    let traumatic = item.intensity * (-item.valence).max(0.0) > t;
                    if traumatic
                        && memory::traumatize(&mut trauma, item.intensity, item.valence, Some(item.other), item.kind, t)
                            .is_some()
                    {
                        let by = Some(item.other);
                        let ev = EventKind::TraumaFormed { character: *id, by, intensity: item.intensity, cause: seq };
                        found.lock().expect("no panics while holding the lock").push((slot.0, ev));
                    }
                }
                Note::Received { from, action, valence } => goals.react.receive(from, action, valence, tick),
                Note::Hear(told) => {
                    let direct = g.slot_of(told.subject).and_then(|t| g.edge(slot.0, t)).map(|e| g.bonds()[e].affinity);
                    gossip::hear(&mut beliefs, told, direct, tick);
                }
            }
        }
    };
    if par.parallel(s.effects.len()) {
        crate::exec::par_each(q.iter_mut(), f);
    } else {
        q.iter_mut().for_each(f);
    }
    let mut found = found.into_inner().expect("no panics while holding the lock");
    found.sort_by_key(|(slot, _)| *slot);
    for (_, ev) in found {
        log.push(tick, ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u32, action: Action, target: u32) -> View {
        View { id: CharacterId(id), intent: Intent { action, target, ..Default::default() }, ..Default::default() }
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
}
