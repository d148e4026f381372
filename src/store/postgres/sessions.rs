//! Staff sessions in PostgreSQL.

use uuid::Uuid;

use super::{staff::staff_from_row, Postgres};
use crate::store::{sessions::SessionDb, SessionRow, StoreError};

impl SessionDb for Postgres {
    fn insert_session(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        expires_at: i64,
        created_at: i64,
    ) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, staff_id, expires_at, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[&token_hash, &staff_id.to_string(), &expires_at, &created_at],
            )?;
            Ok(())
        })
    }

    fn use_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        // One statement finds the session and moves its deadline: no other node's use or
        // logout can come between the two.
        self.run(|c| {
            let Some(row) = c.query_opt(
                "UPDATE sessions
                 SET expires_at = LEAST($2::BIGINT + $4::BIGINT, sessions.created_at + $5::BIGINT)
                 FROM staff
                 WHERE staff.id = sessions.staff_id AND sessions.token_hash = $1
                   AND sessions.expires_at > $2 AND sessions.created_at > $3
                   AND NOT staff.disabled
                 RETURNING staff.id, staff.username, staff.display_name, staff.role,
                           sessions.created_at, staff.must_change_password,
                           staff.totp_secret IS NOT NULL",
                &[
                    &token_hash,
                    &now,
                    &(now - absolute_secs),
                    &idle_secs,
                    &absolute_secs,
                ],
            )?
            else {
                return Ok(None);
            };
            let Some(staff) = staff_from_row(&row)? else {
                return Ok(None);
            };
            Ok(Some(SessionRow {
                staff,
                created_at: row.try_get(4)?,
                must_change_password: row.try_get(5)?,
                totp_enabled: row.try_get(6)?,
                needs_second_factor: false,
            }))
        })
    }

    fn delete_session_hash(&self, token_hash: &str) -> Result<bool, StoreError> {
        self.run(|c| {
            Ok(c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])? > 0)
        })
    }

    fn delete_sessions_of(&self, staff_id: Uuid) -> Result<usize, StoreError> {
        self.run(|c| {
            Ok(c.execute(
                "DELETE FROM sessions WHERE staff_id = $1",
                &[&staff_id.to_string()],
            )? as usize)
        })
    }

    fn session_counts(&self, now: i64) -> Result<Vec<(Uuid, u32)>, StoreError> {
        self.run(|c| {
            let rows = c.query(
                "SELECT staff_id, COUNT(*) FROM sessions WHERE expires_at > $1 GROUP BY staff_id",
                &[&now],
            )?;
            Ok(rows
                .iter()
                .filter_map(|row| {
                    let id: String = row.try_get(0).ok()?;
                    let n: i64 = row.try_get(1).ok()?;
                    Some((id.parse().ok()?, n.clamp(0, u32::MAX as i64) as u32))
                })
                .collect())
        })
    }

    fn delete_expired_sessions(&self, now: i64) -> Result<usize, StoreError> {
        self.run(|c| {
            Ok(c.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])? as usize)
        })
    }
}
