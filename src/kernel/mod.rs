//! The recursive kernel: the configurable [`Engine`] behind [`crate::strassen_mul`] and the
//! other drop-in functions of [`crate::api`].
//!
//! The kernel is split the way BLIS splits a GEMM: a frame that knows the algorithm and nothing
//! about the machine, and small machine-specific routines that know nothing about the algorithm.
//!
//! * `view.rs`: strided views ([`MatRef`], [`MatMut`]), checked once at the API boundary.
//! * `recurse.rs`: the recursion over a [`Plan`](crate::plan): block splitting, dynamic
//!   peeling of odd sizes, the addition schedule, breadth-first threading.
//! * `workspace.rs`: the single workspace allocated before the recursion starts.
//! * `simd/`: fused linear combinations of matrices (AVX-512F, AVX2+FMA, portable), chosen at run
//!   time.
//! * `leaf.rs`: the leaf interface, one product contract
//!   `C_i = gamma_i (sum_j alpha_j A_j)(sum_l beta_l B_l) + beta_i C_i`, implemented natively by
//!   strass's packed GEMM ([`fused`], the default leaf) and with temporaries by matrixmultiply
//!   and OpenBLAS (`blas.rs`, feature `openblas`).
//! * [`policy`]: how many levels a shape runs (resolved once per engine, no I/O per call).
//! * [`cost`]: with several candidate schemes, which one each level runs (a cost model decided
//!   once per call, before the recursion).
//! * `isa.rs`: the one instruction-set choice ([`Isa`]) of the additions and the packed GEMM.
//!
//! # Numerical behaviour
//! Fast schemes trade a little accuracy for speed. For Strassen's scheme with `n = 2^q`, recursion
//! down to blocks of size `n0` and classical products there, Higham (*Accuracy and Stability of
//! Numerical Algorithms*, 2nd ed., Thm. 23.2) bounds the error in the max norm by
//! `||C - Ĉ|| <= [(n/n0)^log2(12) (n0^2 + 5 n0) - 5 n] u ||A|| ||B|| + O(u^2)`:
//! each level multiplies the classical bound by about 12/4 = 3.
//!
//! The tests (`tests/common/mod.rs`, `bound_units`) check every result against the same bound
//! generalised to any scheme `<m0,k0,n0>` and `l` levels:
//!
//! `||C - Ĉ||_max <= 2 [ g^l (k_l^2 + t k_l) + k^2 ] u ||A||_max ||B||_max`
//!
//! with `g = max_i sum_r |w_ir| ||u_r||_1 ||v_r||_1` the scheme's growth factor (12 for
//! Strassen, 18 for Winograd, `k0` for a classical scheme), `t` its additions per level, `k_l =
//! ceil(k / k0^l)` the leaf's inner dimension, `k^2` covering the classically computed peeled
//! edges, and the factor 2 covering second-order terms (plus `4u (|alpha| k + |beta| ||C0||)` for
//! alpha and beta). `bench-results/kernel.md` reports the measured relative error per level,
//! which is far below this worst case.
//!
//! Special values: the classical product computes every `c_ij` from row `i` of A and column `j`
//! of B only. A fast scheme forms sums and differences of blocks first, so an `Inf` or `NaN` in
//! one entry of A or B spreads to every entry of C whose computation touches that block sum, and
//! `Inf - Inf` can turn into `NaN` where the classical product gives `±Inf`. Finite inputs whose
//! products overflow can likewise produce `NaN` instead of `Inf`. When every input is finite and no
//! intermediate overflows, the result is finite. With `beta = 0`, C's old contents are never read
//! (old NaNs do not leak); with `alpha = 0`, A and B are not read (C = beta C).

mod altbasis;
#[cfg(feature = "openblas")]
pub mod blas;
pub mod cache;
pub mod cost;
pub mod fused;
mod isa;
mod leaf;
pub mod policy;
pub mod profile;
mod recurse;
mod simd;
mod thin;
pub(crate) mod view;
mod workspace;

pub use cost::{CostModel, LevelChoice};
pub use isa::Isa;
pub use policy::{Policy, PolicyEntry};
pub use view::{MatMut, MatRef};

