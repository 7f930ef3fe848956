//! [`Device`]: the façade the bindings wrap. It opens a data folder, holds the device's
//! identity and its read-only roster and catalogue copy, and offers the actions and queries of
//! the app. Every action is checked by the same fold rules the server uses before anything is
//! written; a refused action writes nothing.

mod actions;
#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod deadline_tests;
mod documents;
mod engine;
mod field;
#[cfg(test)]
mod field_tests;
#[cfg(test)]
mod patrol_tests;
mod patrols;
#[cfg(test)]
mod photo_tests;
mod photos;
mod raise;
mod reports;
mod restore;
mod roster;
mod sync;
#[cfg(any(test, feature = "test-hooks"))]
mod test_hooks;
#[cfg(test)]
mod tests;
mod upload;

pub use engine::{EngineConfig, EngineListener, EngineState, EngineStatus, SyncEngine};
pub use patrols::{CHUNK_POINTS, PatrolView};
pub use raise::{NewReport, NewRequest};
pub use roster::{Directory, Membership};
pub use sync::{SyncPhase, SyncReport};

use crate::case::{CaseDoc, CaseState, Claim, Facts, PhotoRef, Status, fold, inbox_keys_for};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::org::{Catalogue, Roster};
use crate::store::{
    CaseSummary, CaseWrite, DocBytes, DocWrite, Keep, Origin, OutboxEntry, Query, ReadAt, Store,
};
use automerge::ActorId;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The device's wall clock, ms since the epoch. Tests pass a fixed one.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Everything about one case that a detail screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseView {
    /// The immutable facts.
    pub facts: Facts,
    /// The human number, once the server assigned it.
    pub number: Option<String>,
    /// The folded state, with every event and its outcome.
    pub state: CaseState,
    /// The photos attached.
    pub photos: Vec<PhotoRef>,
}

/// The roster and catalogue copy the device works from.
#[derive(Debug)]
struct Org {
    roster: Roster,
    catalogue: Catalogue,
    /// Built once per roster copy: routing a location takes microseconds.
    router: Arc<crate::org::Router>,
}

/// One phone's view of the system: its store, its identity, its roster copy.
pub struct Device {
    dir: PathBuf,
    store: Store,
    actor: ActorId,
    clock: Clock,
    org: RwLock<Option<Arc<Org>>>,
    me: RwLock<Option<Claim>>,
    /// The app's version, the protocol and the platform every request says
    /// ([`Device::set_app_version`], [`Device::set_platform`]).
    identity: RwLock<(String, crate::sync::version::Protocol, String)>,
    /// The one HTTP client of the device's life (its connections are kept alive and reused),
    /// with the server URL and identity it was made for ([`sync::CachedClient`]).
    http: std::sync::Mutex<Option<sync::CachedClient>>,
    /// Held while a sync runs: two syncs of one device never run at once.
    syncing: std::sync::Mutex<()>,
    /// Held from reading a synced document to storing what was changed in it ([`Device::editing`]).
    editing: std::sync::Mutex<()>,
    /// The roster as the person may see it, with its search index, built on first use after
    /// a roster install or a change of person ([`Device::directory`]).
    directory: std::sync::Mutex<Option<Arc<Directory>>>,
}

const META_ACTOR: &str = "actor";
const META_ROSTER: &str = "roster";
const META_CATALOGUE: &str = "catalogue";
const META_PERSON: &str = "person";
const DB_FILE: &str = "xiangying.db";

impl Device {
    /// Opens (creating if needed) the device store in the folder `dir`, with the system clock.
    pub fn open(dir: &Path) -> Result<Device> {
        Device::open_with_clock(dir, system_clock())
    }

