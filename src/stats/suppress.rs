//! Small-cell suppression that no combination of exports can undo.
//!
//! Every number Haven publishes is a cell of a *family*: the product of three trees —
//! time (12 months → 4 fiscal quarters → the fiscal year), queue (each queue → all queues)
//! and a local tree (e.g. a question's options → its respondents). A cell's value is the sum
//! of the leaf cells below it. Within a fiscal year every export (any period, any queue
//! filter) reads cells of the same family, decided once with these rules, applied until
//! nothing changes:
//!
//! 1. a count from 1 to `threshold - 1` is suppressed (zero shows);
//! 2. when a cell is suppressed, so are its siblings in every tree (same parent);
//! 3. when a cell is suppressed, so are its children in every tree;
//! 4. a lone child and its parent (the same number) are suppressed together.
//!
//! Why nothing suppressed can be recovered: take a suppressed cell `c`, and in every tree
//! where `c` is not at the root take a sibling. The 2^k cells made of `c`'s coordinates and
//! those siblings are all suppressed (rule 2), and so is everything below them (rule 3).
//! Add +1 / −1 alternately to one leaf below each of them: every published cell either
//! contains none of those leaves or contains them in cancelling pairs, so every export stays
//! the same while `c` changes by one. No linear combination of exports can determine `c`.
//! Families share no leaves (fiscal years, forms, versions and questions are disjoint), and
//! totals across them (e.g. respondents versus submissions) are inequalities, not identities.
//! `tests::no_suppressed_cell_is_a_combination_of_shown_ones` checks this with exact linear
//! algebra on random data.

/// A tree of nodes given by their parents; `None` is the root.
#[derive(Debug, Clone)]
pub struct Tree {
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    pub fn new(parent: Vec<Option<usize>>) -> Tree {
        let mut children = vec![Vec::new(); parent.len()];
        for (node, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(node);
            }
        }
        Tree { parent, children }
    }

    /// A root with `leaves` children: leaves are 0..leaves, the root is `leaves`. One leaf
    /// and no root when `leaves` is 1 would hide nothing, so the root is always there.
    pub fn flat(leaves: usize) -> Tree {
        let mut parent: Vec<Option<usize>> = vec![Some(leaves); leaves];
        parent.push(None);
        Tree::new(parent)
    }

    /// A single node (a count with no parts).
    pub fn single() -> Tree {
        Tree::new(vec![None])
    }

    /// Months 0..12 → fiscal quarters 12..16 → the fiscal year 16.
    pub fn fiscal_year() -> Tree {
        let mut parent: Vec<Option<usize>> = (0..12).map(|m| Some(12 + m / 3)).collect();
        parent.extend([Some(16); 4]);
        parent.push(None);
        Tree::new(parent)
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    pub fn is_leaf(&self, node: usize) -> bool {
        self.children[node].is_empty()
    }

    /// The node and every node above it.
    pub fn ancestors(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(node), |n| self.parent[*n])
    }
}

/// One family's cells: values and the suppression decided for them.
pub struct Family {
    pub time: Tree,
    pub queue: Tree,
    pub local: Tree,
    pub values: Vec<u64>,
    pub suppressed: Vec<bool>,
}

impl Family {
    /// Sums `leaves` — `(month 0..12, queue leaf, local leaf, count)` — into every cell and
    /// decides suppression.
    pub fn build(
        queue: Tree,
        local: Tree,
        leaves: impl IntoIterator<Item = (usize, usize, usize, u64)>,
        threshold: u64,
    ) -> Family {
        let time = Tree::fiscal_year();
        let size = time.len() * queue.len() * local.len();
        let mut family = Family {
            time,
            queue,
            local,
            values: vec![0; size],
            suppressed: vec![false; size],
        };
        for (t, q, l, count) in leaves {
            let (ts, qs, ls): (Vec<_>, Vec<_>, Vec<_>) = (
                family.time.ancestors(t).collect(),
                family.queue.ancestors(q).collect(),
                family.local.ancestors(l).collect(),
            );
            for &t in &ts {
                for &q in &qs {
                    for &l in &ls {
                        let cell = family.index(t, q, l);
                        family.values[cell] += count;
                    }
                }
            }
        }
        family.suppress(threshold);
        family
    }

    pub fn index(&self, t: usize, q: usize, l: usize) -> usize {
        (t * self.queue.len() + q) * self.local.len() + l
    }

