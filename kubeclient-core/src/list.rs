//! `metav1.ListMeta` and the lists of objects every `...List` kind is (re-exported by
//! [`resource`](crate::resource)).

/// `metav1.ListMeta`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ListMeta {
    /// The version the list was read at; watch from here.
    pub resource_version: Option<String>,
    /// The token for the next page; `None` on the last.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    /// How many items are left after this page, when the server knows.
    pub remaining_item_count: Option<i64>,
}

/// A list of objects, as every `...List` kind of the API.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(bound = "K: serde::de::DeserializeOwned")]
#[non_exhaustive]
pub struct ObjectList<K> {
    /// The list's metadata.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects.
    #[serde(default)]
    pub items: Vec<K>,
}
