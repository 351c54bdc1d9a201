//! Search guided by coverage (`fuzz --guided`): AFL's loop with Redis's
//! and Sentinel's abstract states as the edges. A schedule whose run
//! reaches a state, a transition or a line kind no earlier run reached
//! joins the corpus; later seeds mostly mutate a corpus schedule (move a
//! fault, add one, drop one, swap its kind or target, shorten a gap,
//! change how long it lasts) instead of drawing a fresh one.
//!
//! Seeds are taken in batches of [`BATCH`]: a batch's schedules are made
//! from the corpus as it stood at the batch's start and run in parallel,
//! then their results join the corpus in seed order. So the corpus, the
//! failures and the summary depend on the seed range, never on `--jobs`.

use std::collections::BTreeMap;

use proptest::strategy::ValueTree as _;
use rand::{Rng as _, RngExt as _};

use crate::coverage::{Abstract, RunCoverage};
use crate::scenario::Plan;
use crate::time::{Micros, ms};

use super::{
    Draw, FuzzConfig, Phase, SeedResult, Seeds, Stage, Summary, Workers, check_recorded,
    failure_of, summarise, targets, tree_for, with_schedule,
};

/// Seeds run between two updates of the corpus.
pub const BATCH: u64 = 32;

/// The share of seeds that draw a fresh schedule even once the corpus has
/// some: new ground as well as the neighbourhood of what worked.
const FRESH: f64 = 0.2;

/// Something a run can reach.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    State(Abstract),
    Transition(Abstract, Abstract),
    Line(String),
}

/// What the campaign has reached so far, how many runs reached each item,
/// and the schedules that first reached something, each with the items it
/// was first to reach.
#[derive(Default)]
struct Corpus {
    schedules: Vec<(Vec<Draw>, Vec<Item>)>,
    hits: BTreeMap<Item, u64>,
}

/// A parent's weight per item it found: the rarer the item (the fewer runs
/// reached it), the more often the schedule that found it is mutated, as
/// AFLFast's power schedules favour seeds on rare paths.
const WEIGHT_SCALE: u64 = 1 << 20;

impl Corpus {
    /// Counts what `run` reached; the items no earlier run had.
    fn learn(&mut self, run: &RunCoverage) -> Vec<Item> {
        let items = (run.states.iter().map(|s| Item::State(*s)))
            .chain(run.transitions.iter().map(|&(a, b)| Item::Transition(a, b)))
            .chain(run.lines.iter().map(|l| Item::Line(l.clone())));
        let mut new = Vec::new();
        for item in items {
            let n = self.hits.entry(item.clone()).or_insert(0);
            if *n == 0 {
                new.push(item);
            }
            *n += 1;
        }
        new
    }

    /// A parent drawn by weight: each corpus schedule weighs the sum, over
    /// the items it found, of how rare they are now.
    fn parent(&self, rng: &mut crate::sim::rng::Rng) -> &[Draw] {
        let weight = |items: &[Item]| -> u64 {
            items
                .iter()
                .map(|i| WEIGHT_SCALE / self.hits.get(i).copied().unwrap_or(1).max(1))
                .sum::<u64>()
                .max(1)
        };
        let weights: Vec<u64> = self.schedules.iter().map(|(_, i)| weight(i)).collect();
        let total: u64 = weights.iter().sum();
        let mut pick = rng.random_range(0..total);
        for ((schedule, _), w) in self.schedules.iter().zip(&weights) {
            if pick < *w {
                return schedule;
            }
            pick -= w;
        }
        &self.schedules[self.schedules.len() - 1].0
    }
}

/// A guided sweep over `seeds` (no shards: a corpus is the whole
/// campaign's), summarised as [`super::sweep`] summarises.
pub fn sweep(
    plan: &Plan,
    text: &str,
    cfg: &FuzzConfig,
    seeds: &Seeds,
    jobs: usize,
    keep_going: &(dyn Fn(Stage) -> bool + Sync),
    progress: &(dyn Fn(Phase) + Sync),
) -> Summary {
    let n_targets = targets(plan).len().max(1);
    let mut corpus = Corpus::default();
    let mut results: Vec<SeedResult> = Vec::new();
    let mut failed = 0;
    let total = seeds.len();
    let mut k = 0;
    while k < total && keep_going(Stage::Seeds) {
        let batch: Vec<u64> = (k..(k + BATCH).min(total))
            .filter_map(|i| seeds.get(i))
            .collect();
        k += batch.len() as u64;
        // Each seed's schedule, from the corpus as it stands now.
        let schedules: Vec<Vec<Draw>> = batch
            .iter()
            .map(|&seed| {
                let mut rng = crate::sim::rng::stream(seed, "guided");
                if corpus.schedules.is_empty() || rng.random_bool(FRESH) {
                    tree_for(cfg, n_targets, seed).current()
                } else {
                    mutate(corpus.parent(&mut rng), cfg, n_targets, &mut rng)
                }
            })
            .collect();
        let runs: Vec<(u64, &Vec<Draw>)> = batch.iter().copied().zip(&schedules).collect();
        let ran = super::in_parallel(&runs, jobs, |&(seed, schedule)| {
            let checked = check_recorded(&with_schedule(plan, cfg, schedule), seed, cfg);
            let failure = failure_of(&checked, seed, schedule.clone());
            (seed, checked, failure)
        });
        for (r, schedule) in ran.into_iter().zip(schedules) {
            let new = corpus.learn(&r.1.reached);
            if !new.is_empty() {
                corpus.schedules.push((schedule, new));
            }
            failed += u64::from(r.2.is_some());
            results.push(r);
        }
        progress(Phase::Seeds {
            done: results.len() as u64,
            total,
            failed,
        });
    }
    let workers = Workers {
        jobs,
        keep_going,
        progress,
    };
    let mut summary = summarise(plan, text, cfg, seeds, results, &workers);
    summary.campaign.guided = true;
    summary
}

