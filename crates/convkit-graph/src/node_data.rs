//! A graph with node features, labels and names: what a node classification model consumes.

use convkit_core::{Error, Result};

use crate::Graph;

/// A [`Graph`] with per-node attributes, as the dataset readers and generators produce it.
///
/// Fields are public plain data; [`validate`](Self::validate) checks that they agree (the
/// readers and generators of this crate always return valid values).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeData {
    /// The graph; node `i` of every other field is node `i` here.
    pub graph: Graph,
    /// Node features, row-major `[num_nodes, feature_dim]`; empty when `feature_dim` is 0.
    pub features: Vec<f32>,
    /// Features per node (0: the data has none; models then often use one-hot node ids).
    pub feature_dim: usize,
    /// The label of each node as an index into `classes`; `None` where it is unknown (e.g. the
    /// `unknown` transactions of Elliptic, or the nodes held out of a semi-supervised split).
    pub labels: Vec<Option<usize>>,
    /// Class names in label order.
    pub classes: Vec<String>,
    /// The name of each node in the source data (a paper or transaction id), or empty when
    /// nodes have no names other than their index (generators).
    pub node_names: Vec<String>,
}

impl NodeData {
    /// The number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.graph.num_nodes()
    }

    /// The features of `node`, or `None` if it is out of range (or the features are not
    /// `num_nodes * feature_dim` long).
    pub fn feature_row(&self, node: usize) -> Option<&[f32]> {
        let start = node.checked_mul(self.feature_dim)?;
        self.features
            .get(start..start.checked_add(self.feature_dim)?)
    }

    /// The nodes whose label is known, in increasing order.
    pub fn labelled_nodes(&self) -> Vec<usize> {
        let known = self.labels.iter().enumerate().filter(|(_, l)| l.is_some());
        known.map(|(i, _)| i).collect()
    }

    /// Checks that the fields agree: `num_nodes * feature_dim` features, one label per node,
    /// each below the number of classes, and one name per node or none.
    pub fn validate(&self) -> Result<()> {
        let n = self.num_nodes();
        let invalid = |reason: String| Err(Error::invalid("node data", reason));
        if Some(self.features.len()) != n.checked_mul(self.feature_dim) {
            return invalid(format!(
                "{} feature values for {n} nodes of dimension {}",
                self.features.len(),
                self.feature_dim
            ));
        }
        if self.labels.len() != n {
            return invalid(format!("{} labels for {n} nodes", self.labels.len()));
        }
        if let Some((node, label)) = self
            .labels
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.filter(|&l| l >= self.classes.len()).map(|l| (i, l)))
        {
            return invalid(format!(
                "node {node} has label {label} but there are {} classes",
                self.classes.len()
            ));
        }
        if !self.node_names.is_empty() && self.node_names.len() != n {
            return invalid(format!(
                "{} node names for {n} nodes",
                self.node_names.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> NodeData {
        NodeData {
            graph: Graph::from_edges(3, &[(0, 1)], None, false).unwrap(),
            features: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            feature_dim: 2,
            labels: vec![Some(1), None, Some(0)],
            classes: vec!["a".into(), "b".into()],
            node_names: vec![],
        }
    }

    #[test]
    fn rows_labels_and_validation() {
        let d = data();
        assert_eq!(d.feature_row(1), Some(&[3.0, 4.0][..]));
        assert_eq!(d.feature_row(3), None);
        assert_eq!(d.feature_row(usize::MAX), None);
        assert_eq!(d.labelled_nodes(), [0, 2]);
        d.validate().unwrap();
        let mut bad = d.clone();
        bad.labels[1] = Some(2);
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("node 1 has label 2"), "{e}");
        let mut bad = d.clone();
        bad.features.pop();
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("5 feature values")
        );
        let mut bad = d;
        bad.node_names = vec!["x".into()];
        assert!(bad.validate().is_err());
    }
}
