//! Director scripts in Rhai, sandboxed.
//!
//! The script's top level runs once when the world is built (and again, identically, whenever it
//! is rebuilt: snapshot load, spawn, retire); it may only *register* callbacks:
//! `at(tick, f)`, `every(n, f)`, `when(cond, f)`, each with an optional options map
//! (`#{priority: 5}`, `#{from: 10, until: 90}` for `every`, `#{once: true, cooldown: 20}` for
//! `when`). At each tick boundary the registrations are visited in registration order: an `at`
//! or `every` that is due, or a `when` whose `cond()` returns true (and is not spent by `once` or
//! cooling down), calls its function, whose actions queue commands. World queries and actions are
//! available only inside callbacks. The full API is in `scenarios/README.md` ("Director").
//!
//! Sandbox: a raw engine with the standard library only (no `eval`, no modules, no clock, no
//! file or network access); `print`/`debug` go to `tracing`; randomness only through `rand()` and
//! `rand_int(a, b)`, drawn from the engine stream `(seed, tick, registration index, Director)`.
//! Limits: [`OPERATIONS_MAX`] per call, call depth, expression depth, string, array and map sizes.
//! A call that fails (limit, unknown function, wrong type, runtime error) disables that
//! registration and is reported as a `director_error` event naming the script file and line.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bevy_ecs::prelude::*;
use rand::Rng;
use rand_pcg::Pcg32;
use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Array, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext};

use super::cond::Env;
use super::{Decision, Director, LoadError, Names, ScriptSource, Source, Var, WorldEnv, from_name};
use crate::bonds::Bond;
use crate::command::Command;
use crate::goals::Goals;
use crate::graph::SocialGraph;
use crate::ids::CharacterId;
use crate::ids::Name;
use crate::mood::Pad;
use crate::personality::Personality;
use crate::rng::{self, Purpose};

/// Most Rhai operations one callback (or the top level) may run.
pub const OPERATIONS_MAX: u64 = 200_000;
/// Deepest call nesting.
pub const CALL_LEVELS_MAX: usize = 32;
/// Longest string a script may build, in bytes.
pub const STRING_MAX: usize = 16 * 1024;
/// Largest array.
pub const ARRAY_MAX: usize = 10_000;
/// Largest object map.
pub const MAP_MAX: usize = 1_000;
/// Most registrations.
pub const REGISTRATIONS_MAX: usize = 1_000;
/// Most commands one callback may queue.
pub const COMMANDS_MAX: usize = 1_000;

enum When {
    At(u64),
    Every { n: u64, from: u64, until: Option<u64> },
    Cond(FnPtr),
}

struct Reg {
    /// Line of the registration (`at(...)`, `every(...)`, `when(...)`), for errors without a position.
    line: u32,
    when: When,
    action: FnPtr,
    once: bool,
    priority: i64,
    cooldown: u64,
}

/// What registered functions share with the engine while a script runs.
#[derive(Default)]
struct Ctx {
    /// The world while it is lent for the callbacks of one boundary; an empty placeholder, kept
    /// from one boundary to the next, otherwise. Lending swaps the two, so a boundary allocates
    /// nothing for the hand-off (a fresh placeholder `World` cost ~10 µs each time).
    world: World,
    /// Whether `world` is the lent world.
    lent: bool,
    names: Names,
    out: Vec<Command>,
    vars: BTreeMap<String, Var>,
    rng: Option<Pcg32>,
    regs: Vec<Reg>,
    loading: bool,
}

type Shared = Arc<Mutex<Ctx>>;
type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

fn lock(ctx: &Shared) -> MutexGuard<'_, Ctx> {
    // A panic inside a registered function cannot leave the context half-written in a way that
    // matters: every boundary resets it. So a poisoned lock is taken over.
    ctx.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A loaded script.
pub struct Script {
    engine: Engine,
    ast: AST,
    ctx: Shared,
    regs: Vec<Reg>,
    file: String,
    first_line: u32,
}

/// A script failure at a boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptError {
    /// Script file.
    pub file: String,
    /// 1-based line in the file (0 when unknown).
    pub line: u32,
    /// What went wrong.
    pub message: String,
}

