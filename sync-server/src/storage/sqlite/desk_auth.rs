//! Desk sign-in: [`crate::storage::DeskAuthTx`] on the SQLite transaction.

use super::{Cached, SqliteTx};
use crate::storage::{DeskAuthTx, DeskLockout, DeskSessionRow, Result};
use rusqlite::{OptionalExtension, params};
use xiangying_model::ids::PersonId;

impl DeskAuthTx for SqliteTx<'_> {
    fn desk_password(&mut self, person: &PersonId) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT phc FROM desk_passwords WHERE person = ?1",
                [person.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_desk_password(&mut self, person: &PersonId, phc: &str, now: i64) -> Result<()> {
        self.tx.exec(
            "INSERT INTO desk_passwords (person, phc, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (person) DO UPDATE SET phc = excluded.phc,
                updated_at = excluded.updated_at",
            params![person.as_str(), phc, now],
        )?;
        Ok(())
    }

    fn insert_desk_session(&mut self, token_hash: &str, row: &DeskSessionRow) -> Result<()> {
        self.tx.exec(
            "INSERT INTO desk_sessions (token_hash, person, created_at, last_seen, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                token_hash,
                row.person.as_str(),
                row.created_at,
                row.last_seen,
                row.user_agent
            ],
        )?;
        Ok(())
    }

    fn desk_session(&mut self, token_hash: &str) -> Result<Option<DeskSessionRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT person, created_at, last_seen, user_agent FROM desk_sessions
                 WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok(DeskSessionRow {
                        person: r.get::<_, String>(0)?.into(),
                        created_at: r.get(1)?,
                        last_seen: r.get(2)?,
                        user_agent: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn touch_desk_session(&mut self, token_hash: &str, now: i64) -> Result<()> {
        self.tx.exec(
            "UPDATE desk_sessions SET last_seen = ?2 WHERE token_hash = ?1",
            params![token_hash, now],
        )?;
        Ok(())
    }

    fn delete_desk_session(&mut self, token_hash: &str) -> Result<bool> {
        Ok(self.tx.exec(
            "DELETE FROM desk_sessions WHERE token_hash = ?1",
            [token_hash],
        )? > 0)
    }

    fn delete_desk_sessions_of(&mut self, person: &PersonId) -> Result<u64> {
        let n = self.tx.exec(
            "DELETE FROM desk_sessions WHERE person = ?1",
            [person.as_str()],
        )?;
        Ok(n as u64)
    }

    fn delete_stale_desk_sessions(&mut self, idle_before: i64, opened_before: i64) -> Result<u64> {
        let n = self.tx.exec(
            "DELETE FROM desk_sessions WHERE last_seen < ?1 OR created_at < ?2",
            params![idle_before, opened_before],
        )?;
        Ok(n as u64)
    }

    fn desk_lockout(&mut self, subject: &str) -> Result<DeskLockout> {
        Ok(self
            .tx
            .query_row(
                "SELECT failures, locked_until FROM desk_lockouts WHERE subject = ?1",
                [subject],
                |r| {
                    Ok(DeskLockout {
                        failures: u32::try_from(r.get::<_, i64>(0)?.max(0)).unwrap_or(u32::MAX),
                        locked_until: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    fn add_desk_failure(&mut self, subject: &str) -> Result<u32> {
        let n: i64 = self.tx.row(
            "INSERT INTO desk_lockouts (subject, failures, locked_until) VALUES (?1, 1, 0)
             ON CONFLICT (subject) DO UPDATE SET failures = desk_lockouts.failures + 1
             RETURNING failures",
            [subject],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    fn lock_desk_subject(&mut self, subject: &str, until: i64) -> Result<()> {
        self.tx.exec(
            "UPDATE desk_lockouts SET locked_until = ?2 WHERE subject = ?1",
            params![subject, until],
        )?;
        Ok(())
    }

    fn clear_desk_lockout(&mut self, subject: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM desk_lockouts WHERE subject = ?1", [subject])?;
        Ok(())
    }

    fn insert_desk_link(&mut self, token_hash: &str, person: &PersonId, now: i64) -> Result<()> {
        self.tx.exec(
            "INSERT INTO desk_links (token_hash, person, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash, person.as_str(), now],
        )?;
        Ok(())
    }

    fn take_desk_link(
        &mut self,
        token_hash: &str,
        now: i64,
        created_after: i64,
    ) -> Result<Option<PersonId>> {
        Ok(self
            .tx
            .query_row(
                "UPDATE desk_links SET used_at = ?2
                 WHERE token_hash = ?1 AND used_at IS NULL AND created_at > ?3
                 RETURNING person",
                params![token_hash, now, created_after],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(PersonId::from))
    }
}
