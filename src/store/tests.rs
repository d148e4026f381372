//! The store's behaviour, the same on both backends (`testing::each_backend`). What only the
//! shared PostgreSQL backend must do is in `postgres/tests.rs`.

use uuid::Uuid;

use super::{
    audit::{AuditEntry, AuditFilter},
    forms::NewSubmission,
    testing::each_backend,
    StaffChange, Store, StoreError,
};
use crate::staff::Role;

pub(super) const PASSWORD: &str = "correct horse battery";

pub(super) fn staff(store: &Store, username: &str, role: Role) -> Uuid {
    store
        .add_staff(username, "Someone", role, PASSWORD)
        .unwrap()
        .id
}

#[test]
fn accounts_are_unique_by_name_and_changes_end_sessions_where_they_must() {
    each_backend(|store| {
        let ada = store
            .add_staff(" ada ", "Ada", Role::Admin, PASSWORD)
            .unwrap();
        assert_eq!(ada.username, "ada");
        assert!(matches!(
            store.add_staff("ada", "Other", Role::Advocate, PASSWORD),
            Err(StoreError::UsernameTaken(_))
        ));
        assert!(matches!(
            store.add_staff("no spaces", "X", Role::Advocate, PASSWORD),
            Err(StoreError::Invalid(_))
        ));
        let bo = staff(store, "bo", Role::Advocate);
        assert_eq!(store.count_admins().unwrap(), 1);
        let (found, hash) = store.staff_for_login("ada").unwrap().unwrap();
        assert_eq!(found.id, ada.id);
        assert!(super::password::verify(PASSWORD, Some(&hash)));
        assert!(store.password_hash(bo).unwrap().is_some());
        let names: Vec<_> = store
            .list_staff()
            .unwrap()
            .into_iter()
            .map(|a| a.staff.username)
            .collect();
        assert_eq!(names, ["ada", "bo"]);

        let session = store.create_session(bo, 1_000, 60, 3_600).unwrap();
        store
            .change_staff(bo, &StaffChange::DisplayName("Bo B".into()))
            .unwrap();
        store.change_staff(bo, &StaffChange::MaxChats(4)).unwrap();
        assert!(store
            .session_staff(&session, 1_001, 60, 3_600)
            .unwrap()
            .is_some());
        let account = store.account(bo).unwrap().unwrap();
        assert_eq!(
            (account.staff.display_name.as_str(), account.max_chats),
            ("Bo B", 4)
        );
        assert!(matches!(
            store.change_staff(bo, &StaffChange::MaxChats(21)),
            Err(StoreError::Invalid(_))
        ));

        store
            .change_staff(bo, &StaffChange::Role(Role::Supervisor))
            .unwrap();
        assert!(store
            .session_staff(&session, 1_002, 60, 3_600)
            .unwrap()
            .is_none());
        let session = store.create_session(bo, 1_000, 60, 3_600).unwrap();
        store
            .change_staff(bo, &StaffChange::Disabled(true))
            .unwrap();
        assert!(store
            .session_staff(&session, 1_001, 60, 3_600)
            .unwrap()
            .is_none());
        assert!(store.staff_for_login("bo").unwrap().is_none());
        assert!(store.account_by_username("bo").unwrap().unwrap().disabled);
        store
            .change_staff(bo, &StaffChange::Disabled(false))
            .unwrap();
        store
            .change_staff(
                bo,
                &StaffChange::Password {
                    password: "another long passphrase".into(),
                    temporary: true,
                },
            )
            .unwrap();
        assert!(store.account(bo).unwrap().unwrap().must_change_password);
        assert!(matches!(
            store.change_staff(Uuid::new_v4(), &StaffChange::Disabled(true)),
            Err(StoreError::NoSuchStaff)
        ));
    });
}

#[test]
fn sessions_move_their_idle_deadline_but_never_past_the_absolute_lifetime() {
    each_backend(|store| {
        let id = staff(store, "cy", Role::Advocate);
        let token = store.create_session(id, 1_000, 100, 250).unwrap();
        let row = store
            .session_staff(&token, 1_090, 100, 250)
            .unwrap()
            .unwrap();
        assert_eq!((row.staff.id, row.created_at), (id, 1_000));
        assert!(!row.totp_enabled);
        // Used at 1 090, so alive at 1 180 (idle deadline moved to 1 190) ...
        assert!(store
            .session_staff(&token, 1_180, 100, 250)
            .unwrap()
            .is_some());
        // ... but never past 1 250.
        assert!(store
            .session_staff(&token, 1_251, 100, 250)
            .unwrap()
            .is_none());
        let other = store.create_session(id, 2_000, 100, 250).unwrap();
        let third = store.create_session(id, 2_000, 100, 250).unwrap();
        assert_eq!(store.session_counts(2_010).unwrap(), [(id, 2)]);
        assert!(store.delete_session(&other).unwrap());
        assert!(!store.delete_session(&other).unwrap());
        assert_eq!(store.delete_expired_sessions(2_101).unwrap(), 2);
        assert!(store
            .session_staff(&third, 2_050, 100, 250)
            .unwrap()
            .is_none());
        store.create_session(id, 3_000, 100, 250).unwrap();
        assert_eq!(store.delete_sessions_of(id).unwrap(), 1);
    });
}

