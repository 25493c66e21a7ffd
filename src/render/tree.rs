//! Stage `render`, the account tree of a plan: its operations grouped by the account they act
//! on or in, each account under its full ancestry (the plan's parents, and a creation's own
//! parent), ancestors that do not change included as context, in tree order (each subtree
//! where its first operation is). What the text and markdown formats walk. Pure.

use std::collections::HashMap;

use crate::plan::{AccountRef, Plan};

/// One account of the tree: the operations on or in it (indexes into the plan's operations,
/// in plan order; none for an ancestor shown as context) and its children.
pub(super) struct Node<'p> {
    /// The account.
    pub(super) account: &'p AccountRef,
    /// Its operations; empty for an account that does not change.
    pub(super) ops: Vec<usize>,
    children: Vec<usize>,
    /// The first operation in its subtree (where the subtree goes).
    first: usize,
}

/// The accounts of a plan's operations and their ancestors, top-level accounts (the partner,
/// customers, and accounts whose parent the plan does not know) as roots.
pub(super) struct Tree<'p> {
    nodes: Vec<Node<'p>>,
    roots: Vec<usize>,
}

impl<'p> Tree<'p> {
    /// The tree of `plan`'s operations.
    pub(super) fn new(plan: &'p Plan) -> Self {
        let mut nodes: Vec<Node<'p>> = Vec::new();
        let mut by_address: HashMap<String, usize> = HashMap::new();
        let mut parent_of: Vec<Option<usize>> = Vec::new();
        let mut node = |nodes: &mut Vec<Node<'p>>,
                        parent_of: &mut Vec<Option<usize>>,
                        account: &'p AccountRef,
                        first: usize| {
            *by_address.entry(account.address()).or_insert_with(|| {
                nodes.push(Node {
                    account,
                    ops: Vec::new(),
                    children: Vec::new(),
                    first,
                });
                parent_of.push(None);
                nodes.len() - 1
            })
        };
        for (i, op) in plan.operations.iter().enumerate() {
            let n = node(&mut nodes, &mut parent_of, &op.account, i);
            nodes[n].ops.push(i);
            // Up the ancestry, as far as it is not known yet.
            let mut cur = n;
            while parent_of[cur].is_none() {
                let account = nodes[cur].account;
                if *account == AccountRef::Partner {
                    break;
                }
                let parent = plan.parents.get(&account.address()).or_else(|| {
                    // A creation names its parent (the plan records no other).
                    nodes[cur]
                        .ops
                        .iter()
                        .find_map(|&k| plan.operations[k].parent())
                });
                let Some(parent) = parent.filter(|p| **p != AccountRef::Partner) else {
                    break;
                };
                let p = node(&mut nodes, &mut parent_of, parent, i);
                // Never a cycle (a damaged saved plan): the account stays where it is.
                let mut up = Some(p);
                while let Some(u) = up {
                    if u == cur {
                        break;
                    }
                    up = parent_of[u];
                }
                if up.is_some() {
                    break;
                }
                parent_of[cur] = Some(p);
                nodes[p].children.push(cur);
                cur = p;
            }
        }
        let roots: Vec<usize> = (0..nodes.len())
            .filter(|&n| parent_of[n].is_none())
            .collect();
        let mut tree = Tree { nodes, roots };
        for r in tree.roots.clone() {
            tree.settle(r);
        }
        tree.roots.sort_by_key(|&r| tree.nodes[r].first);
        tree
    }

    /// Sets each node's first operation from its subtree, and orders children by it.
    fn settle(&mut self, n: usize) -> usize {
        let children = std::mem::take(&mut self.nodes[n].children);
        let mut firsts: Vec<(usize, usize)> =
            children.iter().map(|&c| (self.settle(c), c)).collect();
        firsts.sort_unstable();
        let own = self.nodes[n].ops.first().copied().unwrap_or(usize::MAX);
        let first = firsts.first().map_or(own, |(f, _)| own.min(*f));
        self.nodes[n].first = first;
        self.nodes[n].children = firsts.into_iter().map(|(_, c)| c).collect();
        first
    }

    /// The top-level accounts, in tree order.
    pub(super) fn roots(&self) -> impl Iterator<Item = &Node<'p>> {
        self.roots.iter().map(|&r| &self.nodes[r])
    }

    /// `root` and every account below it, in tree order (each account before its children).
    pub(super) fn walk<'t>(&'t self, root: &'t Node<'p>) -> Vec<&'t Node<'p>> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(n.children.iter().rev().map(|&c| &self.nodes[c]));
        }
        out
    }
}
