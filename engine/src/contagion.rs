//! Emotion contagion along the relationship graph: ASCRIBE (Bosse, Duell, Memon, Treur & van der Wal
//! 2009/2015) per PAD axis rescaled to [0, 1], with a receiver threshold in the spirit of Durupinar et
//! al. (2016) so weak signals do not flatten every mood.
//!
//! For receiver R with senders S: `gamma_SR = eps_S alpha_SR delta_R`, the group emotion
//! `q* = sum(gamma_SR q_S) / sum(gamma_SR)`, and
//! `q_R += gamma_R (eta (beta (1 - (1 - q*)(1 - q_R)) + (1 - beta) q* q_R) + (1 - eta) q* - q_R)`.
//! We bound the per-tick strength as `gamma_R = rate * delta_R * min(1, sum(eps_S alpha_SR) / SATURATION)`:
//! stronger and more expressive ties spread faster, and many ties saturate instead of exploding.
//!
//! Double-buffered: every read is of moods after the Feel stage of this tick, every write goes to a
//! separate buffer, so the result does not depend on processing order. Rows are summed sequentially
//! and split across threads, which is bit-deterministic at full speed (PERFORMANCE.md rule 3).

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use crate::exec::{Parallelism, SlotWriter};
use crate::graph::{Edge, SocialGraph};
use crate::ids::Slot;
use crate::mood::{Mood, Pad};
use crate::params::Params;
use crate::personality::Personality;

/// Total channel (sum of `eps_S alpha_SR`) at which contagion strength saturates.
pub const SATURATION: f32 = 4.0;
/// Rows per parallel task.
const ROWS_PER_TASK: usize = 2048;

/// Receiver-side constants of one character.
#[derive(Clone, Copy, Debug, Default)]
pub struct Receiver {
    /// ASCRIBE delta: openness to others' emotions, in [0, 1].
    pub susceptibility: f32,
    /// ASCRIBE beta: bias upward (1) or downward (0), in [0, 1].
    pub bias: f32,
}

impl Receiver {
    /// Receiver constants from personality: agreeable and neurotic people are more susceptible;
    /// extraverts bias upward and neurotic people downward.
    pub fn of(p: &Personality) -> Self {
        Self {
            susceptibility: p.susceptibility(),
            bias: (0.5 + 0.25 * p.extraversion - 0.25 * p.neuroticism).clamp(0.0, 1.0),
        }
    }
}

/// Dense per-slot buffers of the Spread stage.
#[derive(Resource, Default, Debug)]
pub struct ContagionBuffers {
    /// Per sender: `(eps q_P, eps q_A, eps q_D, eps)` with q in [0, 1]; read by every neighbour.
    pub send: Vec<[f32; 4]>,
    /// Per receiver: its constants and current mood.
    pub recv: Vec<(Receiver, Pad)>,
    /// Per receiver: mood after contagion.
    pub out: Vec<Pad>,
}

/// One ASCRIBE update of one axis value `q` (in [0, 1]) toward group value `q_star`.
pub fn ascribe(q: f32, q_star: f32, gamma: f32, eta: f32, beta: f32) -> f32 {
    let amplify = beta * (1.0 - (1.0 - q_star) * (1.0 - q)) + (1.0 - beta) * q_star * q;
    (q + gamma * (eta * amplify + (1.0 - eta) * q_star - q)).clamp(0.0, 1.0)
}

/// Contagion of one receiver given its row of edges. Pure; the hot kernel.
#[inline]
pub fn receive(row: &[Edge], send: &[[f32; 4]], r: Receiver, mood: Pad, rate: f32, threshold: f32, eta: f32) -> Pad {
    // Four independent accumulators break the add-latency chain (one edge per cycle instead of one
    // per four); the summation order is still fixed by the row, so results stay bit-deterministic.
    let mut lanes = [[0.0f32; 4]; 4];
    let mut chunks = row.chunks_exact(4);
    for quad in &mut chunks {
        for (lane, e) in lanes.iter_mut().zip(quad) {
            let s = &send[e.partner as usize];
            for k in 0..4 {
                lane[k] += e.weight * s[k];
            }
        }
    }
    for e in chunks.remainder() {
        let s = &send[e.partner as usize];
        for k in 0..4 {
            lanes[0][k] += e.weight * s[k];
        }
    }
    let mut acc = [0.0f32; 4];
    for k in 0..4 {
        acc[k] = (lanes[0][k] + lanes[1][k]) + (lanes[2][k] + lanes[3][k]);
    }
    if acc[3] <= 1e-9 {
        return mood;
    }
    let gamma = rate * r.susceptibility * (acc[3] / SATURATION).min(1.0);
    let limit = threshold * (1.5 - r.susceptibility);
    let axis = |m: f32, a: f32| {
        let q = 0.5 * (m + 1.0);
        let q_star = a / acc[3];
        if (q_star - q).abs() < limit {
            return m;
        }
        2.0 * ascribe(q, q_star, gamma, eta, r.bias) - 1.0
    };
    Pad::new(axis(mood.p, acc[0]), axis(mood.a, acc[1]), axis(mood.d, acc[2]))
}

