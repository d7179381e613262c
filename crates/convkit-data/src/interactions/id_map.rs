//! [`IdMap`]: dense indices for names, in first-seen order.

use super::*;

/// A dense index for each distinct name, in first-seen order (string ids of users and items,
/// categorical values, node names).
///
/// Serialized as the list of names, so a saved map restores the same indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IdMap {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The map giving `names[k]` the index `k`; a repeated name is an error.
    pub fn from_names(names: Vec<String>) -> Result<Self> {
        let mut map = IdMap::new();
        for (k, name) in names.into_iter().enumerate() {
            if let Some(first) = map.get(&name) {
                return Err(Error::invalid(
                    "id map",
                    format!(
                        "names must be distinct, found {} at positions {first} and {k}",
                        quoted(&name)
                    ),
                ));
            }
            map.insert(&name)?;
        }
        Ok(map)
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the map has no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of `name`, if it is in the map.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name of index `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.names.get(index as usize).map(String::as_str)
    }

    /// All names in index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of `name`, adding it with the next index if it is new. Fails only past
    /// [`MAX_ID`] + 1 names.
    pub fn insert(&mut self, name: &str) -> Result<u32> {
        if let Some(&k) = self.index.get(name) {
            return Ok(k);
        }
        let k = u32::try_from(self.names.len())
            .ok()
            .filter(|&k| k <= MAX_ID)
            .ok_or_else(|| {
                Error::invalid(
                    "id map",
                    format!("more than {} distinct names", MAX_ID as u64 + 1),
                )
            })?;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), k);
        Ok(k)
    }
}

impl TryFrom<Vec<String>> for IdMap {
    type Error = Error;

    fn try_from(names: Vec<String>) -> Result<Self> {
        Self::from_names(names)
    }
}

impl From<IdMap> for Vec<String> {
    fn from(map: IdMap) -> Self {
        map.names
    }
}
