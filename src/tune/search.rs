//! The bounded cutoff search behind `strass tune`.
//!
//! For each (dtype, leaf, threads) job, square products of one size are timed with every
//! candidate cutoff that gives a distinct number of recursion levels at that size, interleaved
//! (c1 c2 c3 c1 c2 c3 ...), and the cutoff with the smallest median wins. The time budget is
//! split evenly over the jobs still to run; each job picks the largest size whose estimated cost
//! fits its share (unless the size is given), and stops taking repetitions when its share is
//! spent (always after at least one round). So the whole search overruns its budget by at most
//! one round of one job.

use super::measure::{gemm_flops, interleaved, random_matrix, Timings};
use super::{leaf_name, TuneEntry};
use crate::kernel::{Element, Engine, Leaf, MatMut, MatRef};
use std::time::{Duration, Instant};

/// Candidate cutoffs tried by default (those above the tuning size are dropped, and the size
/// itself, meaning "no recursion", is added).
pub const DEFAULT_CUTOFFS: [usize; 6] = [128, 256, 512, 1024, 2048, 4096];
/// Sizes the automatic choice picks from, largest first.
pub const AUTO_SIZES: [usize; 5] = [4096, 2048, 1024, 512, 256];

/// One thing to tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// The leaf GEMM.
    pub leaf: Leaf,
    /// Engine threads.
    pub threads: usize,
}

/// Settings of a search.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total time allowed.
    pub budget: Duration,
    /// Square size to time; `None` picks one per job from [`AUTO_SIZES`] to fit the budget.
    pub size: Option<usize>,
    /// Candidate cutoffs; `None` means [`DEFAULT_CUTOFFS`].
    pub cutoffs: Option<Vec<usize>>,
    /// Repetitions per candidate at most (the median is taken); at least 1 always runs.
    pub max_reps: usize,
    /// Repetitions the automatic size choice plans for.
    pub planned_reps: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            budget: Duration::from_secs(60),
            size: None,
            cutoffs: None,
            max_reps: 7,
            planned_reps: 3,
        }
    }
}

/// Progress reported while searching.
#[derive(Debug, Clone)]
pub enum Event {
    /// A job starts: its size and the candidate cutoffs.
    JobStart {
        /// The job.
        job: Job,
        /// Matrix size chosen.
        size: usize,
        /// Candidates (one per distinct level count).
        cutoffs: Vec<usize>,
    },
    /// One round (every candidate once) of the current job is done.
    Round {
        /// Rounds done in this job.
        done: usize,
        /// Rounds planned at most.
        max: usize,
    },
    /// A job is done.
    JobDone(TuneEntry),
}

/// The engine for a candidate.
fn engine(job: Job, cutoff: usize) -> Engine {
    Engine::new()
        .leaf(job.leaf)
        .threads(job.threads)
        .cutoff(cutoff)
}

/// One product `C = A B` of `n x n` matrices with this engine.
fn multiply<T: Element>(e: &Engine, a: &[T], b: &[T], c: &mut [T], n: usize) -> crate::Result<()> {
    e.gemm(
        T::ONE,
        MatRef::row_major(a, n, n)?,
        MatRef::row_major(b, n, n)?,
        T::ZERO,
        MatMut::row_major(c, n, n)?,
    )
}

/// The leaf GEMM's speed (flop/s) without recursion, from timed products at size 256.
fn leaf_rate<T: Element>(job: Job) -> crate::Result<f64> {
    let probe = 256usize;
    let (a, b) = (
        random_matrix::<T>(probe, probe, 1),
        random_matrix::<T>(probe, probe, 2),
    );
    let mut c = vec![T::ZERO; probe * probe];
    let e = engine(job, usize::MAX);
    multiply(&e, &a, &b, &mut c, probe)?; // warm-up
    let t0 = Instant::now();
    let mut runs = 0;
    while runs < 3 || t0.elapsed() < Duration::from_millis(50) {
        multiply(&e, &a, &b, &mut c, probe)?;
        runs += 1;
    }
    Ok(gemm_flops(probe, probe, probe) * runs as f64 / t0.elapsed().as_secs_f64())
}

/// The candidates at size `n`: the given cutoffs not above `n`, plus `n` itself, keeping the
/// smallest cutoff for each distinct level count.
fn candidates<T: Element>(job: Job, n: usize, cutoffs: &[usize]) -> Vec<usize> {
    let mut all: Vec<usize> = cutoffs
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < n)
        .collect();
    all.push(n.max(1));
    all.sort_unstable();
    all.dedup();
    let mut seen = Vec::new();
    all.into_iter()
        .filter(|&c| {
            let levels = engine(job, c).levels_for::<T>(n, n, n);
            if seen.contains(&levels) {
                false
            } else {
                seen.push(levels);
                true
            }
        })
        .collect()
}

