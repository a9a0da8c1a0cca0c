//! The Merkle tree of RFC 6962 / RFC 9162 over the audit log: tree heads, inclusion proofs and consistency
//! proofs, so anyone can check offline that an event is in the log and that a later log extends an earlier
//! one without rewriting it.
//!
//! Leaves are hashed as `SHA-256(0x00 ‖ data)` and interior nodes as `SHA-256(0x01 ‖ left ‖ right)`; a tree
//! of `n` leaves splits at the largest power of two below `n`. Every function takes the leaf *hashes*, so a
//! caller can keep them instead of the (purgeable) event bytes.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`: the hash of one log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (`n` ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH: the tree head over leaf hashes (the empty tree's is `SHA-256("")`).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path proving that leaf `index` is in the tree of `leaves`; `None` when out of range.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    path(index, leaves, &mut proof);
    Some(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks an audit path (RFC 9162 § 2.1.3.2): leaf `index` with hash `leaf` is in the tree of `size` leaves
/// whose head is `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// PROOF(m, D[n]): the consistency proof that the first `old_size` leaves form the older tree; `None` unless
/// `0 < old_size ≤ leaves.len()`.
pub fn consistency_proof(old_size: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if old_size == 0 || old_size > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    subproof(old_size, leaves, true, &mut proof);
    Some(proof)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks a consistency proof (RFC 9162 § 2.1.4.2): the tree of `old_size` leaves with head `old_root` is a
/// prefix of the tree of `new_size` leaves with head `new_root`.
pub fn verify_consistency(old_size: u64, new_size: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old_root && sr == *new_root && snode == 0
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first. Appending a leaf and
/// reading the head are O(log n), so the log can be extended and checked one event at a time, and a
/// checkpoint can store its frontier for the next one to extend without rereading history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(height, hash)` of each perfect subtree, heights strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.nodes.last() {
            if height != node.0 {
                break;
            }
            self.nodes.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The tree head (MTH) of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = nodes.next() else { return root(&[]) };
        for (_, left) in nodes {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// The subtree roots, largest first, as stored with a checkpoint.
    pub fn hashes(&self) -> Vec<Hash> {
        self.nodes.iter().map(|&(_, h)| h).collect()
    }

    /// Rebuilds a frontier from its size and [`Frontier::hashes`]; `None` when they do not fit together
    /// (one hash per set bit of `size`).
    pub fn from_parts(size: u64, hashes: &[Hash]) -> Option<Frontier> {
        let heights: Vec<u32> = (0..64).rev().filter(|bit| size >> bit & 1 == 1).collect();
        if heights.len() != hashes.len() {
            return None;
        }
        Some(Frontier { size, nodes: heights.into_iter().zip(hashes.iter().copied()).collect() })
    }
}

/// Every level of one tree, so many inclusion proofs against the same tree head cost O(log n) each instead
/// of rehashing the tree per proof (a 500-event bundle from a million-event log).
pub struct Levels {
    levels: Vec<Vec<Hash>>,
}

impl Levels {
    /// Hashes the levels above `leaves` once; a lone last node is carried up unchanged, which gives the
    /// same heads as RFC 6962's split at the largest power of two.
    pub fn new(leaves: Vec<Hash>) -> Levels {
        let mut levels = vec![leaves];
        while let Some(top) = levels.last().filter(|l| l.len() > 1) {
            let next = top.chunks(2).map(|pair| if let [l, r] = pair { node_hash(l, r) } else { pair[0] }).collect();
            levels.push(next);
        }
        Levels { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> usize {
        self.levels[0].len()
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash] {
        &self.levels[0]
    }

    /// The tree head.
    pub fn root(&self) -> Hash {
        self.levels.last().and_then(|top| top.first().copied()).unwrap_or_else(|| root(&[]))
    }

    /// PATH(m, D[n]) for leaf `index`; `None` when out of range. Equal to [`inclusion_proof`].
    pub fn inclusion_proof(&self, index: usize) -> Option<Vec<Hash>> {
        if index >= self.size() {
            return None;
        }
        let mut proof = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(i ^ 1) {
                proof.push(*sibling);
            }
            i >>= 1;
        }
        Some(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// The inputs of the published RFC 6962 test vectors (DOMAIN.md § Evidence).
    fn vectors() -> Vec<Hash> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| leaf_hash(&unhex(h)))
            .collect()
    }

    #[test]
    fn tree_heads_match_the_published_roots_for_sizes_one_to_eight() {
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = vectors();
        for (n, expected) in roots.iter().enumerate() {
            assert_eq!(root(&leaves[..=n]).to_vec(), unhex(expected), "size {}", n + 1);
        }
        assert_eq!(root(&[]).to_vec(), unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

    /// Leaves beyond the vectors, so trees of every shape up to 40 are covered.
    fn many(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("event {i}").as_bytes())).collect()
    }

    #[test]
    fn every_inclusion_proof_verifies_and_any_change_breaks_it() {
        for n in 1..=40usize {
            let leaves = many(n);
            let head = root(&leaves);
            let bigger = root(&many(n + 1));
            for i in 0..n {
                let proof = inclusion_proof(i, &leaves).unwrap();
                assert!(verify_inclusion(&leaves[i], i as u64, n as u64, &proof, &head), "{i} of {n}");
                let other = (i + 1) % n;
                if other != i {
                    assert!(!verify_inclusion(&leaves[other], i as u64, n as u64, &proof, &head), "wrong leaf");
                }
                assert!(
                    !verify_inclusion(&leaves[i], i as u64, n as u64 + 1, &proof, &bigger),
                    "against a larger tree"
                );
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(&leaves[i], i as u64, n as u64, &bad, &head), "changed hash");
                    assert!(!verify_inclusion(&leaves[i], i as u64, n as u64, &proof[1..], &head), "dropped hash");
                }
            }
            assert!(inclusion_proof(n, &leaves).is_none());
        }
    }

    #[test]
    fn consistency_proofs_verify_between_every_pair_of_sizes_and_reject_rewrites() {
        for n in 1..=40usize {
            let leaves = many(n);
            let new_head = root(&leaves);
            let bigger = root(&many(n + 1));
            for m in 1..=n {
                let old_head = root(&leaves[..m]);
                let proof = consistency_proof(m, &leaves).unwrap();
                assert!(verify_consistency(m as u64, n as u64, &old_head, &new_head, &proof), "{m} → {n}");
                if m < n {
                    let mut rewritten = leaves[..m].to_vec();
                    rewritten[m - 1] = leaf_hash(b"rewritten");
                    let forged = root(&rewritten);
                    assert!(!verify_consistency(m as u64, n as u64, &forged, &new_head, &proof), "rewritten history");
                    assert!(
                        !verify_consistency(m as u64, n as u64 + 1, &old_head, &bigger, &proof),
                        "against a larger tree"
                    );
                    assert!(!verify_consistency(m as u64, n as u64, &new_head, &old_head, &proof), "swapped heads");
                }
            }
        }
        let v = vectors();
        assert!(consistency_proof(0, &v).is_none() && consistency_proof(9, &v).is_none());
    }

    #[test]
    fn the_frontier_and_the_levels_agree_with_the_recursive_definitions() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), root(&[]));
        for n in 1..=leaves.len() {
            frontier.push(leaves[n - 1]);
            assert_eq!(frontier.root(), root(&leaves[..n]), "frontier head at {n}");
            let again = Frontier::from_parts(n as u64, &frontier.hashes()).unwrap();
            assert_eq!(again, frontier);
            let levels = Levels::new(leaves[..n].to_vec());
            assert_eq!(levels.root(), root(&leaves[..n]), "levels head at {n}");
            for m in 0..n {
                assert_eq!(levels.inclusion_proof(m), inclusion_proof(m, &leaves[..n]), "proof {m} of {n}");
            }
            assert_eq!(levels.inclusion_proof(n), None);
        }
        assert!(Frontier::from_parts(5, &frontier.hashes()[..1]).is_none());
    }
}
