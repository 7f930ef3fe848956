//! An in-memory [`super::kind::Host`]: what the server lends a document kind while it accepts a
//! push (roster, judging, clock, numbering), without a server's storage. For the kinds' tests
//! and the fuzz targets, which run the acceptance as the server does (test builds and the
//! `test-hooks` feature only).

/// The server's side of a push's acceptance, in memory: a roster, the pusher's judging, a fixed
/// clock and numbering sequences in a map (for the kinds' tests and the fuzz targets, which
/// run the acceptance without a server's storage).
pub struct MemoryHost<'r> {
    roster: &'r crate::org::Roster,
    pusher: &'r str,
    now: i64,
    numbers: std::collections::HashMap<String, u64>,
}

impl<'r> MemoryHost<'r> {
    /// A host with `roster`, judging pushes by `pusher`'s device, its clock at `now`.
    pub fn new(roster: &'r crate::org::Roster, pusher: &'r str, now: i64) -> MemoryHost<'r> {
        MemoryHost {
            roster,
            pusher,
            now,
            numbers: std::collections::HashMap::new(),
        }
    }
}

impl super::kind::Host for MemoryHost<'_> {
    fn judging(&self) -> super::judge::Judging<'_> {
        super::judge::Judging::device(self.pusher)
    }
    fn roster(&self) -> &crate::org::Roster {
        self.roster
    }
    fn now(&self) -> i64 {
        self.now
    }
    fn instance(&self) -> &str {
        "memory"
    }
    fn next_number(&mut self, key: &str) -> Result<u64, super::kind::HostError> {
        let n = self.numbers.entry(key.to_string()).or_default();
        *n += 1;
        Ok(*n)
    }
    fn number_taken(&mut self, key: &str, taken: u64) -> Result<(), super::kind::HostError> {
        let n = self.numbers.entry(key.to_string()).or_default();
        *n = (*n).max(taken);
        Ok(())
    }
}
