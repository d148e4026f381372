//! Staff sessions in SQLite.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{staff::staff_from_row, Sqlite};
use crate::store::{sessions::SessionDb, SessionRow, StoreError};

impl SessionDb for Sqlite {
    fn insert_session(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        expires_at: i64,
        created_at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO sessions (token_hash, staff_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, staff_id.to_string(), expires_at, created_at],
        )?;
        Ok(())
    }

    fn use_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        // One connection under the store's lock: the read and the update cannot interleave
        // with another use.
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT staff.id, staff.username, staff.display_name, staff.role,
                        sessions.created_at, staff.must_change_password,
                        staff.totp_secret IS NOT NULL
                 FROM sessions JOIN staff ON staff.id = sessions.staff_id
                 WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2
                   AND sessions.created_at > ?3 AND staff.disabled = 0",
                params![token_hash, now, now - absolute_secs],
                |row| {
                    Ok(staff_from_row(row)?.map(|staff| SessionRow {
                        staff,
                        created_at: row.get(4).unwrap_or(0),
                        must_change_password: row.get::<_, i64>(5).unwrap_or(0) != 0,
                        totp_enabled: row.get::<_, i64>(6).unwrap_or(0) != 0,
                        needs_second_factor: false,
                    }))
                },
            )
            .optional()?
            .flatten();
        let Some(session) = row else {
            return Ok(None);
        };
        // A write only when the deadline moves by more than a sixtieth of the idle timeout (30 s
        // of the default 30 minutes): a console that opens right after its login, or a burst
        // of requests, costs a read, not a write each. A thousand consoles reconnecting at once
        // (after a restart) would otherwise queue a thousand writes on the one connection.
        conn.execute(
            "UPDATE sessions SET expires_at = ?1 WHERE token_hash = ?2 AND expires_at < ?1 - ?3",
            params![
                (now + idle_secs).min(session.created_at + absolute_secs),
                token_hash,
                idle_secs / 60
            ],
        )?;
        Ok(Some(session))
    }

    fn delete_session_hash(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )? > 0)
    }

    fn delete_sessions_of(&self, staff_id: Uuid) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE staff_id = ?1",
            params![staff_id.to_string()],
        )?)
    }

    fn session_counts(&self, now: i64) -> Result<Vec<(Uuid, u32)>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT staff_id, COUNT(*) FROM sessions WHERE expires_at > ?1 GROUP BY staff_id",
        )?;
        let rows = statement.query_map(params![now], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })?;
        Ok(rows
            .filter_map(Result::ok)
            .filter_map(|(id, n)| Some((id.parse().ok()?, n)))
            .collect())
    }

    fn delete_expired_sessions(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?)
    }
}