use crate::plan::Plan;
use crate::scheme::Scheme;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};
use std::sync::{Arc, OnceLock};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type the kernel supports (`f32`, `f64`).
pub trait Element:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialEq
    + PartialOrd
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// `"f32"` or `"f64"`.
    const DTYPE: &'static str;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Unit roundoff `u` (half the machine epsilon).
    const UNIT_ROUNDOFF: f64;
    /// Converts an integer scheme coefficient.
    fn from_i64(c: i64) -> Self;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! impl_element {
    ($t:ty, $name:literal) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const UNIT_ROUNDOFF: f64 = <$t>::EPSILON as f64 / 2.0;
            fn from_i64(c: i64) -> Self {
                c as $t
            }
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    };
}
impl_element!(f32, "f32");
impl_element!(f64, "f64");

/// The leaf GEMM the recursion ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Leaf {
    /// The `matrixmultiply` crate (pure Rust; single-threaded per call, the engine splits
    /// leaves over threads).
    MatrixMultiply,
    /// System OpenBLAS (`openblas` feature).
    #[cfg(feature = "openblas")]
    OpenBlas,
    /// strass's own packed GEMM ([`fused`], the default), which also absorbs the additions of
    /// the last recursion level: each product of that level is one call that packs the sums of A and B
    /// blocks directly and adds the product tile to every C block it feeds, with no temporaries.
    Fused,
}

/// How the last recursion level (the one whose products go to the leaf GEMM) forms its operand
/// sums and writes its products into C. The levels above it always form their sums explicitly
/// (written once into the workspace) and scatter each product from one C block or temporary:
/// their products are themselves recursions, with no packing step to fold the sums into.
///
/// With a classical leaf ([`Leaf::MatrixMultiply`], OpenBLAS) there is no packing to fold sums
/// into either: [`Variant::MultiOutput`] and [`Variant::Packed`] then write the sums into
/// temporaries as [`Variant::Explicit`] does, and differ only in where the product goes first.
/// `bench-results/profile.md` measures the three side by side.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Variant {
    /// ABC: one product-contract call per product; with the packed leaf the sums of A and B
    /// blocks are formed while packing and every micro-tile is added to each C block the
    /// product feeds, from registers (no temporaries, no scatter pass). The default.
    #[default]
    MultiOutput,
    /// AB: the sums are formed while packing as with `MultiOutput`, but the product is written
    /// to one destination only (the C block the schedule writes first, or a temporary); one
    /// scatter pass then adds it to the other C blocks it feeds.
    Packed,
    /// Explicit: the sums are written once into workspace temporaries, one plain leaf GEMM
    /// computes the product into one destination, and a scatter pass adds it to the others
    /// (what the upper levels do).
    Explicit,
}

/// Errors from the kernel: bad shapes, strides, options, or allocation failure.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// Slice lengths, dimensions, or strides are inconsistent.
    #[error("shape error: {0}")]
    Shape(String),
    /// An option (cutoff, levels, threads, scheme) is invalid.
    #[error("invalid option: {0}")]
    Option(String),
    /// The workspace could not be allocated.
    #[error("cannot allocate a workspace of {bytes} bytes")]
    Alloc {
        /// Requested size.
        bytes: usize,
    },
    /// An internal invariant failed (a bug in strass; please report it).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The built-in cutoff for element type `T` with the default leaf ([`Leaf::Fused`]); see
/// [`policy::builtin_cutoff`] for the other leaves.
pub fn default_cutoff<T: Element>() -> usize {
    policy::builtin_cutoff(T::DTYPE, Leaf::Fused)
}

/// The plan [`Engine::new`] uses: the shipped learned scheme if present, else Strassen's, both
/// compiled at build time.
fn default_plan() -> Arc<Plan> {
    static PLAN: OnceLock<Arc<Plan>> = OnceLock::new();
    PLAN.get_or_init(|| {
        let plan = Plan::shipped("learned")
            .or_else(|| Plan::shipped("strassen"))
            .unwrap_or_else(|| Plan::compile_unchecked(&Scheme::strassen()));
        Arc::new(plan)
    })
    .clone()
}

