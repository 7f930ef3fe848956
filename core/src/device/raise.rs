//! Raising a case: a problem report on patrol, or a resident's request. The device fills in
//! the place (grid, community, segment) and who holds the case first from its roster copy, and
//! the deadline from its catalogue copy: the category's limit on its clock, counted in the
//! catalogue's working calendar from the moment of the report.

use super::{Device, Made, Org};
use crate::case::{
    Action, Assignee, CaseDoc, CaseKind, Claim, Event, Facts, PhotoRef, PhotoStage, check, fold,
};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::org::{FirstHolder, Point, Role, Scope};
use crate::photo::CameraPhoto;
use crate::store::Origin;

/// What a reporter enters for a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The small category code from the catalogue.
    pub category: String,
    /// Where the problem is.
    pub location: Point,
    /// The grid, when the reporter chose one; otherwise found from the location.
    pub grid: Option<String>,
    /// The road segment, when on one; a street chief's own segment by default.
    pub segment: Option<String>,
    /// A few words.
    pub description: String,
}

/// What a resident (or a grid worker or community chief on their behalf) enters for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    /// The small category code from the catalogue.
    pub category: String,
    /// Where help is needed.
    pub location: Point,
    /// The grid, when chosen; otherwise found from the location or the resident's own grid.
    pub grid: Option<String>,
    /// What is asked for.
    pub description: String,
}

const MAX_DESCRIPTION: usize = 2_000;

/// Makes a report's photos, given the reporter and the report's time: each reference with the
/// files (hash, size) to queue for upload.
pub(super) type Photos<'a> = dyn Fn(&str, i64) -> Result<Vec<(PhotoRef, Vec<(String, u64)>)>> + 'a;

impl Device {
    /// Raises a problem report and returns its case id. Checked in full before anything is
    /// written: an unknown category, a place outside the street, a role that may not report.
    pub fn report(&self, r: &NewReport) -> Result<String> {
        self.report_with_photos(r, &[])
    }

    /// Raises a problem report with its before photos (camera bytes: JPEG, PNG or WebP) in
    /// one step: every photo is processed first, so a rejected photo writes nothing, and the
    /// report never exists without the photos it was sent with.
    pub fn report_with_photos(&self, r: &NewReport, photos: &[&[u8]]) -> Result<String> {
        let photos: Vec<CameraPhoto<'_>> = photos.iter().map(|b| CameraPhoto::bytes(b)).collect();
        self.report_with_camera_photos(r, &photos)
    }