fn num(d: &Dynamic, what: &str) -> Result<f32, String> {
    if let Ok(x) = d.as_float() {
        Ok(x as f32)
    } else if let Ok(i) = d.as_int() {
        Ok(i as f32)
    } else {
        Err(format!("{what} must be a number, found {}", d.type_name()))
    }
}

fn field(m: &Map, key: &str, default: f32) -> Result<f32, String> {
    m.get(key).map_or(Ok(default), |d| num(d, key))
}

fn bond_of(m: &Map) -> Result<Bond, String> {
    let d = Bond::default();
    for k in m.keys() {
        if !["affinity", "trust", "respect", "attraction", "familiarity"].contains(&k.as_str()) {
            return Err(format!("unknown bond dimension {k:?}"));
        }
    }
    Ok(Bond {
        affinity: field(m, "affinity", d.affinity)?,
        trust: field(m, "trust", d.trust)?,
        respect: field(m, "respect", d.respect)?,
        attraction: field(m, "attraction", d.attraction)?,
        familiarity: field(m, "familiarity", d.familiarity)?,
    })
}

fn pad_map(p: Pad) -> Map {
    let mut m = Map::new();
    m.insert("pleasure".into(), (p.p as f64).into());
    m.insert("arousal".into(), (p.a as f64).into());
    m.insert("dominance".into(), (p.d as f64).into());
    m
}

fn bond_map(b: Bond) -> Map {
    let mut m = Map::new();
    for (k, v) in [
        ("affinity", b.affinity),
        ("trust", b.trust),
        ("respect", b.respect),
        ("attraction", b.attraction),
        ("familiarity", b.familiarity),
    ] {
        m.insert(k.into(), (v as f64).into());
    }
    m
}

impl Ctx {
    fn id(&self, name: &str) -> Result<CharacterId, String> {
        self.names.get(name).copied().ok_or_else(|| format!("unknown character {name:?}"))
    }

    fn env(&self) -> Result<WorldEnv<'_>, String> {
        if self.lent {
            Ok(WorldEnv { world: &self.world, names: &self.names })
        } else {
            Err("world queries are only available inside callbacks, not at the top level".into())
        }
    }

    fn queue(&mut self, c: Command) -> Result<(), String> {
        if !self.lent {
            return Err("actions are only available inside callbacks, not at the top level".into());
        }
        if self.out.len() >= COMMANDS_MAX {
            return Err(format!("more than {COMMANDS_MAX} commands in one call"));
        }
        c.check().map_err(|e| e.to_string())?;
        self.out.push(c);
        Ok(())
    }

    fn register(&mut self, reg: Reg) -> Result<(), String> {
        if !self.loading {
            return Err("at/every/when may only be called at the script's top level".into());
        }
        if self.regs.len() >= REGISTRATIONS_MAX {
            return Err(format!("more than {REGISTRATIONS_MAX} registrations"));
        }
        self.regs.push(reg);
        Ok(())
    }
}

/// Runs `f` on the shared context, turning a `String` error into a Rhai error (Rhai adds the
/// position of the call).
fn with<R>(ctx: &Shared, f: impl FnOnce(&mut Ctx) -> Result<R, String>) -> RhaiResult<R> {
    f(&mut lock(ctx)).map_err(Into::into)
}

fn call_line(nc: &NativeCallContext) -> u32 {
    nc.call_position().line().unwrap_or(0) as u32
}

fn opt_int(m: &Map, key: &str) -> Result<Option<i64>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(d) => d.as_int().map(Some).map_err(|t| format!("option {key} must be an integer, found {t}")),
    }
}

fn check_options(m: &Map, allowed: &[&str]) -> Result<(), String> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown option {k:?}; expected one of {}", allowed.join(", "))),
        None => Ok(()),
    }
}