/// The shipped learned schemes beyond 2x2, every orientation of each, compiled once.
fn learned_plans() -> &'static [Arc<Plan>] {
    static PLANS: OnceLock<Vec<Arc<Plan>>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let mut out = Vec::new();
        for name in crate::scheme::shipped_names() {
            let Some(s) = Scheme::shipped(name) else {
                continue;
            };
            if !name.starts_with("learned-") || s.dims() == (2, 2, 2) {
                continue;
            }
            // Shipped schemes are verified at build time and their orientations are exact by
            // construction (scheme::orient tests every shipped scheme): a failure is a bug.
            let all = crate::scheme::orientations(&s).expect("a shipped scheme is well-formed");
            for o in all {
                let plan = match Plan::shipped(name) {
                    Some(p) if o.dims() == s.dims() => p,
                    _ => Plan::compile(&o).expect("orientations of a shipped scheme are exact"),
                };
                out.push(Arc::new(plan));
            }
        }
        out
    })
}

/// Thread count from `STRASS_NUM_THREADS`, else all cores; a bad value is reported by `gemm`.
fn default_threads() -> Result<usize, String> {
    match std::env::var("STRASS_NUM_THREADS") {
        Ok(s) if !s.trim().is_empty() => match s.trim().parse::<usize>() {
            Ok(p) if p >= 1 => Ok(p),
            _ => Err(format!(
                "STRASS_NUM_THREADS={s:?} is not a positive integer"
            )),
        },
        _ => Ok(std::thread::available_parallelism().map_or(1, |p| p.get())),
    }
}

/// Most threads an engine accepts.
pub const MAX_THREADS: usize = 1024;

