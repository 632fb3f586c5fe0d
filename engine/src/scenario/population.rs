//! Generated crowds: `[population]` expanded into characters and a Watts–Strogatz small-world web of
//! mutual ties (Watts & Strogatz 1998, "Collective dynamics of 'small-world' networks").
//!
//! Everything is a pure function of the scenario and the seed. Each random draw comes from a
//! [`crate::rng::stream`] keyed by what it is for (one generated character, one node's rewiring, one
//! character's tie bonds, one named character's links), so no result depends on iteration order.
//!
//! **Architecture invariant:** the output has no self-loops and no duplicate `(source, target)` pair,
//! every generated tie exists in both directions, and relationships are sorted by `(source, target)`.

use std::collections::HashMap;

use rand::Rng;
use rand_pcg::Pcg32;
use rayon::prelude::*;

use super::{CharacterSpec, DEGREE_MAX, PopulationSpec, Scenario, WorldSeed};
use crate::bonds::Bond;
use crate::personality::Personality;
use crate::rng::{Purpose, stream, unit_f32};

/// Stream ids carry what the stream is for in their top byte and an index below it, so no two
/// draws share a stream. This kind: the traits and name of one generated character.
const KIND_CHARACTER: u64 = 1 << 56;
/// Stream kind: the rewiring decisions of one node's lattice ties.
const KIND_REWIRE: u64 = 2 << 56;
/// Stream kind: the generated partners of one hand-written character.
const KIND_CONNECT: u64 = 3 << 56;
/// Stream kind: one round of redrawing rewired ties that landed on an existing tie.
const KIND_REPAIR: u64 = 4 << 56;
/// Stream kind: the starting bonds of one character's generated ties, in target order.
const KIND_BOND: u64 = 5 << 56;
/// Rounds of redrawing duplicate rewired ties; each round leaves about `rewire * degree / count` of
/// the previous round's duplicates, so this is never reached in practice. Ties still duplicated after
/// the last round are dropped (the mean degree falls by a negligible amount).
const REPAIR_ROUNDS_MAX: u64 = 32;

/// Names of generated characters: a first name and a surname, drawn from the character's stream.
#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Ada", "Basil", "Cora", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonah", "Kaia",
    "Lior", "Mara", "Nico", "Odile", "Pavel", "Quinn", "Rosa", "Soren", "Tamsin", "Umar", "Vera",
    "Wendell", "Xenia", "Yusuf", "Zara", "Amara", "Bruno", "Celeste", "Dario", "Esme", "Felix",
    "Gideon", "Hana", "Ivo", "Juno", "Kenji", "Leona", "Milo", "Nadia", "Otto", "Priya", "Rafael",
    "Selma", "Tobias", "Ulla", "Viktor", "Wren", "Yara", "Zeno", "Anouk", "Bram", "Clio",
    "Desmond", "Elif", "Fenna", "Gus", "Hester", "Ilya", "Jade", "Kofi", "Lena", "Matteo", "Noor",
];
#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "Abara", "Blackwood", "Castell", "Duval", "Eriksen", "Fairweather", "Grady", "Hollis",
    "Ivanova", "Jansen", "Kowal", "Lindqvist", "Marsh", "Novak", "Okafor", "Petrov", "Quill",
    "Rinaldi", "Sato", "Thorne", "Underhill", "Varga", "Whitlock", "Yilmaz", "Zeller", "Ashdown",
    "Brennan", "Corvo", "Delacroix", "Eastwood", "Fontaine", "Greer", "Hartmann", "Ibarra",
    "Jovanovic", "Kask", "Lowell", "Moreau", "Nakamura", "Oyelaran", "Pike", "Reyes", "Salo",
    "Tanaka", "Ulrich", "Vance", "Weller", "Xu", "Young", "Zamora",
];

