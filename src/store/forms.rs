//! Voluntary form answers: written unlinkable to any chat, erased by deletion code, deleted
//! when old. See docs/privacy.md for what is kept and why it cannot be linked.

use rand::RngCore;

use super::{Store, StoreError};

/// One submission as it is written: no chat, no person, a date bucket only.
pub struct NewSubmission<'a> {
    pub form: &'a str,
    pub version: u32,
    pub queue: &'a str,
    pub bucket: &'a str,
    pub deletion_hash: &'a str,
    pub choices: &'a [(String, String)],
    pub free_text: &'a [(String, String)],
    /// `(email, purpose, expires_on)`.
    pub followup: Option<(&'a str, &'a str, &'a str)>,
}

/// A follow-up email as the follow-up role reads it.
#[derive(Debug, serde::Serialize)]
pub struct Followup {
    pub id: String,
    pub email: String,
    pub purpose: String,
    pub expires_on: String,
}

/// A random id: the primary key, so a table's order says nothing of when a row came.
pub(super) fn random_id() -> String {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

/// The forms' tables, as each backend keeps them.
pub trait FormsDb {
    /// The recorded definition of a form version (JSON with `shape` and `definition`).
    fn form_definition(&self, form: &str, version: u32) -> Result<Option<String>, StoreError>;
    /// Records (or replaces) the definition of a form version.
    fn put_form_version(&self, form: &str, version: u32, record: &str) -> Result<(), StoreError>;
    /// Every stored version of a form with its recorded definition (labels included).
    fn form_versions(&self, form: &str) -> Result<Vec<(u32, String)>, StoreError>;
    /// Writes a whole submission in one transaction: all of it or nothing. Its rows are keyed
    /// by [`random_id`]s.
    fn insert_submission(&self, new: &NewSubmission<'_>) -> Result<(), StoreError>;
    /// Counts one submission that was not stored because its author was under 13.
    fn count_withheld(
        &self,
        bucket: &str,
        form: &str,
        version: u32,
        queue: &str,
    ) -> Result<(), StoreError>;
    /// Erases the submission and the follow-up email a deletion code stands for. Returns
    /// whether anything matched (never told to the caller: no oracle). A code works once, also
    /// when two nodes receive it at once.
    fn forget(&self, deletion_hash: &str) -> Result<bool, StoreError>;
    /// Deletes submissions from buckets before `oldest_kept`, their counts of withheld ones,
    /// and follow-up emails that expired before `today`. Returns how many rows went.
    fn delete_expired_answers(&self, oldest_kept: &str, today: &str) -> Result<usize, StoreError>;
    fn followups(&self) -> Result<Vec<Followup>, StoreError>;
    /// Deletes one follow-up email (followed up, or no longer wanted).
    fn delete_followup(&self, id: &str) -> Result<bool, StoreError>;
    /// One page of a question's stored free-text answers, in the random order of their ids,
    /// and how many there are.
    fn free_text_page(
        &self,
        form: &str,
        version: u32,
        question: &str,
        page: usize,
        per_page: usize,
    ) -> Result<(Vec<String>, usize), StoreError>;
    /// Rewrites the answers' tables so that they hold rows in key (random) order with no
    /// trace of the order they were written in, and no freed space keeps old bytes.
    fn compact(&self) -> Result<(), StoreError>;
}

impl Store {
    /// Records a form's definition for its version; refuses a changed form under an old
    /// version number (its stored answers would no longer mean what they meant). `shape` is
    /// what answers depend on (questions, kinds, options); `definition` also has the labels,
    /// which may change freely.
    pub fn register_form_version(
        &self,
        form: &str,
        version: u32,
        shape: &str,
        definition: &str,
    ) -> Result<(), StoreError> {
        if let Some(stored) = self.form_definition(form, version)? {
            let stored_shape = serde_json::from_str::<serde_json::Value>(&stored)
                .ok()
                .and_then(|v| v.get("shape").cloned())
                .map(|v| v.to_string());
            if stored_shape.as_deref() != Some(shape) {
                return Err(StoreError::FormChanged {
                    form: form.to_string(),
                    version,
                });
            }
        }
        let record = format!(r#"{{"shape":{shape},"definition":{definition}}}"#);
        self.put_form_version(form, version, &record)
    }
}