#[test]
fn a_second_factor_code_and_a_recovery_code_work_once() {
    each_backend(|store| {
        let id = staff(store, "di", Role::Admin);
        assert!(matches!(
            store.enable_totp(id, 5, &[]),
            Err(StoreError::Invalid(_))
        ));
        store.set_totp_pending(id, b"secret-bytes").unwrap();
        assert_eq!(store.totp_pending(id).unwrap().unwrap(), b"secret-bytes");
        let codes = [super::totp::recovery_hash("abcd-efgh")];
        store.enable_totp(id, 10, &codes).unwrap();
        assert_eq!(
            store.totp(id).unwrap().unwrap(),
            (b"secret-bytes".to_vec(), 10)
        );
        assert!(store.account(id).unwrap().unwrap().totp_enabled);
        assert!(!store.use_totp_step(id, 10).unwrap());
        assert!(store.use_totp_step(id, 11).unwrap());
        assert!(!store.use_totp_step(id, 11).unwrap());
        assert!(store.use_recovery_code(id, "ABCD EFGH").unwrap());
        assert!(!store.use_recovery_code(id, "abcd-efgh").unwrap());
        let token = store.create_session(id, 1_000, 60, 600).unwrap();
        assert!(
            store
                .session_staff(&token, 1_001, 60, 600)
                .unwrap()
                .unwrap()
                .totp_enabled
        );
        store.clear_totp(id).unwrap();
        assert!(store.totp(id).unwrap().is_none());
        assert!(store
            .session_staff(&token, 1_002, 60, 600)
            .unwrap()
            .is_none());
        assert!(matches!(
            store.set_totp_pending(Uuid::new_v4(), b"x"),
            Err(StoreError::NoSuchStaff)
        ));
        assert!(store.security_setting("roles").unwrap().is_none());
        store.set_security_setting("roles", "admin").unwrap();
        store
            .set_security_setting("roles", "admin,supervisor")
            .unwrap();
        assert_eq!(
            store.security_setting("roles").unwrap().as_deref(),
            Some("admin,supervisor")
        );
    });
}

#[test]
fn the_audit_log_filters_newest_first_and_forgets_old_entries() {
    each_backend(|store| {
        let entry = |at, action: &str, actor: Option<&str>| AuditEntry {
            at,
            actor: actor.map(str::to_owned),
            action: action.into(),
            target: None,
            attempted_username: None,
            detail: None,
        };
        store
            .append_audit(&[
                entry(10, "login", Some("a")),
                entry(20, "login_failed", None),
                entry(30, "login", Some("b")),
            ])
            .unwrap();
        let all = store.audit(&AuditFilter::default()).unwrap();
        assert_eq!(all.iter().map(|e| e.at).collect::<Vec<_>>(), [30, 20, 10]);
        let filter = AuditFilter {
            action: Some("login".into()),
            since: Some(15),
            ..AuditFilter::default()
        };
        assert_eq!(
            store.audit(&filter).unwrap(),
            [entry(30, "login", Some("b"))]
        );
        let by_staff = AuditFilter {
            staff: Some("a".into()),
            until: Some(10),
            limit: Some(5),
            ..AuditFilter::default()
        };
        assert_eq!(store.audit(&by_staff).unwrap().len(), 1);
        assert_eq!(store.delete_audit_before(25).unwrap(), 2);
        assert_eq!(store.audit(&AuditFilter::default()).unwrap().len(), 1);
    });
}

pub(super) fn submission<'a>(
    deletion_hash: &'a str,
    choices: &'a [(String, String)],
    free_text: &'a [(String, String)],
    followup: Option<(&'a str, &'a str, &'a str)>,
) -> NewSubmission<'a> {
    NewSubmission {
        form: "exit",
        version: 1,
        queue: "general",
        bucket: "2026-03-02",
        deletion_hash,
        choices,
        free_text,
        followup,
    }
}