/// The world `s` describes, with its population generated from `seed`: hand-written characters in
/// declaration order, then the generated ones (`{id_prefix}0`, `{id_prefix}1`, ...); hand-written
/// relationships, the small-world ties among generated characters, and `connect_named` mutual ties
/// from each hand-written character into the crowd, sorted by `(source, target)`.
///
/// A scenario that did not come from [`super::parse()`] may name unknown ids or repeat a pair; such
/// relationships are skipped (the first of a repeated pair is kept).
pub fn expand_population(s: &Scenario, seed: u64) -> WorldSeed {
    let index: HashMap<&str, u32> = (0u32..).zip(&s.characters).map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut hand: Vec<(u32, u32, Bond)> = s
        .relationships
        .iter()
        .filter_map(|r| Some((*index.get(r.from.as_str())?, *index.get(r.to.as_str())?, r.bond)))
        .filter(|(a, b, _)| a != b)
        .collect();
    // Stable sort: of a repeated pair the first declared is kept.
    hand.sort_by_key(|r| (r.0, r.1));
    hand.dedup_by_key(|r| (r.0, r.1));
    match &s.population {
        Some(p) => build(s.characters.clone(), hand, p, seed),
        None => WorldSeed { characters: s.characters.clone(), relationships: hand },
    }
}

/// A generated world of `count` characters (`p0`, `p1`, ...) on a small-world graph of mean degree
/// `degree`, for worlds built in code (`aion bench`). Same generator as [`expand_population`]:
/// `generate(c, d, r, s, seed)` equals expanding a scenario whose only content is
/// `[population] count = c, degree = d, rewire = r, spread = s`.
pub fn generate(count: u32, degree: u32, rewire: f32, spread: f32, seed: u64) -> WorldSeed {
    let spec = PopulationSpec { count, degree, rewire, spread, id_prefix: "p".to_owned(), connect_named: 0 };
    build(Vec::new(), Vec::new(), &spec, seed)
}

/// Appends the population to the hand-written characters and assembles every relationship.
fn build(mut characters: Vec<CharacterSpec>, hand: Vec<(u32, u32, Bond)>, p: &PopulationSpec, seed: u64) -> WorldSeed {
    let n_hand = u32::try_from(characters.len()).unwrap_or(u32::MAX);
    let n = p.count.min(u32::MAX - n_hand);
    // Each character draws from its own stream, so the thread count cannot change the result.
    characters.par_extend((0..n).into_par_iter().map(|i| generated_character(p, seed, i)));
    let mut ties = small_world(n, p.degree, p.rewire, seed);
    for t in &mut ties {
        *t = (t.0 + n_hand, t.1 + n_hand);
    }
    ties.extend(connect_named(n_hand, n, p.connect_named, seed));
    let relationships = assemble(characters.len(), &hand, &ties, seed);
    WorldSeed { characters, relationships }
}

/// Generated character `i`: traits ~ normal(0, spread) clamped to [-1, 1], a first name and surname.
fn generated_character(p: &PopulationSpec, seed: u64, i: u32) -> CharacterSpec {
    let mut rng = stream(seed, 0, KIND_CHARACTER | u64::from(i), Purpose::Population);
    let (z0, z1) = gaussian_pair(&mut rng);
    let (z2, z3) = gaussian_pair(&mut rng);
    let (z4, _) = gaussian_pair(&mut rng);
    let t = |z: f32| (z * p.spread).clamp(-1.0, 1.0);
    let personality = Personality {
        openness: t(z0),
        conscientiousness: t(z1),
        extraversion: t(z2),
        agreeableness: t(z3),
        neuroticism: t(z4),
    };
    let first = FIRST_NAMES[below(&mut rng, FIRST_NAMES.len() as u32) as usize];
    let last = SURNAMES[below(&mut rng, SURNAMES.len() as u32) as usize];
    CharacterSpec {
        id: format!("{}{i}", p.id_prefix),
        name: format!("{first} {last}"),
        personality,
        mood: None,
        tags: vec!["generated".to_owned()],
    }
}

