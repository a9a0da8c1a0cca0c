//! Cycle detection for parent links (org unit → parent, employee → manager).
//!
//! Both trees are edited in bulk by imports, so the check works on a whole proposed map of links
//! at once rather than one edit at a time.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Returns every node that lies on a cycle of `parent_of`, in a stable order (sorted).
///
/// `parent_of` maps a node to its parent; nodes absent from the map, or mapped to `None`, are roots.
/// A node whose chain merely leads *into* a cycle is not reported: only the members of the loop are,
/// because those are the rows a person must fix.
pub fn nodes_on_cycles<K>(parent_of: &HashMap<K, Option<K>>) -> Vec<K>
where
    K: Eq + Hash + Clone + Ord,
{
    let mut settled: HashSet<&K> = HashSet::new();
    let mut on_cycle: Vec<K> = Vec::new();
    for start in parent_of.keys() {
        if settled.contains(start) {
            continue;
        }
        let mut path: Vec<&K> = Vec::new();
        let mut position: HashMap<&K, usize> = HashMap::new();
        let mut node = start;
        loop {
            if settled.contains(node) {
                break;
            }
            if let Some(&at) = position.get(node) {
                on_cycle.extend(path[at..].iter().map(|k| (*k).clone()));
                break;
            }
            position.insert(node, path.len());
            path.push(node);
            match parent_of.get(node) {
                Some(Some(parent)) => node = parent,
                _ => break,
            }
        }
        settled.extend(path);
    }
    on_cycle.sort();
    on_cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(links: &[(&'static str, Option<&'static str>)]) -> HashMap<&'static str, Option<&'static str>> {
        links.iter().copied().collect()
    }

    #[test]
    fn a_tree_has_no_cycle() {
        let m = map(&[("a", None), ("b", Some("a")), ("c", Some("b")), ("d", Some("a")), ("e", Some("zz"))]);
        assert!(nodes_on_cycles(&m).is_empty());
    }

    #[test]
    fn finds_only_the_loop_members() {
        let m = map(&[("a", Some("c")), ("b", Some("a")), ("c", Some("b")), ("d", Some("a")), ("r", None)]);
        assert_eq!(nodes_on_cycles(&m), vec!["a", "b", "c"]);
    }

    #[test]
    fn self_loop_and_two_loops() {
        let m = map(&[("s", Some("s")), ("x", Some("y")), ("y", Some("x")), ("t", Some("x"))]);
        assert_eq!(nodes_on_cycles(&m), vec!["s", "x", "y"]);
    }

    #[test]
    fn long_chain_is_linear_and_acyclic() {
        let n = 100_000u32;
        let m: HashMap<u32, Option<u32>> = (0..n).map(|i| (i, i.checked_sub(1))).collect();
        assert!(nodes_on_cycles(&m).is_empty());
        let mut looped = m.clone();
        looped.insert(0, Some(n - 1));
        assert_eq!(nodes_on_cycles(&looped).len(), n as usize);
    }
}