    /// Opens the device store in `dir` with the given clock.
    pub fn open_with_clock(dir: &Path, clock: Clock) -> Result<Device> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let store = Store::open(&dir.join(DB_FILE))?;
        let actor = match store.meta_get(META_ACTOR)? {
            Some(bytes) => ActorId::from(bytes),
            None => {
                let bytes = uuid::Uuid::now_v7().as_bytes().to_vec();
                store.meta_set(META_ACTOR, &bytes)?;
                ActorId::from(bytes)
            }
        };
        let device = Device {
            dir: dir.to_path_buf(),
            store,
            actor,
            clock,
            org: RwLock::new(None),
            me: RwLock::new(None),
            identity: RwLock::new((
                crate::sync::version::DEFAULT_APP_VERSION.to_string(),
                crate::sync::version::CURRENT,
                String::new(),
            )),
            http: std::sync::Mutex::new(None),
            syncing: std::sync::Mutex::new(()),
            editing: std::sync::Mutex::new(()),
            directory: std::sync::Mutex::new(None),
        };
        device.load_setup()?;
        Ok(device)
    }

    fn load_setup(&self) -> Result<()> {
        if let (Some(r), Some(c)) = (
            self.store.meta_get(META_ROSTER)?,
            self.store.meta_get(META_CATALOGUE)?,
        ) {
            let org = parse_org(&r, &c)?;
            *self.org.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(org));
        }
        if let Some(p) = self.store.meta_get(META_PERSON)? {
            let person = String::from_utf8_lossy(&p).into_owned();
            let claim = self.claim_of(&person)?;
            *self.me.write().unwrap_or_else(|e| e.into_inner()) = Some(claim);
        }
        Ok(())
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This device's automerge actor id (unique per device; never shared by two writers).
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// The device clock's current time.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Installs the roster and catalogue published by the server (JSON texts). Both are checked
    /// first; on error nothing changes.
    pub fn install_org(&self, roster_json: &str, catalogue_json: &str) -> Result<()> {
        let org = parse_org(roster_json.as_bytes(), catalogue_json.as_bytes())?;
        self.store.meta_set(META_ROSTER, roster_json.as_bytes())?;
        self.store
            .meta_set(META_CATALOGUE, catalogue_json.as_bytes())?;
        *self.org.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(org));
        // The person's role or scope may have changed with the new roster.
        let person = self.me().map(|c| c.person);
        if let Some(p) = person {
            let claim = self.claim_of(&p)?;
            *self.me.write().unwrap_or_else(|e| e.into_inner()) = Some(claim);
        }
        Ok(())
    }

    /// The category catalogue the device holds (for a category picker).
    pub fn catalogue(&self) -> Result<Catalogue> {
        Ok(self.org()?.catalogue.clone())
    }

    /// The roster the device holds (places and people, for pickers and notice boards).
    pub fn roster(&self) -> Result<Roster> {
        Ok(self.org()?.roster.clone())
    }

    /// Sets who uses this device (enrolment does this); the person must be in the roster.
    pub fn set_person(&self, person_id: &str) -> Result<()> {
        let claim = self.claim_of(person_id)?;
        self.store.meta_set(META_PERSON, person_id.as_bytes())?;
        *self.me.write().unwrap_or_else(|e| e.into_inner()) = Some(claim);
        Ok(())
    }

    /// Who uses this device, with their role and scope, if set.
    pub fn me(&self) -> Option<Claim> {
        self.me.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn claim(&self) -> Result<Claim> {
        self.me()
            .ok_or(Error::NotSetUp("no person is enrolled on this device"))
    }

    fn org(&self) -> Result<Arc<Org>> {
        self.org
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(Error::NotSetUp("no roster has been installed"))
    }

    fn claim_of(&self, person_id: &str) -> Result<Claim> {
        let org = self.org()?;
        let p = org
            .roster
            .person(person_id)
            .ok_or_else(|| Error::NotFound {
                what: "person",
                id: person_id.to_string(),
            })?;
        Ok(Claim {
            person: p.id.clone(),
            role: p.role,
            scope: p.scope.clone(),
        })
    }

    /// A case with its folded state and photos.
    pub fn case(&self, case_id: &str) -> Result<CaseView> {
        let doc = self.store.load_case(case_id, &self.actor)?;
        view_of(&doc)
    }

    /// The cases waiting on me (by name, or on my centre, department or volunteer pool).
    pub fn inbox(&self, limit: u32) -> Result<Vec<CaseSummary>> {
        let keys = inbox_keys_for(&self.claim()?);
        self.store.list(&Query::Inbox(keys), self.now(), limit)
    }

    /// The cases I raised.
    pub fn my_reports(&self, limit: u32) -> Result<Vec<CaseSummary>> {
        let me = self.claim()?.person;
        self.store.list(&Query::ReportedBy(me), self.now(), limit)
    }

    /// The cases in a status.
    pub fn by_status(&self, status: Status, limit: u32) -> Result<Vec<CaseSummary>> {
        self.store.list(&Query::Status(status), self.now(), limit)
    }

    /// Open cases past their deadline, most overdue first.
    pub fn overdue(&self, limit: u32) -> Result<Vec<CaseSummary>> {
        self.store.list(&Query::Overdue, self.now(), limit)
    }

    /// The cases in a grid.
    pub fn by_grid(&self, grid: &str, limit: u32) -> Result<Vec<CaseSummary>> {
        self.store
            .list(&Query::Grid(grid.to_string()), self.now(), limit)
    }

    /// The cases in a community.
    pub fn by_community(&self, community: &str, limit: u32) -> Result<Vec<CaseSummary>> {
        self.store
            .list(&Query::Community(community.to_string()), self.now(), limit)
    }

    /// Every case the device holds.
    pub fn all_cases(&self, limit: u32) -> Result<Vec<CaseSummary>> {
        self.store.list(&Query::All, self.now(), limit)
    }

    /// The oldest changes not yet acknowledged by a server.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.store.outbox_pending(limit)
    }

    /// How many changes wait for a server.
    pub fn outbox_len(&self) -> Result<u64> {
        self.store.outbox_len()
    }

    /// How many photo files wait to upload.
    pub fn uploads_len(&self) -> Result<u64> {
        self.store.uploads_len()
    }

    /// Calls `hook` after every local write that queues changes for the server (the sync
    /// engine's trigger); `None` removes it.
    pub fn on_local_write(&self, hook: Option<crate::store::WriteHook>) {
        self.store.on_local_write(hook);
    }

    /// Drops outbox entries a server has acknowledged.
    pub fn ack_outbox(&self, seqs: &[i64]) -> Result<()> {
        self.store.outbox_ack(seqs)
    }

    /// The whole document of a case (or a patrol), compacted (what a peer needs to take it
    /// in).
    pub fn export_case(&self, case_id: &str) -> Result<Vec<u8>> {
        let mut doc = self.store.load_synced(case_id, &self.actor)?;
        Ok(doc.save())
    }

    /// The case's (or patrol's) document in canonical form: byte-identical on every device that holds the
    /// same changes, whatever order they arrived in.
    pub fn canonical_case(&self, case_id: &str) -> Result<Vec<u8>> {
        let mut doc = self.store.load_synced(case_id, &self.actor)?;
        doc.canonical_save().map_err(|e| Error::CorruptCase {
            case_id: case_id.to_string(),
            reason: e.to_string(),
        })
    }

    /// Compacts documents that collected many incremental changes; the app calls it when idle.
    pub fn compact(&self) -> Result<usize> {
        self.store.compact_busy(&self.actor)
    }

    /// Held by every change made to a stored document, from reading it to storing the change
    /// (and by the taking in of a page of the feed). Two changes made here from the same state
    /// would carry the same actor and sequence number, and the document would no longer load;
    /// and an index row folded from a state another write has since moved on from would be
    /// stale. Public entry points take it; what they call must not.
    fn editing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.editing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a case write: `bytes` as `made` says, with the index rows `doc` folds to; the
    /// document stays loaded for its next change.
    fn write(
        &self,
        doc: &CaseDoc,
        bytes: &[u8],
        made: Made,
        origin: Origin,
        uploads: &[(String, u64)],
        now: i64,
    ) -> Result<()> {
        let view = view_of(doc)?;
        let (kind, read_at) = match made {
            Made::Whole => (DocBytes::Whole, None),
            Made::ChangedFrom(at) => (DocBytes::Changes, Some(at)),
        };
        self.store.write_case(&CaseWrite {
            doc: DocWrite {
                id: &view.facts.id,
                bytes,
                kind,
                origin,
                now,
                keep: Some(Keep {
                    doc: doc.automerge(),
                    read_at,
                }),
            },
            facts: &view.facts,
            state: &view.state,
            number: view.number.as_deref(),
            uploads,
        })
    }
}