/// The configurable engine: scheme, cutoff, levels, leaf GEMM and threads.
///
/// ```
/// use strass::{Engine, MatRef, MatMut};
/// let (a, b) = (vec![1.0f64; 6], vec![2.0f64; 12]);
/// let mut c = vec![0.0f64; 8];
/// let engine = Engine::new().cutoff(64).threads(1);
/// engine.gemm(1.0, MatRef::row_major(&a, 2, 3)?, MatRef::row_major(&b, 3, 4)?, 0.0,
///             MatMut::row_major(&mut c, 2, 4)?)?;
/// assert_eq!(c, vec![6.0; 8]);
/// # Ok::<(), strass::Error>(())
/// ```
///
/// The engine does all threading itself: leaves are single-threaded calls (matrixmultiply is
/// built without its own threading; the OpenBLAS leaf sets OpenBLAS to one thread, process-wide,
/// at its first use). The engine never changes the process environment.
///
/// How many levels a shape runs is decided by the engine's [`Policy`] (see [`policy`] for the
/// rule); [`Engine::new`] uses the built-in cutoffs, [`Engine::tuned`] (and
/// [`crate::strassen_mul`]) the tuning file's where it has them.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The candidate plans, at least one; with one and no cost model every level runs it.
    plans: Arc<Vec<Arc<Plan>>>,
    /// The cost model choosing per node among `plans` and the leaf ([`cost`]); `None`: the
    /// cutoff rule with `plans[0]`.
    model: Option<CostModel>,
    cutoff: Option<usize>,
    policy: Arc<Policy>,
    max_levels: usize,
    leaf: Leaf,
    variant: Variant,
    /// An alternative basis's maps: `plans` then holds its core ([`Engine::alt_basis`]).
    alt: Option<Arc<altbasis::Maps>>,
    threads: Result<usize, String>,
    pin: bool,
    pool: Arc<OnceLock<Result<Arc<rayon::ThreadPool>, String>>>,
    cache: Arc<workspace::Cache>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// The shipped default scheme, the built-in policy ([`Policy::builtin`]), no level limit,
    /// strass's packed GEMM as leaf ([`Leaf::Fused`]), and `STRASS_NUM_THREADS` threads
    /// (default: all cores; read here, once).
    pub fn new() -> Engine {
        Engine {
            plans: Arc::new(vec![default_plan()]),
            model: None,
            cutoff: None,
            policy: Arc::new(Policy::builtin()),
            max_levels: usize::MAX,
            leaf: Leaf::Fused,
            variant: Variant::default(),
            alt: None,
            threads: default_threads(),
            pin: false,
            pool: Arc::new(OnceLock::new()),
            cache: Arc::new(workspace::Cache::default()),
        }
    }

    /// Uses `s` (verified exactly here: an invalid scheme is refused), compiled to a plan now,
    /// at every level, with the cutoff rule alone deciding how many (no cost model: this undoes
    /// [`Engine::with_schemes`] and [`Engine::cost_model`]).
    pub fn with_scheme(mut self, s: &Scheme) -> Result<Engine, crate::Error> {
        self.plans = Arc::new(vec![Arc::new(Plan::compile(s)?)]);
        self.model = None;
        self.alt = None;
        Ok(self)
    }

    /// Runs the alternative-basis scheme `b` (Karstadt and Schwartz's method; see
    /// [`crate::scheme::altbasis`]): A and B are transformed once by its maps `phi` and `psi` at
    /// every level the cutoff rule allows, its sparse core runs those levels with no
    /// transforms inside, and the result is transformed once by `nu`. The levels follow the
    /// cutoff rule as with any `<2,2,2>` scheme (no cost model); the peeled remainders are
    /// computed classically from the original A and B. Needs three more matrices of workspace
    /// (the transformed A, B and C). Only `<2,2,2>` alternative bases are accepted; the core's
    /// plan is what [`Engine::plan`] then returns.
    pub fn alt_basis(
        mut self,
        b: &crate::scheme::altbasis::AltBasis,
    ) -> Result<Engine, crate::Error> {
        let maps = altbasis::Maps::of(b)?;
        self.plans = Arc::new(vec![Arc::new(Plan::compile_core(b.core())?)]);
        self.model = None;
        self.alt = Some(Arc::new(maps));
        Ok(self)
    }

    /// Chooses per level among `schemes` (each verified exactly and compiled now; at least one)
    /// and the leaf GEMM by the cost model ([`cost`]; the default [`CostModel`] unless one was
    /// set with [`Engine::cost_model`]). Only a level the cutoff rule allows is considered. Give
    /// each orientation a scheme should serve ([`crate::scheme::orientations`]).
    pub fn with_schemes(mut self, schemes: &[Scheme]) -> Result<Engine, crate::Error> {
        if schemes.is_empty() {
            return Err(
                KernelError::Option("with_schemes needs at least one scheme".into()).into(),
            );
        }
        let plans = schemes
            .iter()
            .map(|s| Plan::compile(s).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        self.plans = Arc::new(plans);
        self.model.get_or_insert_with(CostModel::default);
        self.alt = None;
        Ok(self)
    }

    /// Chooses per level, by the cost model, among the engine's current default scheme (the
    /// first candidate) and every shipped `learned-*` scheme beyond 2x2 in each of its
    /// orientations (`<2,3,4;20>` also serves `<4,3,2>`, `<3,4,2>`, ...). The plans are
    /// compiled once per process.
    pub fn learned_schemes(mut self) -> Engine {
        // An alternative basis's core is not a scheme by itself: start from the default then.
        let first = if self.alt.take().is_some() {
            default_plan()
        } else {
            self.plans[0].clone()
        };
        let mut plans = vec![first];
        plans.extend(learned_plans().iter().cloned());
        self.plans = Arc::new(plans);
        self.model.get_or_insert_with(CostModel::default);
        self
    }

    /// Uses `model` to choose per level among the candidates and the leaf (also with a single
    /// candidate: then the model decides whether a level the cutoff allows pays). Invalid
    /// constants are reported by `gemm`.
    pub fn cost_model(mut self, model: CostModel) -> Engine {
        self.model = Some(model);
        self
    }

    /// The cost model, if the engine chooses by one.
    pub fn cost_model_ref(&self) -> Option<&CostModel> {
        self.model.as_ref()
    }

    /// The candidate plans (the first is [`Engine::plan`]).
    pub fn candidates(&self) -> &[Arc<Plan>] {
        &self.plans
    }

    /// Blocks below `c` in any dimension go to the leaf GEMM (must be at least 1; checked by
    /// `gemm`).
    pub fn cutoff(mut self, c: usize) -> Engine {
        self.cutoff = Some(c);
        self
    }

    /// The cutoffs used when none is set with [`Engine::cutoff`].
    pub fn policy(mut self, p: Policy) -> Engine {
        self.policy = Arc::new(p);
        self
    }

    /// The engine's policy.
    pub fn policy_ref(&self) -> &Policy {
        &self.policy
    }

    /// At most `l` levels of recursion (0: always the leaf GEMM).
    pub fn max_levels(mut self, l: usize) -> Engine {
        self.max_levels = l;
        self
    }

    /// The leaf GEMM.
    pub fn leaf(mut self, l: Leaf) -> Engine {
        self.leaf = l;
        self
    }

    /// How the last recursion level forms its sums and outputs (see [`Variant`]; default
    /// [`Variant::MultiOutput`]).
    pub fn variant(mut self, v: Variant) -> Engine {
        self.variant = v;
        self
    }

    /// The last level's variant.
    pub fn variant_kind(&self) -> Variant {
        self.variant
    }

    /// `p` threads (1 to [`MAX_THREADS`]; checked by `gemm`).
    pub fn threads(mut self, p: usize) -> Engine {
        self.threads = Ok(p);
        self.pool = Arc::new(OnceLock::new());
        self
    }

    /// Pins the pool's threads to cores (thread `i` to core `i mod cores`).
    pub fn pin_threads(mut self, yes: bool) -> Engine {
        self.pin = yes;
        self.pool = Arc::new(OnceLock::new());
        self
    }

    /// Frees the workspace the engine keeps between calls (and its clones share). Each call needs
    /// a workspace (see [`Engine::workspace_bytes`]); the largest one is kept for the next call
    /// so that repeated products do not fault in fresh memory every time.
    pub fn release_workspace(&self) {
        self.cache.clear();
    }

    /// Bytes of workspace the engine currently keeps between calls.
    pub fn retained_workspace_bytes(&self) -> usize {
        self.cache.held()
    }

    /// The compiled plan of the engine's scheme (with several candidates, the first).
    pub fn plan(&self) -> &Plan {
        &self.plans[0]
    }

    /// The leaf GEMM.
    pub fn leaf_kind(&self) -> Leaf {
        self.leaf
    }

    /// The thread count, or why it is invalid.
    pub fn thread_count(&self) -> Result<usize, crate::Error> {
        match &self.threads {
            Ok(p) if (1..=MAX_THREADS).contains(p) => Ok(*p),
            Ok(p) => Err(KernelError::Option(format!(
                "threads = {p}: must be between 1 and {MAX_THREADS}"
            ))
            .into()),
            Err(e) => Err(KernelError::Option(e.clone()).into()),
        }
    }

    /// The cutoff used for element type `T`: the explicit one, else the policy's for the dtype,
    /// leaf and thread count (see [`policy`]).
    pub fn cutoff_for<T: Element>(&self) -> usize {
        self.cutoff.unwrap_or_else(|| {
            let p = self.thread_count().unwrap_or(1);
            self.policy.cutoff(T::DTYPE, self.leaf, p)
        })
    }

    /// The recursion's context for an `m x k x n` product of `T`: with a cost model, the
    /// choice of every node below the root is decided here, once.
    fn ctx<T: Element>(
        &self,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<recurse::Ctx<'_>, crate::Error> {
        let cutoff = self.cutoff_for::<T>();
        if cutoff == 0 {
            return Err(KernelError::Option("cutoff = 0: must be at least 1".into()).into());
        }
        let table = match &self.model {
            None => None,
            Some(model) => {
                model.validate().map_err(KernelError::Option)?;
                let chooser = cost::Chooser {
                    model,
                    plans: &self.plans,
                    dtype: T::DTYPE,
                    leaf: self.leaf,
                    cutoff,
                    max_levels: self.max_levels,
                };
                Some(chooser.table(m, k, n))
            }
        };
        let mut ctx = recurse::Ctx {
            plans: &self.plans,
            table,
            cutoff,
            max_levels: self.max_levels,
            leaf: self.leaf,
            variant: self.variant,
            isa: Isa::selected(),
        };
        // The built-in policy's smallest upper-level block (policy module docs), where it has
        // one; an explicit cutoff or a cost model decides alone.
        let threads = self.thread_count().unwrap_or(1);
        let upper = match (self.cutoff, &ctx.table) {
            (None, None) => self.policy.upper_cutoff(T::DTYPE, self.leaf, threads),
            _ => None,
        };
        if let Some(upper) = upper {
            let keep = policy::upper_levels(&ctx.chain(m, k, n), upper);
            ctx.max_levels = ctx.max_levels.min(keep);
        }
        Ok(ctx)
    }

    /// How many recursion levels an `m x k x n` product of `T` runs with this engine.
    pub fn levels_for<T: Element>(&self, m: usize, k: usize, n: usize) -> usize {
        match self.ctx::<T>(m, k, n) {
            Ok(c) => c.levels(m, k, n),
            Err(_) => 0,
        }
    }

    /// The levels an `m x k x n` product of `T` runs, top first: which scheme each one uses and
    /// the shape it splits (empty: the leaf GEMM on the whole product). The peeled remainders
    /// of a level go to the leaf and are not listed.
    pub fn level_choices<T: Element>(
        &self,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<Vec<LevelChoice>, crate::Error> {
        check_dims(m, k, n)?;
        let ctx = self.ctx::<T>(m, k, n)?;
        Ok(ctx
            .chain(m, k, n)
            .into_iter()
            .map(|(p, shape)| LevelChoice {
                scheme: p.name().to_string(),
                grid: p.dims(),
                rank: p.rank(),
                shape,
            })
            .collect())
    }

    /// Workspace bytes an `m x k x n` product of `T` allocates with this engine.
    pub fn workspace_bytes<T: Element>(
        &self,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<usize, crate::Error> {
        check_dims(m, k, n)?;
        let ctx = self.ctx::<T>(m, k, n)?;
        let p = self.thread_count()?;
        Ok(self.ws_len::<T>(&ctx, m, k, n, p) * std::mem::size_of::<T>())
    }

    /// Workspace elements of a product that recurses.
    fn ws_len<T: Element>(
        &self,
        ctx: &recurse::Ctx<'_>,
        m: usize,
        k: usize,
        n: usize,
        p: usize,
    ) -> usize {
        if !ctx.recurses(m, k, n, 0) {
            return 0;
        }
        match self.alt {
            Some(_) => altbasis::ws_len::<T>(ctx, m, k, n, p),
            None => ctx.ws_len::<T>(m, k, n, 0, p),
        }
    }

    fn pool(&self, p: usize) -> Result<Arc<rayon::ThreadPool>, crate::Error> {
        let pin = self.pin;
        self.pool
            .get_or_init(|| {
                let cores = if pin {
                    core_affinity::get_core_ids().unwrap_or_default()
                } else {
                    Vec::new()
                };
                rayon::ThreadPoolBuilder::new()
                    .num_threads(p)
                    .thread_name(|i| format!("strass-{i}"))
                    .start_handler(move |i| {
                        if !cores.is_empty() {
                            core_affinity::set_for_current(cores[i % cores.len()]);
                        }
                    })
                    .build()
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| KernelError::Option(format!("cannot start {p} threads: {e}")).into())
    }

    /// `C = alpha A B + beta C`. With `beta == 0` C's old contents are ignored; with
    /// `alpha == 0` A and B are not read. Shapes, options and workspace allocation are checked
    /// and reported as errors; nothing is written to C unless all checks pass.
    pub fn gemm<T: Element>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<(), crate::Error> {
        let (m, k, n) = (a.rows(), a.cols(), b.cols());
        if b.rows() != k || c.rows() != m || c.cols() != n {
            return Err(KernelError::Shape(format!(
                "A is {}x{}, B is {}x{}, C is {}x{}: need A m x k, B k x n, C m x n",
                a.rows(),
                a.cols(),
                b.rows(),
                b.cols(),
                c.rows(),
                c.cols()
            ))
            .into());
        }
        check_dims(m, k, n)?;
        if let Some(cs) = c.span() {
            for (x, name) in [(a.span(), "A"), (b.span(), "B")] {
                if let Some(xs) = x {
                    if xs.0 <= cs.1 && cs.0 <= xs.1 {
                        return Err(
                            KernelError::Shape(format!("C overlaps {name} in memory")).into()
                        );
                    }
                }
            }
        }
        // SAFETY: the views were checked against their slices, C does not overlap itself
        // (MatMut::new) nor A or B (checked above), and we hold C's unique borrow.
        unsafe { self.gemm_unchecked(alpha, a.raw(), b.raw(), beta, c.raw()) }
    }

    /// [`Engine::gemm`] on raw views whose shapes agree and whose dimensions were checked.
    ///
    /// # Safety
    /// The views are valid with non-negative strides, C's elements are distinct and disjoint
    /// from A and B, and nothing else accesses C meanwhile.
    pub(crate) unsafe fn gemm_unchecked<T: Element>(
        &self,
        alpha: T,
        ar: view::RawRef<T>,
        br: view::RawRef<T>,
        beta: T,
        cr: view::RawMut<T>,
    ) -> Result<(), crate::Error> {
        let (m, k, n) = (ar.rows, ar.cols, br.cols);
        let p = self.thread_count()?;
        let ctx = self.ctx::<T>(m, k, n)?;
        for (r, cl, rs, cs, name) in [
            (ar.rows, ar.cols, ar.rs, ar.cs, "A"),
            (br.rows, br.cols, br.rs, br.cs, "B"),
            (cr.rows, cr.cols, cr.rs, cr.cs, "C"),
        ] {
            if !leaf::accepts(self.leaf, r, cl, rs.unsigned_abs(), cs.unsigned_abs()) {
                return Err(KernelError::Shape(format!(
                    "{name} ({r}x{cl}, strides {rs}, {cs}): the {:?} leaf needs a unit stride in one dimension",
                    self.leaf
                ))
                .into());
            }
        }
        if m == 0 || n == 0 {
            return Ok(());
        }
        prepare_leaf(self.leaf);
        let ow = beta == T::ZERO;
        let ws_len = if alpha == T::ZERO || k == 0 {
            0
        } else {
            self.ws_len::<T>(&ctx, m, k, n, p)
        };
        let bytes = ws_len
            .checked_mul(std::mem::size_of::<T>())
            .ok_or(KernelError::Alloc { bytes: usize::MAX })?;
        let mut ws = self.cache.take(bytes)?;
        let mut run = || -> Result<(), KernelError> {
            // SAFETY: the caller's contract; the workspace is ours.
            unsafe {
                if alpha == T::ZERO || k == 0 {
                    simd::scale(cr, beta, p);
                    return Ok(());
                }
                if !ctx.recurses(m, k, n, 0) {
                    return profile::timed(profile::Phase::Leaf, 0, || {
                        leaf::gemm(self.leaf, alpha, ar, br, beta, cr, p)
                    });
                }
                if !ow {
                    simd::scale(cr, beta, p);
                }
                let ws = ws.as_mut_slice(ws_len);
                match &self.alt {
                    Some(maps) => altbasis::gemm(&ctx, maps, alpha, ar, br, ow, cr, ws, p),
                    None => ctx.gemm(0, alpha, ar, br, ow, cr, ws, p),
                }
            }
        };
        let result = if p == 1 {
            run()
        } else {
            self.pool(p)?.install(run)
        };
        self.cache.give(ws);
        Ok(result?)
    }
}

/// Rejects dimensions whose products overflow (the flop count and every block size must fit).
pub(crate) fn check_dims(m: usize, k: usize, n: usize) -> Result<(), KernelError> {
    let ok = m.checked_mul(k).is_some()
        && k.checked_mul(n).is_some()
        && m.checked_mul(n).is_some()
        && m.checked_mul(k).and_then(|x| x.checked_mul(n)).is_some();
    if ok {
        Ok(())
    } else {
        Err(KernelError::Shape(format!(
            "dimensions {m} x {k} x {n} overflow usize"
        )))
    }
}

/// Makes the leaf library single-threaded (the engine does the threading).
fn prepare_leaf(leaf: Leaf) {
    #[cfg(feature = "openblas")]
    if leaf == Leaf::OpenBlas {
        blas::set_num_threads(1);
    }
    let _ = leaf;
}

pub(crate) fn named(e: KernelError, what: &str) -> KernelError {
    match e {
        KernelError::Shape(s) => KernelError::Shape(format!("{what}: {s}")),
        e => e,
    }
}