fn run_job<T: Element>(
    job: Job,
    opts: &Options,
    budget: Duration,
    progress: &mut dyn FnMut(Event),
) -> crate::Result<TuneEntry> {
    let start = Instant::now();
    let cutoffs = opts.cutoffs.clone().unwrap_or(DEFAULT_CUTOFFS.to_vec());
    let size = match opts.size {
        Some(n) => n,
        None => {
            let planned = opts.planned_reps.max(1) as f64;
            let rate = leaf_rate::<T>(job)?;
            let mut chosen = *AUTO_SIZES.last().unwrap_or(&256);
            for &n in &AUTO_SIZES {
                let cands = candidates::<T>(job, n, &cutoffs).len() as f64;
                // Recursion does not make a product slower than the leaf alone by much; plan
                // with the leaf's time per candidate.
                if gemm_flops(n, n, n) / rate * cands * planned <= budget.as_secs_f64() {
                    chosen = n;
                    break;
                }
            }
            chosen
        }
    };
    if size == 0 {
        return Err(crate::Error::Config(
            "tuning size must be at least 1".into(),
        ));
    }
    let cands = candidates::<T>(job, size, &cutoffs);
    progress(Event::JobStart {
        job,
        size,
        cutoffs: cands.clone(),
    });
    let a = random_matrix::<T>(size, size, 11);
    let b = random_matrix::<T>(size, size, 12);
    let c = std::cell::RefCell::new(vec![T::ZERO; size * size]);
    // Clones of one engine share one cached workspace and one thread pool.
    let base = engine(job, usize::MAX);
    let engines: Vec<Engine> = cands.iter().map(|&k| base.clone().cutoff(k)).collect();
    let mut runs: Vec<Box<dyn FnMut() -> crate::Result<()> + '_>> = engines
        .iter()
        .map(|e| {
            let (a, b, c) = (&a, &b, &c);
            Box::new(move || multiply(e, a, b, &mut c.borrow_mut(), size))
                as Box<dyn FnMut() -> crate::Result<()>>
        })
        .collect();
    let mut refs: Vec<&mut dyn FnMut() -> crate::Result<()>> =
        runs.iter_mut().map(|r| &mut **r as _).collect();
    let max = opts.max_reps.max(1);
    let mut round_start = Instant::now();
    let mut longest = Duration::ZERO;
    let timings: Vec<Timings> = interleaved(&mut refs, 0, max, |done| {
        longest = longest.max(round_start.elapsed());
        progress(Event::Round { done, max });
        round_start = Instant::now();
        // Another round only if it fits in what is left of this job's share.
        start.elapsed() + longest <= budget
    })?;
    let rounds = timings.iter().map(|t| t.samples.len()).min().unwrap_or(0);
    progress(Event::Round { done: rounds, max });
    let medians: Vec<(usize, f64)> = cands
        .iter()
        .zip(&timings)
        .map(|(&k, t)| (k, t.median_wall()))
        .collect();
    let &(cutoff, seconds) = medians
        .iter()
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .ok_or_else(|| crate::Error::Config("no candidate cutoff to time".into()))?;
    let entry = TuneEntry {
        dtype: job.dtype.into(),
        leaf: leaf_name(job.leaf).into(),
        threads: job.threads,
        cutoff,
        size,
        seconds,
        candidates: medians,
    };
    progress(Event::JobDone(entry.clone()));
    Ok(entry)
}

/// Runs the jobs within the budget and returns one entry per job, in order.
pub fn search(
    jobs: &[Job],
    opts: &Options,
    progress: &mut dyn FnMut(Event),
) -> crate::Result<Vec<TuneEntry>> {
    let start = Instant::now();
    let mut out = Vec::with_capacity(jobs.len());
    for (i, &job) in jobs.iter().enumerate() {
        let left = opts.budget.saturating_sub(start.elapsed());
        let share = left / (jobs.len() - i) as u32;
        let entry = match job.dtype {
            "f32" => run_job::<f32>(job, opts, share, progress)?,
            "f64" => run_job::<f64>(job, opts, share, progress)?,
            other => {
                return Err(crate::Error::Config(format!(
                    "unknown dtype `{other}` (expected f32 or f64)"
                )))
            }
        };
        out.push(entry);
    }
    Ok(out)
}
