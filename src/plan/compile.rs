//! The dependency-free core of the plan compiler: `(m, k, n, U, V, W) -> PlanData`.
//!
//! This file uses only `std` so that `build.rs` can include it by path and compile the shipped
//! schemes into static plans at build time; the library wraps it in [`super::Plan`].
//!
//! Vocabulary. One level of the recursion splits A into an `m x k` grid of blocks, B into `k x n`
//! and C into `m x n` (all row-major). Product `r` multiplies `S_r = sum u[r][j] A_j` by
//! `T_r = sum v[r][j] B_j`; C block `i` receives `w[i][r] M_r`.
//!
//! The schedule streams the products into C (so the workspace stays small) and saves memory
//! passes three ways:
//! * a product that feeds a single C block is computed straight into it through the leaf GEMM's
//!   alpha (the coefficient) and beta (0 on the block's first write, 1 afterwards);
//! * a product that feeds several C blocks is computed once, into one of its C blocks if that
//!   block has not been written yet and its coefficient is +-1 (so the block can serve as the
//!   temporary), else into a temporary, and then copied into the other blocks in one fused pass
//!   that reads the product once;
//! * the first write to a C block never reads it (beta = 0 semantics).
//!
//! Steps that accumulate into an already written C block through the leaf GEMM come last, so a
//! parallel executor can run all other products at once and still perform every floating-point
//! operation in the same order as the sequential executor.

/// One coefficient of a linear combination: `coeff * block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Block index in the row-major block grid.
    pub block: usize,
    /// Integer coefficient (never 0).
    pub coeff: i64,
}

/// Where a step writes its product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// Straight into C block `block`, scaled by `coeff`; `fresh` = the block has not been written
    /// yet (overwrite, beta = 0), else accumulate (beta = 1).
    Block {
        /// C block.
        block: usize,
        /// Coefficient folded into the leaf's alpha.
        coeff: i64,
        /// First write to this block.
        fresh: bool,
    },
    /// Into a temporary the size of one C block.
    Temp,
}

/// One fused scatter target: `C[block] (+)= coeff * value`, where `value` is what the step's
/// destination holds after the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scatter {
    /// C block.
    pub block: usize,
    /// Coefficient relative to the destination's value.
    pub coeff: i64,
    /// First write to this block (write without reading).
    pub fresh: bool,
}

/// One step: compute product `product` into `dest`, then scatter it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Product index.
    pub product: usize,
    /// Destination of the product.
    pub dest: Dest,
    /// Further C blocks fed from the destination in one fused pass.
    pub scatter: Vec<Scatter>,
}

/// The steps for one mode (C overwritten or accumulated into).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// Steps `phase2_start..` accumulate into already written C blocks through the leaf; every
    /// earlier step writes only fresh blocks or temporaries and may run concurrently with the
    /// others (their scatters then run in order).
    pub phase2_start: usize,
    /// C blocks no product writes (only possible in degenerate schemes): zeroed in overwrite mode.
    pub zero_blocks: Vec<usize>,
    /// Number of steps whose destination is a temporary.
    pub temps: usize,
    /// Memory passes over one block (reads + writes) the C side costs beyond the products.
    pub c_passes: usize,
}

/// Addition counts of a scheme in the three bilinear parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Additions {
    /// Additions forming the S_r (from U).
    pub u: usize,
    /// Additions forming the T_r (from V).
    pub v: usize,
    /// Additions forming the C blocks (from W).
    pub w: usize,
}

impl Additions {
    /// `u + v + w`.
    pub fn total(&self) -> usize {
        self.u + self.v + self.w
    }
}

/// The compiled form of one scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanData {
    /// Block grid `(m, k, n)`.
    pub dims: (usize, usize, usize),
    /// Number of products in the scheme (including unused ones).
    pub rank: usize,
    /// Per product: the terms of S (A blocks).
    pub a_terms: Vec<Vec<Term>>,
    /// Per product: the terms of T (B blocks).
    pub b_terms: Vec<Vec<Term>>,
    /// Per product: the C blocks it feeds (column r of W).
    pub c_terms: Vec<Vec<Term>>,
    /// Schedule when C is overwritten (beta = 0).
    pub overwrite: Schedule,
    /// Schedule when C is accumulated into (beta = 1).
    pub accumulate: Schedule,
    /// Additions written out term by term (Strassen's form: 18).
    pub additions_naive: Additions,
    /// Additions after greedy common-subexpression elimination (Winograd's form: 15).
    pub additions_cse: Additions,
    /// Memory passes over one block (reads + writes) to form all S_r and T_r.
    pub st_passes: usize,
}