    /// Raises a problem report with its before photos and the camera's record of each (time
    /// and place, WGS-84, winning over the EXIF's); otherwise as
    /// [`Device::report_with_photos`]. To place the report where a photo was taken, give
    /// `r.location` from [`CameraPhoto::place`].
    pub fn report_with_camera_photos(
        &self,
        r: &NewReport,
        photos: &[CameraPhoto<'_>],
    ) -> Result<String> {
        self.report_prepared(r, &|person, at| {
            photos
                .iter()
                .map(|camera| self.prepare_photo(camera, PhotoStage::Before, person, at))
                .collect()
        })
    }

    /// [`Device::report_with_camera_photos`], with the photos' references and files made by
    /// `photos` (given the reporter and the report's time) once the report is checked.
    pub(super) fn report_prepared(&self, r: &NewReport, photos: &Photos<'_>) -> Result<String> {
        let claim = self.claim()?;
        let org = self.org()?;
        let segment = match (&r.segment, &claim.scope) {
            (Some(s), _) => Some(s.clone()),
            (None, Scope::Segment(s)) => Some(s.clone()),
            _ => None,
        };
        if let Some(s) = &segment
            && org.roster.segment(s).is_none()
        {
            return Err(Error::NotFound {
                what: "road segment",
                id: s.clone(),
            });
        }
        let facts = self.facts(
            &org,
            &claim,
            CaseKind::Problem,
            &r.category,
            r.location,
            r.grid.as_deref(),
            segment,
            &r.description,
        )?;
        let assignee = match claim.role.capabilities().problem_goes_to {
            FirstHolder::Centre => Assignee::Center,
            FirstHolder::Reporter => Assignee::Person(claim.person.clone()),
            FirstHolder::GridWorker => Assignee::Person(grid_worker(&org, &facts.grid)?),
        };
        self.raise(facts, claim, assignee, photos)
    }

    /// Raises a resident request; it goes to the community grid chief, who dispatches it to
    /// the community's volunteers.
    pub fn request(&self, r: &NewRequest) -> Result<String> {
        let claim = self.claim()?;
        let org = self.org()?;
        let facts = self.facts(
            &org,
            &claim,
            CaseKind::Request,
            &r.category,
            r.location,
            r.grid.as_deref(),
            None,
            &r.description,
        )?;
        let assignee = if claim.role == Role::CommunityChief {
            Assignee::Person(claim.person.clone())
        } else {
            let chief = org
                .roster
                .community_chief_of(&facts.community)
                .ok_or_else(|| Error::NotFound {
                    what: "community grid chief of community",
                    id: facts.community.clone(),
                })?;
            Assignee::Person(chief.id.clone())
        };
        self.raise(facts, claim, assignee, &|_, _| Ok(Vec::new()))
    }

    fn raise(
        &self,
        facts: Facts,
        claim: Claim,
        assignee: Assignee,
        photos: &Photos<'_>,
    ) -> Result<String> {
        let person = claim.person.clone();
        let event = Event::new(facts.created_at, claim, Action::Reported { assignee });
        let empty = fold(&facts, &[]);
        check(&facts, &empty, &event).map_err(|reason| {
            log::info!(
                target: crate::logs::RULES,
                "refused raising a {}: {}",
                facts.kind.as_str(),
                reason.code()
            );
            Error::NotAllowed {
                action: format!("raise a {}", facts.kind.as_str()),
                reason,
            }
        })?;
        let mut doc =
            CaseDoc::create(&self.actor, &facts, &event).map_err(|e| Error::InvalidInput {
                field: "case",
                problem: e.to_string(),
            })?;
        let mut uploads = Vec::new();
        for (photo, files) in photos(&person, facts.created_at)? {
            doc.add_photo(&photo).map_err(|e| Error::InvalidInput {
                field: "photo",
                problem: e.to_string(),
            })?;
            uploads.extend(files);
        }
        let snapshot = doc.save();
        self.write(
            &doc,
            &snapshot,
            Made::Whole,
            Origin::Local,
            &uploads,
            facts.created_at,
        )?;
        Ok(facts.id)
    }

    #[allow(clippy::too_many_arguments)]
    fn facts(
        &self,
        org: &Org,
        claim: &Claim,
        kind: CaseKind,
        category: &str,
        location: Point,
        grid: Option<&str>,
        segment: Option<String>,
        description: &str,
    ) -> Result<Facts> {
        let cat = org.catalogue.get(category).ok_or_else(|| Error::NotFound {
            what: "category",
            id: category.to_string(),
        })?;
        let description = description.trim();
        if description.is_empty() {
            return Err(Error::InvalidInput {
                field: "description",
                problem: "say in a few words what is wrong".into(),
            });
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(Error::InvalidInput {
                field: "description",
                problem: format!("longer than {MAX_DESCRIPTION} characters"),
            });
        }
        if !(location.lat.is_finite()
            && location.lon.is_finite()
            && (-90.0..=90.0).contains(&location.lat)
            && (-180.0..=180.0).contains(&location.lon))
        {
            return Err(Error::InvalidInput {
                field: "location",
                problem: format!("({}, {}) is not a position", location.lon, location.lat),
            });
        }
        let grid = match grid {
            Some(g) => org.roster.grid(g).ok_or_else(|| Error::NotFound {
                what: "grid",
                id: g.to_string(),
            })?,
            None => match org.roster.grid_at(location) {
                Some(g) => g,
                None => match &claim.scope {
                    Scope::Grid(g) => org.roster.grid(g).ok_or_else(|| Error::NotFound {
                        what: "grid",
                        id: g.clone(),
                    })?,
                    _ => {
                        return Err(Error::InvalidInput {
                            field: "location",
                            problem: "outside every grid of the street: choose the grid".into(),
                        });
                    }
                },
            },
        };
        let created_at = self.now();
        Ok(Facts {
            id: uuid::Uuid::now_v7().to_string(),
            kind,
            category: cat.code.clone(),
            category_name: cat.name.clone(),
            limit_hours: cat.limit_hours,
            clock: Some(cat.clock),
            deadline: Some(org.catalogue.calendar.add_hours(
                created_at,
                cat.limit_hours,
                cat.clock,
            )),
            reporter: claim.person.clone(),
            created_at,
            location,
            grid: grid.id.clone(),
            community: grid.community.clone(),
            segment,
            description: description.to_string(),
        })
    }
}

fn grid_worker(org: &Org, grid: &str) -> Result<String> {
    org.roster
        .grid_worker_of(grid)
        .map(|p| p.id.clone())
        .ok_or_else(|| Error::NotFound {
            what: "grid worker of grid",
            id: grid.to_string(),
        })
}