/// One to three mutations of `parent`.
fn mutate(
    parent: &[Draw],
    cfg: &FuzzConfig,
    n_targets: usize,
    rng: &mut crate::sim::rng::Rng,
) -> Vec<Draw> {
    let stop = cfg.faults_stop.max(ms(1));
    let mut s = parent.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let fresh = |rng: &mut crate::sim::rng::Rng| Draw {
            at: rng.random_range(0..stop),
            kind: cfg.kinds[rng.random_range(0..cfg.kinds.len())],
            node: rng.random_range(0..n_targets),
            side: rng.next_u32(),
            duration: rng.random_range(ms(100)..ms(30_000)),
        };
        if s.is_empty() {
            s.push(fresh(rng));
            continue;
        }
        let i = rng.random_range(0..s.len());
        match rng.random_range(0..7) {
            // Move a fault by up to 5 s either way.
            0 => {
                let by = rng.random_range(0..ms(10_000)) as i64 - ms(5_000) as i64;
                s[i].at = (s[i].at as i64 + by).clamp(0, stop as i64 - 1) as Micros;
            }
            1 if s.len() < cfg.max_faults => s.push(fresh(rng)),
            2 if s.len() > 1 => {
                s.remove(i);
            }
            3 => s[i].kind = cfg.kinds[rng.random_range(0..cfg.kinds.len())],
            4 => {
                s[i].node = rng.random_range(0..n_targets);
                s[i].side = rng.next_u32();
            }
            // Bring a fault closer to the one before it.
            5 => {
                let before = s.iter().map(|d| d.at).filter(|&t| t < s[i].at).max();
                if let Some(b) = before {
                    s[i].at = b + (s[i].at - b) / 2;
                }
            }
            _ => {
                let d = s[i].duration;
                s[i].duration =
                    if rng.random_bool(0.5) { d / 2 } else { d * 2 }.clamp(ms(100), ms(30_000) - 1);
            }
        }
    }
    s.sort_by_key(|d| d.at);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::FaultKind;

    fn cfg() -> FuzzConfig {
        FuzzConfig {
            kinds: vec![FaultKind::Kill, FaultKind::Pause],
            max_faults: 3,
            faults_stop: ms(20_000),
            properties: Vec::new(),
            never_prints: Vec::new(),
            bounds: Default::default(),
            shrink: false,
        }
    }

    /// Mutants stay schedules a sweep could draw: within the fault window,
    /// of the configured kinds and targets, at most max-faults, in time
    /// order, with durations a drawn fault can have.
    #[test]
    fn mutants_stay_within_what_a_sweep_draws() {
        let cfg = cfg();
        let parent = vec![Draw {
            at: ms(5_000),
            kind: FaultKind::Kill,
            node: 1,
            side: 0,
            duration: ms(2_000),
        }];
        for seed in 0..500 {
            let mut rng = crate::sim::rng::stream(seed, "guided");
            let m = mutate(&parent, &cfg, 3, &mut rng);
            assert!(!m.is_empty() && m.len() <= cfg.max_faults, "{m:?}");
            assert!(m.windows(2).all(|w| w[0].at <= w[1].at));
            for d in &m {
                assert!(d.at < cfg.faults_stop);
                assert!(cfg.kinds.contains(&d.kind));
                assert!(d.node < 3);
                assert!((ms(100)..ms(30_000)).contains(&d.duration), "{d:?}");
            }
        }
    }

    /// The corpus learns a run only for what is new to it.
    #[test]
    fn a_run_joins_the_corpus_only_for_something_new() {
        let mut c = Corpus::default();
        let mut run = RunCoverage::default();
        run.lines.insert("+sdown".into());
        assert_eq!(c.learn(&run), [Item::Line("+sdown".into())]);
        assert!(c.learn(&run).is_empty());
        run.lines.insert("+odown".into());
        assert_eq!(c.learn(&run), [Item::Line("+odown".into())]);
        run.states.insert(Abstract::Down);
        assert_eq!(c.learn(&run), [Item::State(Abstract::Down)]);
        assert!(c.learn(&run).is_empty());
        assert_eq!(c.hits[&Item::Line("+sdown".into())], 5);
        assert_eq!(c.hits[&Item::State(Abstract::Down)], 2);
    }

    /// Parents are drawn in proportion to how rare what they found is: a
    /// schedule that found an item one run in 1,000 reached is drawn about
    /// 1,000 times as often as one whose item every run reached.
    #[test]
    fn parents_that_found_rare_items_are_mutated_more() {
        let draw = |at| Draw {
            at,
            kind: FaultKind::Kill,
            node: 0,
            side: 0,
            duration: ms(1_000),
        };
        let (common, rare) = (Item::Line("+sdown".into()), Item::Line("+tilt".into()));
        let mut c = Corpus::default();
        c.hits.insert(common.clone(), 1_000);
        c.hits.insert(rare.clone(), 1);
        c.schedules.push((vec![draw(1)], vec![common]));
        c.schedules.push((vec![draw(2)], vec![rare]));
        let mut rng = crate::sim::rng::stream(7, "guided");
        let rare_picks = (0..10_000)
            .filter(|_| c.parent(&mut rng)[0].at == 2)
            .count();
        // Expected 10,000 × 1000/1001 ≈ 9,990.
        assert!((9_950..=10_000).contains(&rare_picks), "{rare_picks}");
    }
}