    fn coords(&self, cell: usize) -> [usize; 3] {
        let l = cell % self.local.len();
        let rest = cell / self.local.len();
        [rest / self.queue.len(), rest % self.queue.len(), l]
    }

    fn tree(&self, dim: usize) -> &Tree {
        match dim {
            0 => &self.time,
            1 => &self.queue,
            _ => &self.local,
        }
    }

    /// The published form of a cell: its count, or `None` when suppressed.
    pub fn cell(&self, t: usize, q: usize, l: usize) -> Option<u64> {
        let cell = self.index(t, q, l);
        (!self.suppressed[cell]).then_some(self.values[cell])
    }

    fn suppress(&mut self, threshold: u64) {
        let mut work: Vec<usize> = Vec::new();
        for cell in 0..self.values.len() {
            if (1..threshold).contains(&self.values[cell]) {
                self.suppressed[cell] = true;
                work.push(cell);
            }
        }
        while let Some(cell) = work.pop() {
            let coords = self.coords(cell);
            let mut more: Vec<usize> = Vec::new();
            for dim in 0..3 {
                let tree = self.tree(dim);
                let node = coords[dim];
                let mut moved = |other: usize| {
                    let mut c = coords;
                    c[dim] = other;
                    more.push(self.index(c[0], c[1], c[2]));
                };
                if let Some(parent) = tree.parent[node] {
                    let siblings = &tree.children[parent];
                    for &sibling in siblings {
                        moved(sibling);
                    }
                    if siblings.len() == 1 {
                        moved(parent);
                    }
                }
                for &child in &tree.children[node] {
                    moved(child);
                }
            }
            for other in more {
                if !self.suppressed[other] {
                    self.suppressed[other] = true;
                    work.push(other);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arithmetic modulo a large prime: exact enough to tell whether a vector lies in the
    /// span of others (a false "in the span" could only make the test stricter).
    const P: u128 = (1 << 61) - 1;

    fn inverse(a: u128) -> u128 {
        let (mut result, mut base, mut exp) = (1u128, a % P, P - 2);
        while exp > 0 {
            if exp & 1 == 1 {
                result = result * base % P;
            }
            base = base * base % P;
            exp >>= 1;
        }
        result
    }

    /// Row-reduced basis of the span of `rows`.
    struct Basis {
        rows: Vec<(usize, Vec<u128>)>,
    }

    impl Basis {
        fn new() -> Basis {
            Basis { rows: Vec::new() }
        }

        fn reduce(&self, mut v: Vec<u128>) -> Vec<u128> {
            for (pivot, row) in &self.rows {
                let factor = v[*pivot];
                if factor != 0 {
                    for (x, r) in v.iter_mut().zip(row) {
                        *x = (*x + P - factor * r % P) % P;
                    }
                }
            }
            v
        }

        fn add(&mut self, v: Vec<u128>) {
            let v = self.reduce(v);
            if let Some(pivot) = v.iter().position(|x| *x != 0) {
                let inv = inverse(v[pivot]);
                let v: Vec<u128> = v.iter().map(|x| x * inv % P).collect();
                for (_, row) in self.rows.iter_mut() {
                    let factor = row[pivot];
                    if factor != 0 {
                        for (x, r) in row.iter_mut().zip(&v) {
                            *x = (*x + P - factor * r % P) % P;
                        }
                    }
                }
                self.rows.push((pivot, v));
            }
        }

        fn contains(&self, v: Vec<u128>) -> bool {
            self.reduce(v).iter().all(|x| *x == 0)
        }
    }

    /// A cell as a vector over the family's leaves.
    fn vector(family: &Family, cell: usize, leaves: &[(usize, usize, usize)]) -> Vec<u128> {
        let [t, q, l] = family.coords(cell);
        leaves
            .iter()
            .map(|&(lt, lq, ll)| {
                u128::from(
                    family.time.ancestors(lt).any(|a| a == t)
                        && family.queue.ancestors(lq).any(|a| a == q)
                        && family.local.ancestors(ll).any(|a| a == l),
                )
            })
            .collect()
    }

    fn leaves_of(family: &Family) -> Vec<(usize, usize, usize)> {
        let mut leaves = Vec::new();
        for t in (0..family.time.len()).filter(|n| family.time.is_leaf(*n)) {
            for q in (0..family.queue.len()).filter(|n| family.queue.is_leaf(*n)) {
                for l in (0..family.local.len()).filter(|n| family.local.is_leaf(*n)) {
                    leaves.push((t, q, l));
                }
            }
        }
        leaves
    }

    /// Random local trees: a flat list of options, or two groups of options under a total.
    fn local_tree() -> impl Strategy<Value = Tree> {
        prop_oneof![
            (1usize..5).prop_map(Tree::flat),
            Just(Tree::single()),
            (1usize..3, 1usize..3).prop_map(|(a, b)| {
                // leaves 0..a under node a+b, leaves a..a+b under a+b+1, root a+b+2.
                let (g1, g2) = (a + b, a + b + 1);
                let mut parent: Vec<Option<usize>> = (0..a).map(|_| Some(g1)).collect();
                parent.extend((0..b).map(|_| Some(g2)));
                parent.extend([Some(a + b + 2), Some(a + b + 2), None]);
                Tree::new(parent)
            }),
        ]
    }

    fn small_count() -> impl Strategy<Value = u64> {
        prop_oneof![3 => Just(0u64), 3 => 1u64..11, 2 => 11u64..40]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn no_suppressed_cell_is_a_combination_of_shown_ones(
            queues in 1usize..4,
            local in local_tree(),
            seed in proptest::collection::vec(small_count(), 12 * 3 * 6),
            queries in proptest::collection::vec((0usize..17, 0usize..4), 1..12),
        ) {
            let queue = Tree::flat(queues);
            let probe = Family::build(queue.clone(), local.clone(), [], 11);
            let leaves = leaves_of(&probe);
            let data: Vec<(usize, usize, usize, u64)> = leaves
                .iter()
                .zip(seed.iter().cycle())
                .map(|(&(t, q, l), &n)| (t, q, l, n))
                .collect();
            let family = Family::build(queue, local, data, 11);
            // What a run of exports shows: for each query (a time node and a queue filter),
            // every local cell of it.
            let mut exported = Basis::new();
            let mut seen = Vec::new();
            for (t, q) in queries {
                let q = q % family.queue.len();
                for l in 0..family.local.len() {
                    let cell = family.index(t, q, l);
                    if !family.suppressed[cell] {
                        exported.add(vector(&family, cell, &leaves));
                    }
                    seen.push(cell);
                }
            }
            // Everything the family could ever show, too.
            let mut everything = Basis::new();
            for cell in 0..family.values.len() {
                if !family.suppressed[cell] {
                    everything.add(vector(&family, cell, &leaves));
                }
            }
            for cell in 0..family.values.len() {
                if family.suppressed[cell] {
                    prop_assert!(!everything.contains(vector(&family, cell, &leaves)),
                        "suppressed cell {:?} = {} is recoverable", family.coords(cell), family.values[cell]);
                }
            }
            for cell in seen {
                if family.suppressed[cell] {
                    prop_assert!(!exported.contains(vector(&family, cell, &leaves)));
                }
                // Small counts never show.
                prop_assert!(family.suppressed[cell] || !(1..11).contains(&family.values[cell]));
            }
        }
    }

    #[test]
    fn a_large_year_shows_while_its_small_months_hide() {
        // One queue, one count; 3 a month for a year: every month hidden, the year shown.
        let data = (0..12).map(|m| (m, 0, 0, 3));
        let family = Family::build(Tree::flat(1), Tree::single(), data, 11);
        assert_eq!(family.cell(16, 1, 0), Some(36));
        assert_eq!(family.cell(16, 0, 0), Some(36));
        for node in 0..16 {
            assert_eq!(family.cell(node, 0, 0), None, "month or quarter {node}");
            assert_eq!(family.cell(node, 1, 0), None, "month or quarter {node}");
        }
    }

    #[test]
    fn one_rare_answer_hides_its_siblings_but_not_the_total() {
        // Two options in one month: 30 and 4. Showing 30 and the total 34 would give away 4.
        let data = [(0, 0, 0, 30), (0, 0, 1, 4)];
        let family = Family::build(Tree::flat(2), Tree::flat(2), data, 11);
        let (all, total) = (2, 2);
        assert_eq!(family.cell(0, all, total), Some(34));
        assert_eq!(family.cell(0, all, 0), None);
        assert_eq!(family.cell(0, all, 1), None);
        // The other queue's zero for that option hides too: all queues minus it would
        // show queue 0's count.
        assert_eq!(family.cell(0, 0, 1), None);
        assert_eq!(family.cell(0, 1, 1), None);
    }
}