/// What the bytes of a case write are, for [`Device::write`].
#[derive(Debug, Clone, Copy)]
enum Made {
    /// The whole document of a case new to this store.
    Whole,
    /// Changes to the case as it was read at this count ([`Store::load_tracked`]).
    ChangedFrom(ReadAt),
}

fn view_of(doc: &CaseDoc) -> Result<CaseView> {
    let corrupt = |e: crate::case::DocError| Error::CorruptCase {
        case_id: doc.facts().map(|f| f.id).unwrap_or_default(),
        reason: e.to_string(),
    };
    let facts = doc.facts().map_err(corrupt)?;
    let events = doc.events().map_err(corrupt)?;
    let photos = doc.photos().map_err(corrupt)?;
    let state = fold(&facts, &events);
    Ok(CaseView {
        number: doc.number(),
        facts,
        state,
        photos,
    })
}

fn parse_org(roster: &[u8], catalogue: &[u8]) -> Result<Org> {
    let roster = Roster::from_json("roster", &String::from_utf8_lossy(roster))?;
    let catalogue = Catalogue::from_json("catalogue", &String::from_utf8_lossy(catalogue))?;
    let router = Arc::new(crate::org::Router::new(&roster));
    Ok(Org {
        roster,
        catalogue,
        router,
    })
}