#[test]
fn answers_are_counted_erased_once_and_expire() {
    each_backend(|store| {
        store
            .register_form_version("exit", 1, r#"{"q":1}"#, r#"{"label":"a"}"#)
            .unwrap();
        store
            .register_form_version("exit", 1, r#"{"q":1}"#, r#"{"label":"b"}"#)
            .unwrap();
        assert!(matches!(
            store.register_form_version("exit", 1, r#"{"q":2}"#, "{}"),
            Err(StoreError::FormChanged { .. })
        ));
        let versions = store.form_versions("exit").unwrap();
        assert_eq!(versions.len(), 1);
        assert!(versions[0].1.contains(r#""label":"b""#));

        let choices = [
            ("helped".to_owned(), "yes".to_owned()),
            ("topics".to_owned(), "housing".to_owned()),
            ("topics".to_owned(), "money".to_owned()),
        ];
        let words = [("comment".to_owned(), "thank you".to_owned())];
        store
            .insert_submission(&submission("h1", &choices, &words, None))
            .unwrap();
        store
            .insert_submission(&submission(
                "h2",
                &choices[..1],
                &words,
                Some(("me@example.org", "callback", "2026-04-01")),
            ))
            .unwrap();
        store
            .count_withheld("2026-03-02", "exit", 1, "general")
            .unwrap();
        store
            .count_withheld("2026-03-02", "exit", 1, "general")
            .unwrap();
        let mut counts = store
            .answer_counts("exit", 1, "2026-03-01", "2026-03-31")
            .unwrap();
        counts.sort();
        let count = |key: &str| {
            counts
                .iter()
                .find(|(_, _, k, _)| k == key)
                .map(|row| row.3)
                .unwrap_or_else(|| panic!("no {key} in {counts:?}"))
        };
        assert_eq!(count("submissions"), 2);
        assert_eq!(count("withheld_under_13"), 2);
        assert_eq!(count("helped\u{1f}yes"), 2);
        assert_eq!(count("topics\u{1f}money"), 1);
        assert_eq!(count("topics\u{1f}"), 1, "people, not answers");
        let (page, total) = store.free_text_page("exit", 1, "comment", 0, 1).unwrap();
        assert_eq!((page.len(), total), (1, 2));
        let followups = store.followups().unwrap();
        assert_eq!(followups[0].email, "me@example.org");

        assert!(store.forget("h2").unwrap());
        assert!(!store.forget("h2").unwrap());
        assert!(store.followups().unwrap().is_empty());
        store.compact().unwrap();
        assert_eq!(
            store.free_text_page("exit", 1, "comment", 0, 10).unwrap().1,
            1
        );

        store
            .add_ops_counts(&[("2026-02-01".into(), "general".into(), "offered".into(), 3)])
            .unwrap();
        assert_eq!(
            store.bucket_range().unwrap(),
            Some(("2026-02-01".into(), "2026-03-02".into()))
        );
        // One submission, the withheld count, the February ops count.
        assert_eq!(
            store
                .delete_expired_answers("2026-03-03", "2026-03-03")
                .unwrap(),
            3
        );
        assert!(store.bucket_range().unwrap().is_none());
        store
            .insert_submission(&submission(
                "h3",
                &[],
                &[],
                Some(("x@example.org", "callback", "2026-03-01")),
            ))
            .unwrap();
        let id = store.followups().unwrap()[0].id.clone();
        assert!(store.delete_followup(&id).unwrap());
        assert!(!store.delete_followup(&id).unwrap());
    });
}

#[test]
fn operational_counts_add_up() {
    each_backend(|store| {
        let row = |metric: &str, n| {
            (
                "2026-05-04".to_owned(),
                "q".to_owned(),
                metric.to_owned(),
                n,
            )
        };
        store
            .add_ops_counts(&[row("offered", 2), row("answered", 1)])
            .unwrap();
        store.add_ops_counts(&[row("offered", 5)]).unwrap();
        let mut counts = store.ops_counts("2026-05-01", "2026-05-31").unwrap();
        counts.sort();
        assert_eq!(counts, [row("answered", 1), row("offered", 7)]);
        assert!(store
            .ops_counts("2026-06-01", "2026-06-30")
            .unwrap()
            .is_empty());
    });
}

#[test]
fn a_server_key_is_made_once_and_kept() {
    each_backend(|store| {
        let key = store.server_key("device_cookie").unwrap();
        assert_eq!(store.server_key("device_cookie").unwrap(), key);
        assert_ne!(store.server_key("other").unwrap(), key);
    });
}

#[test]
fn both_backends_know_the_same_schema_versions() {
    let sqlite: Vec<_> = super::sqlite::migrations::SQLITE
        .iter()
        .map(|m| (m.0, m.1))
        .collect();
    let postgres: Vec<_> = super::postgres::migrations::POSTGRES
        .iter()
        .map(|m| (m.0, m.1))
        .collect();
    assert_eq!(sqlite, postgres);
    for (i, (version, _)) in postgres.iter().enumerate() {
        assert_eq!(*version as usize, i + 1);
    }
}