fn register_api(engine: &mut Engine, ctx: &Shared) {
    // Registration.
    let c = ctx.clone();
    engine.register_fn("at", move |nc: NativeCallContext, t: i64, f: FnPtr| {
        let line = call_line(&nc);
        with(&c, |x| {
            x.register(Reg { line, when: When::At(t.max(0) as u64), action: f, once: true, priority: 0, cooldown: 0 })
        })
    });
    let c = ctx.clone();
    engine.register_fn("at", move |nc: NativeCallContext, t: i64, f: FnPtr, o: Map| {
        let line = call_line(&nc);
        with(&c, |x| {
            check_options(&o, &["priority"])?;
            let priority = opt_int(&o, "priority")?.unwrap_or(0);
            x.register(Reg { line, when: When::At(t.max(0) as u64), action: f, once: true, priority, cooldown: 0 })
        })
    });
    let every = |x: &mut Ctx, line: u32, n: i64, f: FnPtr, o: &Map| -> Result<(), String> {
        check_options(o, &["from", "until", "priority"])?;
        if n < 1 {
            return Err(format!("every({n}, ..): the period must be at least 1"));
        }
        let from = opt_int(o, "from")?.map_or(n as u64, |v| v.max(0) as u64);
        let until = opt_int(o, "until")?.map(|v| v.max(0) as u64);
        let priority = opt_int(o, "priority")?.unwrap_or(0);
        let when = When::Every { n: n as u64, from, until };
        x.register(Reg { line, when, action: f, once: false, priority, cooldown: 0 })
    };
    let c = ctx.clone();
    engine.register_fn("every", move |nc: NativeCallContext, n: i64, f: FnPtr| {
        let line = call_line(&nc);
        with(&c, |x| every(x, line, n, f, &Map::new()))
    });
    let c = ctx.clone();
    engine.register_fn("every", move |nc: NativeCallContext, n: i64, f: FnPtr, o: Map| {
        let line = call_line(&nc);
        with(&c, |x| every(x, line, n, f, &o))
    });
    let when = |x: &mut Ctx, line: u32, cond: FnPtr, f: FnPtr, o: &Map| -> Result<(), String> {
        check_options(o, &["once", "priority", "cooldown"])?;
        let once = match o.get("once") {
            None => false,
            Some(d) => d.as_bool().map_err(|t| format!("option once must be true or false, found {t}"))?,
        };
        let priority = opt_int(o, "priority")?.unwrap_or(0);
        let cooldown = opt_int(o, "cooldown")?.unwrap_or(0).max(0) as u64;
        x.register(Reg { line, when: When::Cond(cond), action: f, once, priority, cooldown })
    };
    let c = ctx.clone();
    engine.register_fn("when", move |nc: NativeCallContext, cond: FnPtr, f: FnPtr| {
        let line = call_line(&nc);
        with(&c, |x| when(x, line, cond, f, &Map::new()))
    });
    let c = ctx.clone();
    engine.register_fn("when", move |nc: NativeCallContext, cond: FnPtr, f: FnPtr, o: Map| {
        let line = call_line(&nc);
        with(&c, |x| when(x, line, cond, f, &o))
    });

    // Queries.
    let c = ctx.clone();
    engine.register_fn("tick", move || with(&c, |x| Ok(x.env()?.tick() as i64)));
    let c = ctx.clone();
    engine.register_fn("tension", move || with(&c, |x| Ok(x.env()?.tension() as f64)));
    let c = ctx.clone();
    engine.register_fn("arcs_open", move || with(&c, |x| Ok(x.env()?.arcs_open() as i64)));
    let c = ctx.clone();
    engine.register_fn("metric", move |name: &str| {
        with(&c, |x| {
            x.env()?
                .metric_named(name)
                .ok_or_else(|| format!("unknown metric {name:?}; one of {}", super::cond::METRICS.join(", ")))
        })
    });
    let c = ctx.clone();
    engine.register_fn("characters", move || {
        with(&c, |x| {
            let env = x.env()?;
            let retired = &env.world.resource::<Director>().retired;
            let mut v: Vec<(CharacterId, &String)> =
                x.names.iter().filter(|(_, id)| retired.binary_search(id).is_err()).map(|(n, id)| (*id, n)).collect();
            v.sort();
            Ok(v.into_iter().map(|(_, n)| Dynamic::from(n.clone())).collect::<Array>())
        })
    });
    let c = ctx.clone();
    engine.register_fn("is_retired", move |name: &str| {
        with(&c, |x| {
            let id = x.id(name)?;
            Ok(x.env()?.world.resource::<Director>().is_retired(id))
        })
    });
    let c = ctx.clone();
    engine.register_fn("display", move |name: &str| {
        with(&c, |x| {
            let id = x.id(name)?;
            let env = x.env()?;
            let g = env.world.resource::<SocialGraph>();
            let e = g.slot_of(id).map(|s| g.slot_entity[s as usize]).ok_or("no such character")?;
            Ok(env.world.get::<Name>(e).map_or_else(String::new, |n| n.display.clone()))
        })
    });
    let c = ctx.clone();
    engine.register_fn("mood", move |name: &str| {
        with(&c, |x| {
            x.id(name)?;
            x.env()?.mood(name).map(pad_map).ok_or_else(|| format!("no mood for {name:?}"))
        })
    });
    let c = ctx.clone();
    engine.register_fn("emotion", move |name: &str, kind: &str| {
        with(&c, |x| {
            x.id(name)?;
            let k = from_name(kind).ok_or_else(|| format!("unknown emotion {kind:?}"))?;
            Ok(x.env()?.emotion(name, k).unwrap_or(0.0) as f64)
        })
    });
    let c = ctx.clone();
    engine.register_fn("bond", move |from: &str, to: &str| {
        with(&c, |x| {
            x.id(from)?;
            x.id(to)?;
            Ok(x.env()?.bond(from, to).map_or(Dynamic::UNIT, |b| bond_map(b).into()))
        })
    });
    let c = ctx.clone();
    engine.register_fn("has_bond", move |from: &str, to: &str| {
        with(&c, |x| {
            x.id(from)?;
            x.id(to)?;
            Ok(x.env()?.bond(from, to).is_some())
        })
    });
    let c = ctx.clone();
    engine.register_fn("seeds", move |k: i64| {
        with(&c, |x| {
            let env = x.env()?;
            let by_id: BTreeMap<CharacterId, &String> = x.names.iter().map(|(n, id)| (*id, n)).collect();
            let seeds = env.seeds(k.clamp(0, 100) as usize);
            Ok(seeds
                .into_iter()
                .map(|(id, kind, stage, chars)| {
                    let mut m = Map::new();
                    m.insert("id".into(), (id as i64).into());
                    m.insert("kind".into(), kind.into());
                    m.insert("stage".into(), stage.into());
                    let cs: Array = chars.iter().filter_map(|c| by_id.get(c)).map(|n| (*n).clone().into()).collect();
                    m.insert("characters".into(), cs.into());
                    Dynamic::from_map(m)
                })
                .collect::<Array>())
        })
    });
    let c = ctx.clone();
    engine.register_fn("goals", move |name: &str| {
        with(&c, |x| {
            let id = x.id(name)?;
            let env = x.env()?;
            let g = env.world.resource::<SocialGraph>();
            let e = g.slot_of(id).map(|s| g.slot_entity[s as usize]).ok_or("no such character")?;
            let by_id: BTreeMap<CharacterId, &String> = x.names.iter().map(|(n, id)| (*id, n)).collect();
            let goals = env.world.get::<Goals>(e).map(|g| g.list.clone()).unwrap_or_default();
            Ok(goals
                .iter()
                .map(|goal| {
                    let mut m = Map::new();
                    let kind = serde_json::to_value(goal.kind).ok().and_then(|v| v.as_str().map(str::to_owned));
                    m.insert("goal".into(), kind.unwrap_or_default().into());
                    let t = goal.target.and_then(|t| by_id.get(&t)).map_or(Dynamic::UNIT, |n| (*n).clone().into());
                    m.insert("target".into(), t);
                    m.insert("priority".into(), (goal.priority as f64).into());
                    Dynamic::from_map(m)
                })
                .collect::<Array>())
        })
    });

    // Persistent variables.
    let c = ctx.clone();
    engine.register_fn("get", move |key: &str| {
        with(&c, |x| {
            Ok(match x.vars.get(key) {
                None => Dynamic::UNIT,
                Some(Var::Int(i)) => (*i).into(),
                Some(Var::Float(f)) => (*f).into(),
                Some(Var::Bool(b)) => (*b).into(),
                Some(Var::Str(s)) => s.clone().into(),
            })
        })
    });
    let c = ctx.clone();
    engine.register_fn("set", move |key: &str, v: Dynamic| {
        with(&c, |x| {
            if !x.lent {
                return Err("set() is only available inside callbacks".into());
            }
            let var = if let Ok(i) = v.as_int() {
                Var::Int(i)
            } else if let Ok(f) = v.as_float() {
                Var::Float(f)
            } else if let Ok(b) = v.as_bool() {
                Var::Bool(b)
            } else if let Ok(s) = v.clone().into_immutable_string() {
                Var::Str(s.to_string())
            } else {
                return Err(format!("set({key:?}, ..): only integers, floats, booleans and strings are kept"));
            };
            if !x.vars.contains_key(key) && x.vars.len() >= MAP_MAX {
                return Err(format!("more than {MAP_MAX} variables"));
            }
            x.vars.insert(key.to_owned(), var);
            Ok(())
        })
    });

    // Randomness from the engine's streams.
    let c = ctx.clone();
    engine.register_fn("rand", move || {
        with(&c, |x| {
            let r = x.rng.as_mut().ok_or("rand() is only available inside callbacks")?;
            Ok((r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
        })
    });
    let c = ctx.clone();
    engine.register_fn("rand_int", move |a: i64, b: i64| {
        with(&c, |x| {
            if b < a {
                return Err(format!("rand_int({a}, {b}): the upper bound is below the lower"));
            }
            let r = x.rng.as_mut().ok_or("rand_int() is only available inside callbacks")?;
            let span = (b as i128 - a as i128 + 1) as u128;
            Ok((a as i128 + (r.next_u64() as u128 % span) as i128) as i64)
        })
    });

    // Actions.
    let c = ctx.clone();
    engine.register_fn("inject", move |actor: &str, action: &str, target: &str| {
        with(&c, |x| {
            let action = from_name(action).ok_or_else(|| format!("unknown action {action:?}"))?;
            let c = Command::Inject { actor: x.id(actor)?, action, target: x.id(target)? };
            x.queue(c)
        })
    });
    let c = ctx.clone();
    engine.register_fn("narrate", move |text: ImmutableString| {
        with(&c, |x| x.queue(Command::Narrate { text: text.to_string() }))
    });
    let spawn = |x: &mut Ctx, name: &str, p: &Map, o: &Map| -> Result<(), String> {
        check_options(o, &["mood", "bonds"])?;
        for k in p.keys() {
            if !["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"].contains(&k.as_str())
            {
                return Err(format!("unknown trait {k:?}"));
            }
        }
        let personality = Personality {
            openness: field(p, "openness", 0.0)?,
            conscientiousness: field(p, "conscientiousness", 0.0)?,
            extraversion: field(p, "extraversion", 0.0)?,
            agreeableness: field(p, "agreeableness", 0.0)?,
            neuroticism: field(p, "neuroticism", 0.0)?,
        };
        let mood = match o.get("mood") {
            None => None,
            Some(m) => {
                let m = m.clone().try_cast::<Map>().ok_or("mood must be a map")?;
                let b = personality.baseline_mood();
                Some(Pad::new(field(&m, "pleasure", b.p)?, field(&m, "arousal", b.a)?, field(&m, "dominance", b.d)?))
            }
        };
        let mut bonds = Vec::new();
        if let Some(b) = o.get("bonds") {
            let b = b.clone().try_cast::<Map>().ok_or("bonds must be a map of name: bond map")?;
            for (other, bond) in b {
                let bm = bond.try_cast::<Map>().ok_or("each bond must be a map")?;
                bonds.push((x.id(&other)?, bond_of(&bm)?));
            }
        }
        x.queue(Command::Spawn { name: name.to_owned(), personality, mood, bonds })
    };
    let c = ctx.clone();
    engine.register_fn("spawn", move |name: &str, p: Map| with(&c, |x| spawn(x, name, &p, &Map::new())));
    let c = ctx.clone();
    engine.register_fn("spawn", move |name: &str, p: Map, o: Map| with(&c, |x| spawn(x, name, &p, &o)));
    let c = ctx.clone();
    engine.register_fn("retire", move |name: &str| {
        with(&c, |x| {
            let c = Command::Retire { character: x.id(name)? };
            x.queue(c)
        })
    });
    let set_goal = |x: &mut Ctx, name: &str, goal: &str, target: Option<&str>, pri: &Dynamic| {
        let goal = from_name(goal).ok_or_else(|| format!("unknown goal {goal:?}"))?;
        let target = target.map(|t| x.id(t)).transpose()?;
        let c = Command::SetGoal { character: x.id(name)?, goal, target, priority: num(pri, "priority")? };
        x.queue(c)
    };
    let c = ctx.clone();
    engine.register_fn("set_goal", move |name: &str, goal: &str, target: &str, pri: Dynamic| {
        with(&c, |x| set_goal(x, name, goal, Some(target), &pri))
    });
    let c = ctx.clone();
    engine.register_fn("set_goal", move |name: &str, goal: &str, pri: Dynamic| {
        with(&c, |x| set_goal(x, name, goal, None, &pri))
    });
    let c = ctx.clone();
    engine.register_fn("drop_goal", move |name: &str, goal: &str| {
        with(&c, |x| {
            let goal = from_name(goal).ok_or_else(|| format!("unknown goal {goal:?}"))?;
            let c = Command::DropGoal { character: x.id(name)?, goal, target: None };
            x.queue(c)
        })
    });
    let c = ctx.clone();
    engine.register_fn("set_genre", move |genre: &str| {
        with(&c, |x| {
            let genre = from_name(genre).ok_or_else(|| format!("unknown genre {genre:?}"))?;
            x.queue(Command::SetGenre { genre })
        })
    });
    let c = ctx.clone();
    engine.register_fn("set_mood", move |name: &str, p: Dynamic, a: Dynamic, d: Dynamic| {
        with(&c, |x| {
            let mood = Pad::new(num(&p, "pleasure")?, num(&a, "arousal")?, num(&d, "dominance")?);
            let c = Command::SetMood { character: x.id(name)?, mood };
            x.queue(c)
        })
    });
    let c = ctx.clone();
    engine.register_fn("set_bond", move |from: &str, to: &str, b: Map| {
        with(&c, |x| {
            let c = Command::SetBond { from: x.id(from)?, to: x.id(to)?, bond: bond_of(&b)? };
            x.queue(c)
        })
    });
    let c = ctx.clone();
    engine.register_fn("feel", move |name: &str, emotion: &str, intensity: Dynamic| {
        with(&c, |x| {
            let emotion = from_name(emotion).ok_or_else(|| format!("unknown emotion {emotion:?}"))?;
            let c = Command::Feel { character: x.id(name)?, emotion, intensity: num(&intensity, "intensity")? };
            x.queue(c)
        })
    });
    let c = ctx.clone();
    engine.register_fn("set_param", move |name: &str, value: Dynamic| {
        with(&c, |x| {
            let c = Command::SetParam { name: name.to_owned(), value: f64::from(num(&value, "value")?) };
            x.queue(c)
        })
    });
}

fn sandboxed(ctx: &Shared) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    engine
        .set_max_operations(OPERATIONS_MAX)
        .set_max_call_levels(CALL_LEVELS_MAX)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(STRING_MAX)
        .set_max_array_size(ARRAY_MAX)
        .set_max_map_size(MAP_MAX)
        .set_max_variables(1_000)
        .set_max_functions(1_000)
        .set_strict_variables(true);
    engine.disable_symbol("eval");
    engine.on_print(|s| tracing::debug!(target: "aion::director", "script print: {s}"));
    engine.on_debug(|s, _, pos| tracing::debug!(target: "aion::director", "script debug at {pos}: {s}"));
    register_api(&mut engine, ctx);
    engine
}

impl Script {
    /// Compiles the script and runs its top level (registrations). A syntax error or a failing
    /// top level is a [`LoadError::Script`] naming the file and line.
    pub fn load(src: &ScriptSource, names: Names) -> Result<Self, LoadError> {
        let ctx: Shared = Arc::new(Mutex::new(Ctx { names, loading: true, ..Ctx::default() }));
        let engine = sandboxed(&ctx);
        let fail = |e: &EvalAltResult| {
            let (line, message) = line_and_message(e);
            LoadError::Script { file: src.file.clone(), line: shift(line, src.first_line), message }
        };
        let ast = engine.compile(&src.text).map_err(|e| {
            let line = e.position().line().unwrap_or(0) as u32;
            LoadError::Script {
                file: src.file.clone(),
                line: shift(line, src.first_line),
                message: e.err_type().to_string(),
            }
        })?;
        engine.run_ast(&ast).map_err(|e| fail(&e))?;
        let regs = {
            let mut x = lock(&ctx);
            x.loading = false;
            std::mem::take(&mut x.regs)
        };
        Ok(Self { engine, ast, ctx, regs, file: src.file.clone(), first_line: src.first_line })
    }

    /// Registrations, in order.
    pub fn n_registrations(&self) -> usize {
        self.regs.len()
    }

    /// Visits the registrations before tick `next` with `world` lent to the script (swapped into
    /// its context and back, so the hand-off allocates nothing), and returns the decisions and
    /// errors. The firing records and variables live in the world's [`Director`]. The script reads
    /// characters by the names it was loaded with: a change of cast rebuilds the [`super::Runtime`].
    pub fn decide(
        &mut self,
        world: &mut World,
        seed: u64,
        next: u64,
        order_base: u64,
    ) -> (Vec<Decision>, Vec<ScriptError>) {
        let (mut firings, vars) = {
            let d = world.resource::<Director>();
            (d.script.clone(), d.vars.clone())
        };
        firings.resize(self.regs.len(), Default::default());
        {
            let mut x = lock(&self.ctx);
            x.vars = vars;
            std::mem::swap(world, &mut x.world);
            x.lent = true;
            x.out.clear();
        }
        let mut decisions = Vec::new();
        let mut errors = Vec::new();
        let mut order = order_base;
        for (i, reg) in self.regs.iter().enumerate() {
            let f = &mut firings[i];
            if f.disabled {
                continue;
            }
            lock(&self.ctx).rng = Some(rng::stream(seed, next, i as u64, Purpose::Director));
            let due = match &reg.when {
                When::At(t) => *t == next,
                When::Every { n, from, until } => {
                    next >= *from && (next - from).is_multiple_of(*n) && until.is_none_or(|u| next <= u)
                }
                When::Cond(c) => {
                    if !f.ready(next, reg.once, reg.cooldown) {
                        false
                    } else {
                        match c.call::<Dynamic>(&self.engine, &self.ast, ()) {
                            Ok(v) => match v.as_bool() {
                                Ok(b) => b,
                                Err(t) => {
                                    let message = format!("a when() condition must return true or false, found {t}");
                                    let line = shift(reg.line, self.first_line);
                                    errors.push(ScriptError { file: self.file.clone(), line, message });
                                    f.disabled = true;
                                    false
                                }
                            },
                            Err(e) => {
                                errors.push(self.error(&e, reg.line));
                                f.disabled = true;
                                false
                            }
                        }
                    }
                }
            };
            lock(&self.ctx).out.clear();
            if !due {
                continue;
            }
            let result = reg.action.call::<Dynamic>(&self.engine, &self.ast, ());
            let out = std::mem::take(&mut lock(&self.ctx).out);
            match result {
                Ok(_) => {
                    f.count += 1;
                    f.last = Some(next);
                    for c in out {
                        let label = format!("{}#{i}", self.file);
                        decisions.push(Decision {
                            priority: reg.priority,
                            order,
                            by: Source::Script,
                            label,
                            command: Ok(c),
                        });
                        order += 1;
                    }
                }
                Err(e) => {
                    errors.push(self.error(&e, reg.line));
                    f.disabled = true;
                }
            }
        }
        let vars = {
            let mut x = lock(&self.ctx);
            x.rng = None;
            x.lent = false;
            std::mem::swap(world, &mut x.world);
            std::mem::take(&mut x.vars)
        };
        {
            let mut d = world.resource_mut::<Director>();
            if d.script != firings {
                d.script = firings;
            }
            if d.vars != vars {
                d.vars = vars;
            }
        }
        (decisions, errors)
    }

    /// A failed call as an error: the line Rhai gives, or the registration's line when it gives
    /// none (limits hit inside a callback carry no position).
    fn error(&self, e: &EvalAltResult, reg_line: u32) -> ScriptError {
        let (line, message) = line_and_message(e);
        let line = if line == 0 { reg_line } else { line };
        ScriptError { file: self.file.clone(), line: shift(line, self.first_line), message }
    }
}

/// Line of a script line in its file.
fn shift(line: u32, first_line: u32) -> u32 {
    if line == 0 { 0 } else { line + first_line.max(1) - 1 }
}

/// The innermost error's line and a message without Rhai's position suffix.
fn line_and_message(e: &EvalAltResult) -> (u32, String) {
    let inner = e.unwrap_inner();
    let pos = if inner.position().is_none() { e.position() } else { inner.position() };
    let mut message = inner.to_string();
    if let Some(at) = message.rfind(" (line ") {
        message.truncate(at);
    }
    (pos.line().unwrap_or(0) as u32, message)
}