/// Undirected ties `(a, b)` among `n` nodes: a ring lattice where each node links to `degree / 2`
/// neighbours on each side, each lattice tie rewired with probability `rewire` to a uniformly random
/// partner that is neither the node, a lattice neighbour, nor an existing partner.
///
/// Rewired partners are drawn at ring distance above `k`, so they never coincide with lattice ties;
/// the only possible duplicates are two rewired ties on the same pair, found by sorting the (few)
/// rewired ties and redrawn.
fn small_world(n: u32, degree: u32, rewire: f32, seed: u64) -> Vec<(u32, u32)> {
    if n < 2 {
        return Vec::new();
    }
    let k = (degree / 2).min((n - 1) / 2);
    let far = n - 2 * k - 1;
    let rewire = if far == 0 { 0.0 } else { rewire };
    let mut ties = Vec::with_capacity(n as usize * k as usize);
    let mut rewired: Vec<(u64, u32)> = Vec::new();
    for i in 0..n {
        let mut rng = stream(seed, 0, KIND_REWIRE | u64::from(i), Purpose::Population);
        for j in 1..=k {
            if unit_f32(&mut rng) < rewire {
                rewired.push((tie_key(i, far_partner(&mut rng, i, k, far, n)), i));
            } else {
                ties.push((i, ((u64::from(i) + u64::from(j)) % u64::from(n)) as u32));
            }
        }
    }
    for round in 0..=REPAIR_ROUNDS_MAX {
        rewired.sort_unstable();
        let mut redo = Vec::new();
        rewired.dedup_by(|later, kept| {
            let dup = later.0 == kept.0;
            if dup {
                redo.push(later.1);
            }
            dup
        });
        if redo.is_empty() || round == REPAIR_ROUNDS_MAX {
            break;
        }
        let mut rng = stream(seed, 0, KIND_REPAIR | round, Purpose::Population);
        rewired.extend(redo.into_iter().map(|i| (tie_key(i, far_partner(&mut rng, i, k, far, n)), i)));
    }
    ties.extend(rewired.iter().map(|&(key, _)| ((key >> 32) as u32, key as u32)));
    ties
}

/// `c` distinct generated partners (uniform) for each hand-written character, as `(hand, generated)`
/// global indices. At most [`DEGREE_MAX`] and at most `n` partners each.
fn connect_named(n_hand: u32, n: u32, c: u32, seed: u64) -> Vec<(u32, u32)> {
    let c = c.min(n).min(DEGREE_MAX) as usize;
    let mut ties = Vec::with_capacity(n_hand as usize * c);
    let mut chosen = Vec::with_capacity(c);
    for h in 0..n_hand {
        let mut rng = stream(seed, 0, KIND_CONNECT | u64::from(h), Purpose::Population);
        chosen.clear();
        while chosen.len() < c {
            let w = below(&mut rng, n);
            if !chosen.contains(&w) {
                chosen.push(w);
            }
        }
        ties.extend(chosen.iter().map(|&w| (h, n_hand + w)));
    }
    ties
}