/// Checks that `(m, k, n, U, V, W)` has a shape the compiler can turn into a plan: positive
/// dimensions, `u` and `v` with the same number of rows (the rank, at least 1) of `m*k` and
/// `k*n` coefficients, `w` with `m*n` rows of `rank`. A plan built from anything else would
/// index blocks that do not exist.
pub fn check_shape(
    (m, k, n): (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> Result<(), String> {
    if m == 0 || k == 0 || n == 0 {
        return Err(format!(
            "cannot compile a <{m},{k},{n}> scheme: a dimension is 0"
        ));
    }
    let rank = u.len();
    if rank == 0 || v.len() != rank {
        return Err(format!(
            "cannot compile: u has {} rows and v {} (both must be the rank, at least 1)",
            u.len(),
            v.len()
        ));
    }
    let (mk, kn, mn) = match (m.checked_mul(k), k.checked_mul(n), m.checked_mul(n)) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(format!("cannot compile a <{m},{k},{n}> scheme: too large")),
    };
    let bad_row = |name: &str, rows: &[Vec<i64>], len: usize| {
        rows.iter().position(|r| r.len() != len).map(|i| {
            format!(
                "cannot compile: {name}[{i}] has {} coefficients, expected {len}",
                rows[i].len()
            )
        })
    };
    if let Some(e) = bad_row("u", u, mk).or_else(|| bad_row("v", v, kn)) {
        return Err(e);
    }
    if w.len() != mn {
        return Err(format!(
            "cannot compile: w has {} rows, expected m*n = {mn}",
            w.len()
        ));
    }
    if let Some(e) = bad_row("w", w, rank) {
        return Err(e);
    }
    Ok(())
}

/// Per product: the terms of S (A blocks), of T (B blocks) and the C blocks it feeds (column r
/// of W), and the products that contribute (nonempty S, T and W column).
type SchemeTerms = (Vec<Vec<Term>>, Vec<Vec<Term>>, Vec<Vec<Term>>, Vec<usize>);

fn scheme_terms(
    (m, _, n): (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> SchemeTerms {
    let rank = u.len();
    let terms = |row: &[i64]| -> Vec<Term> {
        row.iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(block, &coeff)| Term { block, coeff })
            .collect()
    };
    let a_terms: Vec<Vec<Term>> = u.iter().map(|r| terms(r)).collect();
    let b_terms: Vec<Vec<Term>> = v.iter().map(|r| terms(r)).collect();
    let c_terms: Vec<Vec<Term>> = (0..rank)
        .map(|r| {
            (0..m * n)
                .filter(|&i| w[i][r] != 0)
                .map(|i| Term {
                    block: i,
                    coeff: w[i][r],
                })
                .collect()
        })
        .collect();
    // A product with an empty S, T or W column contributes nothing.
    let active: Vec<usize> = (0..rank)
        .filter(|&r| !a_terms[r].is_empty() && !b_terms[r].is_empty() && !c_terms[r].is_empty())
        .collect();
    (a_terms, b_terms, c_terms, active)
}

/// Compiles `(m, k, n, U, V, W)`. Refuses (with a message) a shape [`check_shape`] refuses; the
/// caller has checked validity.
pub fn compile(
    dims: (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> Result<PlanData, String> {
    check_shape(dims, u, v, w)?;
    let (m, _, n) = dims;
    let rank = u.len();
    let (a_terms, b_terms, c_terms, active) = scheme_terms(dims, u, v, w);
    let overwrite = best_schedule(&c_terms, &active, m * n, true);
    let accumulate = best_schedule(&c_terms, &active, m * n, false);
    let st_passes = active
        .iter()
        .map(|&r| {
            let pa = if a_terms[r].len() > 1 {
                a_terms[r].len() + 1
            } else {
                0
            };
            let pb = if b_terms[r].len() > 1 {
                b_terms[r].len() + 1
            } else {
                0
            };
            pa + pb
        })
        .sum();
    let (additions_naive, additions_cse) = count_additions(dims, &a_terms, &b_terms, w, &active);
    Ok(PlanData {
        dims,
        rank,
        a_terms,
        b_terms,
        c_terms,
        overwrite,
        accumulate,
        additions_naive,
        additions_cse,
        st_passes,
    })
}

/// The additions of one level, term by term and after CSE, for the products in `active` (the
/// ones with nonempty S, T and W column), from the S and T terms and W.
fn count_additions(
    dims: (usize, usize, usize),
    a_terms: &[Vec<Term>],
    b_terms: &[Vec<Term>],
    w: &[Vec<i64>],
    active: &[usize],
) -> (Additions, Additions) {
    let (m, k, n) = dims;
    let rows = |t: &[Vec<Term>]| -> Vec<Vec<(usize, i64)>> {
        active
            .iter()
            .map(|&r| t[r].iter().map(|x| (x.block, x.coeff)).collect())
            .collect()
    };
    // W as linear forms of the products, one per C block.
    let w_rows: Vec<Vec<(usize, i64)>> = (0..m * n)
        .map(|i| {
            active
                .iter()
                .filter(|&&r| w[i][r] != 0)
                .map(|&r| (r, w[i][r]))
                .collect()
        })
        .collect();
    let (ua, va) = (rows(a_terms), rows(b_terms));
    let naive = Additions {
        u: naive_additions(&ua),
        v: naive_additions(&va),
        w: naive_additions(&w_rows),
    };
    let cse = Additions {
        u: cse_additions(ua, m * k),
        v: cse_additions(va, k * n),
        w: cse_additions(w_rows, w.first().map_or(0, |r| r.len())),
    };
    (naive, cse)
}

/// The additions of one level of `(m, k, n, U, V, W)` after greedy CSE (what
/// [`PlanData::additions_cse`] holds), without building the schedules: the objective of a
/// search over schemes. Refuses what [`check_shape`] refuses.
pub fn additions_cse(
    dims: (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> Result<Additions, String> {
    check_shape(dims, u, v, w)?;
    let (a_terms, b_terms, _, active) = scheme_terms(dims, u, v, w);
    Ok(count_additions(dims, &a_terms, &b_terms, w, &active).1)
}

fn naive_additions(rows: &[Vec<(usize, i64)>]) -> usize {
    rows.iter().map(|r| r.len().saturating_sub(1)).sum()
}

/// Greedy common-subexpression elimination over linear forms: repeatedly names the pair
/// `a x + b y` (up to sign) that occurs in the most forms, until no pair occurs twice. Returns the
/// number of additions: one per named pair plus `terms - 1` per final form.
fn cse_additions(mut rows: Vec<Vec<(usize, i64)>>, mut next_var: usize) -> usize {
    let mut named = 0;
    loop {
        // Count each normalised pair (x < y, cx > 0) once per row.
        let mut best: Option<((usize, i64, usize, i64), usize)> = None;
        let mut counts: Vec<((usize, i64, usize, i64), usize)> = Vec::new();
        for row in &rows {
            let mut seen: Vec<(usize, i64, usize, i64)> = Vec::new();
            for (i, &(x, cx)) in row.iter().enumerate() {
                for &(y, cy) in &row[i + 1..] {
                    let (x, cx, y, cy) = if x < y {
                        (x, cx, y, cy)
                    } else {
                        (y, cy, x, cx)
                    };
                    let key = if cx > 0 {
                        (x, cx, y, cy)
                    } else {
                        (x, -cx, y, -cy)
                    };
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
                    match counts.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((key, 1)),
                    }
                }
            }
        }
        for &(key, c) in &counts {
            if c >= 2 && best.is_none_or(|(_, bc)| c > bc) {
                best = Some((key, c));
            }
        }
        let Some(((x, cx, y, cy), _)) = best else {
            break;
        };
        let t = next_var;
        next_var += 1;
        named += 1;
        for row in rows.iter_mut() {
            let fx = row.iter().position(|&(v, _)| v == x);
            let fy = row.iter().position(|&(v, _)| v == y);
            if let (Some(ix), Some(iy)) = (fx, fy) {
                let (ax, ay) = (row[ix].1, row[iy].1);
                let sign = if ax == cx && ay == cy {
                    1
                } else if ax == -cx && ay == -cy {
                    -1
                } else {
                    continue;
                };
                row.retain(|&(v, _)| v != x && v != y);
                row.push((t, sign));
            }
        }
    }
    named + naive_additions(&rows)
}

/// Tries several product orders and keeps the schedule with the fewest C-side passes (ties: fewer
/// temporaries).
fn best_schedule(
    c_terms: &[Vec<Term>],
    active: &[usize],
    blocks: usize,
    overwrite: bool,
) -> Schedule {
    let multi: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&r| c_terms[r].len() >= 2)
        .collect();
    let single: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&r| c_terms[r].len() == 1)
        .collect();
    let mut orders: Vec<Vec<usize>> = Vec::new();
    if multi.len() <= 7 {
        permutations(&multi, &mut orders);
    } else {
        orders.push(multi.clone());
        let mut by_fanout = multi.clone();
        by_fanout.sort_by_key(|&r| std::cmp::Reverse(c_terms[r].len()));
        orders.push(by_fanout);
        let mut rev = multi.clone();
        rev.reverse();
        orders.push(rev);
    }
    let mut best: Option<Schedule> = None;
    for order in &orders {
        let s = schedule_for(c_terms, order, &single, blocks, overwrite);
        let better = match &best {
            None => true,
            Some(b) => (s.c_passes, s.temps) < (b.c_passes, b.temps),
        };
        if better {
            best = Some(s);
        }
    }
    best.unwrap_or_else(|| schedule_for(c_terms, &[], &single, blocks, overwrite))
}

fn permutations(items: &[usize], out: &mut Vec<Vec<usize>>) {
    fn go(prefix: &mut Vec<usize>, rest: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if rest.is_empty() {
            out.push(prefix.clone());
            return;
        }
        for i in 0..rest.len() {
            let x = rest.remove(i);
            prefix.push(x);
            go(prefix, rest, out);
            prefix.pop();
            rest.insert(i, x);
        }
    }
    go(&mut Vec::new(), &mut items.to_vec(), out);
}

fn schedule_for(
    c_terms: &[Vec<Term>],
    multi_order: &[usize],
    single: &[usize],
    blocks: usize,
    overwrite: bool,
) -> Schedule {
    let mut fresh = vec![overwrite; blocks];
    let mut steps = Vec::new();
    let mut temps = 0;
    let mut c_passes = 0;
    for &r in multi_order {
        let targets = &c_terms[r];
        // Use a fresh +-1 target as the temporary; prefer the one fewest later products feed.
        let dest_term = targets
            .iter()
            .filter(|t| fresh[t.block] && t.coeff.abs() == 1)
            .min_by_key(|t| {
                multi_order
                    .iter()
                    .filter(|&&q| q != r && c_terms[q].iter().any(|x| x.block == t.block))
                    .count()
            })
            .copied();
        let (dest, rel) = match dest_term {
            Some(t) => {
                fresh[t.block] = false;
                (
                    Dest::Block {
                        block: t.block,
                        coeff: t.coeff,
                        fresh: true,
                    },
                    t.coeff,
                )
            }
            None => {
                temps += 1;
                (Dest::Temp, 1)
            }
        };
        c_passes += 1; // read the product once
        let mut scatter = Vec::new();
        for t in targets {
            if matches!(dest, Dest::Block { block, .. } if block == t.block) {
                continue;
            }
            let f = fresh[t.block];
            c_passes += if f { 1 } else { 2 };
            fresh[t.block] = false;
            // value = rel * M, and rel = +-1, so coeff * M = (coeff * rel) * value.
            scatter.push(Scatter {
                block: t.block,
                coeff: t.coeff * rel,
                fresh: f,
            });
        }
        steps.push(Step {
            product: r,
            dest,
            scatter,
        });
    }
    // Single-target products: those landing on a fresh block first (they can run with phase 1),
    // the accumulating ones last.
    let mut late = Vec::new();
    for &r in single {
        let t = c_terms[r][0];
        let step = Step {
            product: r,
            dest: Dest::Block {
                block: t.block,
                coeff: t.coeff,
                fresh: fresh[t.block],
            },
            scatter: Vec::new(),
        };
        if fresh[t.block] {
            fresh[t.block] = false;
            steps.push(step);
        } else {
            late.push(step);
        }
    }
    let phase2_start = steps.len();
    steps.extend(late);
    let zero_blocks = (0..blocks).filter(|&b| fresh[b]).collect();
    Schedule {
        steps,
        phase2_start,
        zero_blocks,
        temps,
        c_passes,
    }
}
