//! The voluntary intake form and exit survey: their definitions from configuration, the
//! checks on a submission, and how answers are kept — unlinkable to the chat, erasable with a
//! deletion code, deleted when old. The hub only vouches that a real chat asked (`Ticket`).

pub mod answers;
mod budget;
pub mod code;
mod definition;
#[cfg(test)]
mod fuzz;
mod public;
mod retention;

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

pub use answers::AnswerError;
pub use budget::ForgetBudget;
pub use definition::{
    ChoiceOption, DateBucket, FormConfig, FormKind, FormsConfig, FormsUi, Kind, Question,
    PREFER_NOT_TO_SAY,
};
pub use public::public_form;
pub use retention::spawn_housekeeping;

use crate::{
    config::Config,
    hub::Ticket,
    stats::calendar,
    store::{forms::NewSubmission, Store, StoreError},
};

/// What became of a submission.
#[derive(Debug)]
pub enum Outcome {
    /// Stored; the code lets its author erase it.
    Stored {
        deletion_code: zeroize::Zeroizing<String>,
    },
    /// Not stored: the person is under 13 (only a count moved), or nothing was answered.
    NotStored,
}

#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("a background task failed")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Forms {
    config: Arc<Config>,
    store: Store,
    /// Wakes the compaction task after a write (see `Store::compact`).
    written: Arc<Notify>,
}

impl Forms {
    /// Records each form version's definition; refuses a form changed under an old version.
    pub fn new(config: Arc<Config>, store: Store) -> Result<Forms, StoreError> {
        for kind in FormKind::ALL {
            let form = config.forms.form(kind);
            store.register_form_version(
                kind.as_str(),
                form.version,
                &shape(form),
                &serde_json::to_string(form).expect("forms serialise"),
            )?;
        }
        Ok(Forms {
            config,
            store,
            written: Arc::new(Notify::new()),
        })
    }

    pub fn config(&self) -> &FormsConfig {
        &self.config.forms
    }

    /// How long after its end a chat may still send its survey (never past the purge).
    pub fn survey_window(&self) -> Duration {
        Duration::from_secs(
            (self.config.forms.survey_window_minutes * 60)
                .min(self.config.chat.retention_after_close_secs),
        )
    }

    /// Checks a submission without storing anything; done before the chat's ticket is taken,
    /// so bad input never uses it up.
    pub fn check(
        &self,
        kind: FormKind,
        version: u32,
        answers: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<answers::Checked, AnswerError> {
        let form = self.config.forms.form(kind);
        if version != form.version {
            return Err(AnswerError {
                code: "unknown_version",
                field: Some("version".into()),
                message: format!(
                    "This form is version {}; version {version} is not accepted.",
                    form.version
                ),
            });
        }
        answers::check(form, answers, self.config.forms.store_free_text)
    }

    /// Stores checked answers for the chat behind `ticket`, with a date bucket and nothing
    /// that leads back to the chat.
    pub async fn store(
        &self,
        kind: FormKind,
        ticket: Ticket,
        checked: answers::Checked,
    ) -> Result<Outcome, FormsError> {
        let forms = &self.config.forms;
        let today = calendar::local_date(
            crate::hub::now_ms(),
            self.config.service_hours.utc_offset_minutes,
        );
        let bucket = calendar::bucket(today, forms.date_bucket);
        let version = forms.form(kind).version;
        let store = self.store.clone();
        if ticket.under_13 || checked.under_13 {
            tokio::task::spawn_blocking(move || {
                store.count_withheld(&bucket, kind.as_str(), version, &ticket.queue)
            })
            .await??;
            tracing::info!(form = kind.as_str(), "form answers withheld: under 13");
            return Ok(Outcome::NotStored);
        }
        if checked.is_empty() {
            return Ok(Outcome::NotStored);
        }
        let code = code::generate();
        let deletion_hash = code::hash(&code).expect("a generated code is valid");
        let expires =
            calendar::iso(today + time::Duration::days(i64::from(forms.followup_window_days)));
        tokio::task::spawn_blocking(move || {
            store.insert_submission(&NewSubmission {
                form: kind.as_str(),
                version,
                queue: &ticket.queue,
                bucket: &bucket,
                deletion_hash: &deletion_hash,
                choices: &checked.choices,
                free_text: &checked.free_text,
                followup: checked
                    .email
                    .as_ref()
                    .map(|(email, purpose)| (email.as_str(), purpose.as_str(), expires.as_str())),
            })
        })
        .await??;
        self.written.notify_one();
        tracing::info!(form = kind.as_str(), "form answers stored");
        Ok(Outcome::Stored {
            deletion_code: code,
        })
    }

    /// Erases what a deletion code stands for. The caller answers the same whatever happened.
    pub async fn forget(&self, typed: &str) -> Result<(), FormsError> {
        let Some(hash) = code::hash(typed) else {
            return Ok(());
        };
        let store = self.store.clone();
        let erased = tokio::task::spawn_blocking(move || store.forget(&hash)).await??;
        if erased {
            self.written.notify_one();
            tracing::info!("a submission was erased by its deletion code");
        }
        Ok(())
    }

    pub fn store_handle(&self) -> &Store {
        &self.store
    }

    pub(crate) fn written(&self) -> Arc<Notify> {
        Arc::clone(&self.written)
    }
}

/// What stored answers depend on: question ids, kinds and option ids (not labels).
fn shape(form: &FormConfig) -> String {
    let questions: Vec<serde_json::Value> = form
        .questions
        .iter()
        .map(|q| {
            serde_json::json!({
                "id": q.id,
                "kind": q.kind,
                "options": q.options.iter().map(|o| &o.id).collect::<Vec<_>>(),
                "never_stored": q.never_stored,
            })
        })
        .collect();
    serde_json::Value::Array(questions).to_string()
}