/// All directed relationships, sorted by `(source, target)`. The ties become a target-only CSR whose
/// rows are sorted; then each source's row is emitted, its hand-written relationships first (their
/// targets are hand-written characters, which precede every generated one), then its ties with
/// bonds drawn from the source's own stream in target order.
fn assemble(n: usize, hand: &[(u32, u32, Bond)], ties: &[(u32, u32)], seed: u64) -> Vec<(u32, u32, Bond)> {
    let mut offsets = vec![0usize; n + 1];
    for &(a, b) in ties {
        offsets[a as usize + 1] += 1;
        offsets[b as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut targets = vec![0u32; offsets[n]];
    let mut cursor = offsets[..n].to_vec();
    for &(a, b) in ties {
        for (from, to) in [(a, b), (b, a)] {
            targets[cursor[from as usize]] = to;
            cursor[from as usize] += 1;
        }
    }
    let mut out = Vec::with_capacity(hand.len() + targets.len());
    let mut hand = hand.iter().peekable();
    for (x, w) in (0u32..).zip(offsets.windows(2)) {
        while let Some(&&r) = hand.peek().filter(|r| r.0 == x) {
            out.push(r);
            hand.next();
        }
        let row = &mut targets[w[0]..w[1]];
        if row.is_empty() {
            continue;
        }
        row.sort_unstable();
        let mut rng = stream(seed, 0, KIND_BOND | u64::from(x), Purpose::Population);
        out.extend(row.iter().map(|&t| (x, t, tie_bond(&mut rng))));
    }
    debug_assert!(out.windows(2).all(|p| (p[0].0, p[0].1) < (p[1].0, p[1].1)), "unsorted or duplicate");
    debug_assert!(out.iter().all(|r| r.0 != r.1), "self-relationship");
    out
}

/// Starting bond of one direction of a generated tie: familiarity in [0.2, 0.6), affinity 0.1 ± 0.2,
/// trust 0.1 ± 0.1, respect and attraction 0 ± 0.1.
fn tie_bond(rng: &mut Pcg32) -> Bond {
    let mut s = || 2.0 * unit_f32(rng) - 1.0;
    Bond {
        familiarity: 0.4 + 0.2 * s(),
        affinity: 0.1 + 0.2 * s(),
        trust: 0.1 + 0.1 * s(),
        respect: 0.1 * s(),
        attraction: 0.1 * s(),
    }
}

/// Key of an undirected tie: `min << 32 | max`.
fn tie_key(a: u32, b: u32) -> u64 {
    u64::from(a.min(b)) << 32 | u64::from(a.max(b))
}

/// A node at ring distance above `k` from `i`, uniform among the `far` such nodes.
fn far_partner(rng: &mut Pcg32, i: u32, k: u32, far: u32, n: u32) -> u32 {
    let offset = u64::from(k) + 1 + u64::from(below(rng, far));
    ((u64::from(i) + offset) % u64::from(n)) as u32
}

/// A uniform integer in `0..n` (`n > 0`) by 64-bit multiply-shift (bias below 2^-32).
fn below(rng: &mut Pcg32, n: u32) -> u32 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u32
}

/// Two independent standard normal draws (Box–Muller).
fn gaussian_pair(rng: &mut Pcg32) -> (f32, f32) {
    let u1 = 1.0 - unit_f32(rng); // in (0, 1], so ln is finite
    let u2 = unit_f32(rng);
    let r = (-2.0 * u1.ln()).sqrt();
    let theta = std::f32::consts::TAU * u2;
    (r * theta.cos(), r * theta.sin())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::scenario::{RelationshipSpec, parse};

    /// Asserts the structural invariants of a world seed and returns its mean out-degree.
    fn check_invariants(w: &WorldSeed) -> f64 {
        let n = w.characters.len() as u32;
        let pairs: HashSet<(u32, u32)> = w.relationships.iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(pairs.len(), w.relationships.len(), "duplicate (source, target)");
        assert!(w.relationships.windows(2).all(|p| (p[0].0, p[0].1) < (p[1].0, p[1].1)), "not sorted");
        for &(a, b, bond) in &w.relationships {
            assert!(a != b && a < n && b < n, "bad pair {a} -> {b}");
            assert!(bond.fields().iter().all(|f| f.2), "bond out of range: {bond:?}");
        }
        let ids: HashSet<&str> = w.characters.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), w.characters.len(), "duplicate ids");
        w.relationships.len() as f64 / f64::from(n.max(1))
    }

    fn reverse_exists(w: &WorldSeed, from: u32) -> bool {
        let pairs: HashSet<(u32, u32)> = w.relationships.iter().map(|r| (r.0, r.1)).collect();
        w.relationships.iter().filter(|r| r.0 >= from && r.1 >= from).all(|r| pairs.contains(&(r.1, r.0)))
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        let a = generate(2000, 10, 0.2, 0.35, 7);
        assert_eq!(a, generate(2000, 10, 0.2, 0.35, 7));
        let b = generate(2000, 10, 0.2, 0.35, 8);
        assert_ne!(a.relationships, b.relationships);
        assert_ne!(a.characters, b.characters);
        assert_eq!(a.characters[17].id, "p17");
        assert_eq!(a.characters[17].tags, ["generated"]);
    }

    #[test]
    fn the_small_world_has_the_asked_degree_and_mutual_ties() {
        for (count, degree, rewire) in [(3, 2, 0.5), (5, 4, 1.0), (50, 4, 1.0), (1000, 20, 0.1), (3000, 6, 0.0)] {
            let w = generate(count, degree, rewire, 0.35, 42);
            let mean = check_invariants(&w);
            assert!((mean - f64::from(degree)).abs() < 0.01 * f64::from(degree), "{count} {degree}: mean {mean}");
            assert!(reverse_exists(&w, 0), "{count} {degree}: a tie without its reverse");
        }
    }

    #[test]
    fn rewiring_creates_shortcuts() {
        let far =
            |w: &WorldSeed| w.relationships.iter().filter(|r| r.0.abs_diff(r.1) > 3 && r.0.abs_diff(r.1) < 997).count();
        assert_eq!(far(&generate(1000, 6, 0.0, 0.35, 1)), 0);
        let shortcuts = far(&generate(1000, 6, 0.2, 0.35, 1)) as f64 / 6000.0;
        assert!((0.15..0.25).contains(&shortcuts), "{shortcuts}");
    }

    #[test]
    fn traits_spread_around_zero() {
        let w = generate(5000, 2, 0.0, 0.35, 3);
        let xs: Vec<f32> = w.characters.iter().flat_map(|c| c.personality.traits()).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32).sqrt();
        assert!(mean.abs() < 0.02 && (sd - 0.35).abs() < 0.02, "mean {mean} sd {sd}");
        assert!(xs.iter().all(|x| (-1.0..=1.0).contains(x)));
        let flat = generate(10, 2, 0.0, 0.0, 3);
        assert!(flat.characters.iter().all(|c| c.personality == Personality::default()));
    }

    #[test]
    fn named_characters_join_the_crowd() {
        let text = r#"format = "aion.scenario/1"
[world]
name = "W"
[[character]]
id = "ann"
[[character]]
id = "bob"
[[character]]
id = "cy"
[[relationship]]
from = "ann"
to = "bob"
mutual = true
[[relationship]]
from = "cy"
to = "ann"
affinity = 0.5
[population]
count = 200
degree = 6
id_prefix = "x"
connect_named = 4
"#;
        let s = parse(text, "t").unwrap();
        let w = expand_population(&s, 11);
        assert_eq!(w, s.expand(11));
        check_invariants(&w);
        assert_eq!(w.characters.len(), 203);
        assert_eq!((w.characters[0].id.as_str(), w.characters[3].id.as_str()), ("ann", "x0"));
        assert!(reverse_exists(&w, 3));
        let hand: Vec<_> = w.relationships.iter().filter(|r| r.0 < 3 && r.1 < 3).map(|r| (r.0, r.1)).collect();
        assert_eq!(hand, [(0, 1), (1, 0), (2, 0)]);
        let cy_ann = w.relationships.iter().find(|r| (r.0, r.1) == (2, 0)).unwrap().2;
        assert_eq!(cy_ann, Bond { affinity: 0.5, ..Bond::default() });
        for h in 0..3 {
            let out: Vec<u32> = w.relationships.iter().filter(|r| r.0 == h && r.1 >= 3).map(|r| r.1).collect();
            assert_eq!(out.len(), 4, "named {h} links to connect_named generated characters");
            assert!(out.iter().all(|&g| w.relationships.iter().any(|r| (r.0, r.1) == (g, h))));
        }
        // Without hand-written content the expansion is exactly `generate`.
        let crowd = parse("format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n[population]\ncount = 300\ndegree = 8\nrewire = 0.3\n", "t").unwrap();
        assert_eq!(crowd.expand(5), generate(300, 8, 0.3, 0.35, 5));
    }

    #[test]
    fn a_scenario_without_population_keeps_its_own_relationships() {
        let mut s = parse("format = \"aion.scenario/1\"\n[world]\nname = \"W\"\n[[character]]\nid = \"a\"\n[[character]]\nid = \"b\"\n[[relationship]]\nfrom = \"b\"\nto = \"a\"\n", "t").unwrap();
        // Hand-built (unvalidated) specs: unknown ids and repeats are skipped.
        s.relationships.push(RelationshipSpec { from: "a".into(), to: "zed".into(), bond: Bond::default() });
        s.relationships.push(s.relationships[0].clone());
        let w = s.expand(1);
        assert_eq!(w.relationships, [(1, 0, Bond::default())]);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        for (count, degree) in [(0, 0), (1, 2), (2, 2), (4, 100), (10, 3)] {
            check_invariants(&generate(count, degree, 1.0, 2.0, 9));
        }
    }
}