/// Runs the kernel over every row into `out`.
pub fn spread(graph: &SocialGraph, bufs: &mut ContagionBuffers, p: &Params, parallel: bool) {
    let (send, recv) = (&bufs.send, &bufs.recv);
    let (rate, th, eta) = (p.contagion_rate, p.contagion_threshold, p.contagion_amplify);
    let rows = |(chunk, out): (usize, &mut [Pad])| {
        let first = chunk * ROWS_PER_TASK;
        for (i, o) in out.iter_mut().enumerate() {
            let s = first + i;
            let row = &graph.edges[graph.offsets[s] as usize..graph.offsets[s + 1] as usize];
            let (r, m) = recv[s];
            *o = receive(row, send, r, m, rate, th, eta);
        }
    };
    if parallel {
        bufs.out.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(rows);
    } else {
        bufs.out.chunks_mut(ROWS_PER_TASK).enumerate().for_each(rows);
    }
}

/// The baseline the kernel is compared with: a plain CSR weighted average of one value per node,
/// `out[r] = in[r] + rate (sum(w x) / sum(w) - in[r])`, no personality, no threshold.
pub fn plain_csr_step(offsets: &[u32], edges: &[Edge], input: &[f32], out: &mut [f32], rate: f32) {
    for (r, o) in out.iter_mut().enumerate() {
        let (mut acc, mut wsum) = (0.0f32, 0.0f32);
        for e in &edges[offsets[r] as usize..offsets[r + 1] as usize] {
            acc += e.weight * input[e.partner as usize];
            wsum += e.weight;
        }
        *o = if wsum > 0.0 { input[r] + rate * (acc / wsum - input[r]) } else { input[r] };
    }
}

/// Spread stage: gather moods, run the kernel, write moods back.
pub fn spread_moods(
    params: Res<Params>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    mut bufs: ResMut<ContagionBuffers>,
    mut q: Query<(&Slot, &mut Mood, &Personality)>,
) {
    let n = graph.n_characters();
    let parallel = par.parallel(n);
    let b = &mut *bufs;
    b.send.resize(n, [0.0; 4]);
    b.recv.resize(n, (Receiver::default(), Pad::default()));
    b.out.resize(n, Pad::default());
    {
        let (send, recv) = (SlotWriter::new(&mut b.send), SlotWriter::new(&mut b.recv));
        let gather = |(slot, mood, pers): (&Slot, Mut<Mood>, &Personality)| {
            let eps = pers.expressiveness();
            let m = mood.0;
            let q = |x: f32| 0.5 * (x + 1.0) * eps;
            // SAFETY: each character writes only its own, unique slot.
            unsafe {
                send.write(slot.0 as usize, [q(m.p), q(m.a), q(m.d), eps]);
                recv.write(slot.0 as usize, (Receiver::of(pers), m));
            }
        };
        if parallel {
            crate::exec::par_each(q.iter_mut(), gather);
        } else {
            q.iter_mut().for_each(gather);
        }
    }
    spread(&graph, b, &params, parallel);
    let out = &b.out;
    let scatter = |(slot, mut mood, _): (&Slot, Mut<Mood>, &Personality)| {
        let new = out[slot.0 as usize];
        if new != mood.0 {
            mood.0 = new;
        }
    };
    if parallel {
        crate::exec::par_each(q.iter_mut(), scatter);
    } else {
        q.iter_mut().for_each(scatter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascribe_moves_toward_the_group() {
        let up = ascribe(0.2, 0.8, 0.5, 0.0, 0.5);
        assert!(up > 0.2 && up < 0.8);
        let down = ascribe(0.8, 0.2, 0.5, 0.0, 0.5);
        assert!(down < 0.8 && down > 0.2);
    }

    #[test]
    fn stronger_bonds_pull_harder() {
        let send = vec![[0.9, 0.5, 0.5, 1.0]];
        let r = Receiver { susceptibility: 0.8, bias: 0.5 };
        let weak = receive(&[Edge { partner: 0, weight: 0.2 }], &send, r, Pad::default(), 0.2, 0.0, 0.3);
        let strong = receive(&[Edge { partner: 0, weight: 1.0 }], &send, r, Pad::default(), 0.2, 0.0, 0.3);
        assert!(strong.p > weak.p && weak.p > 0.0);
    }

    #[test]
    fn differences_below_the_threshold_are_ignored() {
        let send = vec![[0.52, 0.5, 0.5, 1.0]];
        let r = Receiver { susceptibility: 0.5, bias: 0.5 };
        let m = receive(&[Edge { partner: 0, weight: 1.0 }], &send, r, Pad::default(), 0.2, 0.05, 0.3);
        assert_eq!(m, Pad::default());
    }
}
