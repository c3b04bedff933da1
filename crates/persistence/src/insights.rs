//! Insights the founding document asks for, computed by the database: parallel structures
//! (overlapping offerings), overload (volunteers over capacity, organisations with too
//! many mentorships per paid coordinator) and funding risks. Every query reads only what
//! the caller's scope lets it read; the scope is part of the SQL as everywhere else.

use crate::aggregates::Sql;
use crate::entities::{funding, mentorship, staff, volunteer};
use crate::error::StoreError;
use crate::store::Scoped;
use crate::tables::{Fundings, Mentorships, StaffMembers, Volunteers};
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use std::collections::HashMap;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::funding::Funding;
use verbund_domain::insights::{Overlap, OverloadedOrganisation, OverloadedVolunteer};
use verbund_domain::network::path_upper_bound;

/// A contingent (a funding promising a number of mentorships) against the mentorships
/// started within its period by its organisation and every organisation it passed money on
/// to, down the chain.
#[derive(Debug, Clone)]
pub struct Contingent {
    pub funding: Record<Funding>,
    /// 0 for a grant received directly, 1 for one passed on once, …
    pub depth: i64,
    pub promised: i64,
    pub started: i64,
}

const CURRENT: [&str; 3] = ["matched", "active", "paused"];

fn list_of(raw: &str) -> Vec<String> {
    raw.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Scoped {
    /// Parallel structures within the subtree at `path` (everything when `None`), at most
    /// `limit` pairs, by region. Only published offerings take part (public data).
    pub async fn overlaps(
        &self,
        path: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Overlap>, StoreError> {
        let mut sql = Sql::new(self.conn().get_database_backend());
        let open_end = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
        let far = sql.bind(open_end);
        let far2 = sql.bind(open_end);
        sql.push(&format!(
            "SELECT a.id, b.id, a.organisation_id, b.organisation_id, n.id, a.category, \
             a.target_groups, b.target_groups, a.starts_on, a.ends_on, b.starts_on, b.ends_on \
             FROM offerings a \
             JOIN offering_service_areas sa ON sa.offering_id = a.id \
             JOIN offering_service_areas sb ON sb.network_id = sa.network_id AND sb.offering_id <> a.id \
             JOIN offerings b ON b.id = sb.offering_id \
             JOIN networks n ON n.id = sa.network_id \
             WHERE a.published AND b.published AND a.id < b.id \
             AND a.organisation_id <> b.organisation_id AND a.category = b.category \
             AND a.starts_on <= COALESCE(b.ends_on, {far}) AND b.starts_on <= COALESCE(a.ends_on, {far2})"
        ));
        if let Some(p) = path {
            let (lo, hi) = (sql.bind(p.to_owned()), sql.bind(path_upper_bound(p)));
            sql.push(&format!(" AND n.path >= {lo} AND n.path < {hi}"));
        }
        sql.push(" ORDER BY n.path, a.id, b.id");
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let mut out = Vec::new();
        for r in rows {
            let ta = list_of(&r.try_get_by_index::<String>(6)?);
            let tb = list_of(&r.try_get_by_index::<String>(7)?);
            let shared: Vec<String> = ta.into_iter().filter(|t| tb.contains(t)).collect();
            if shared.is_empty() {
                continue;
            }
            let (sa, ea): (NaiveDate, Option<NaiveDate>) =
                (r.try_get_by_index(8)?, r.try_get_by_index(9)?);
            let (sb, eb): (NaiveDate, Option<NaiveDate>) =
                (r.try_get_by_index(10)?, r.try_get_by_index(11)?);
            out.push(Overlap {
                offering_a: r.try_get_by_index(0)?,
                offering_b: r.try_get_by_index(1)?,
                organisation_a: r.try_get_by_index(2)?,
                organisation_b: r.try_get_by_index(3)?,
                region: r.try_get_by_index(4)?,
                category: r.try_get_by_index(5)?,
                target_groups: shared,
                from: Ord::max(sa, sb),
                until: match (ea, eb) {
                    (Some(a), Some(b)) => Some(Ord::min(a, b)),
                    (a, b) => a.or(b),
                },
            });
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Volunteers with more current mentorships than their capacity, among those the
    /// caller may read.
    pub async fn overloaded_volunteers(
        &self,
        limit: u64,
    ) -> Result<Vec<OverloadedVolunteer>, StoreError> {
        let count = Expr::col((mentorship::Entity, mentorship::Column::Id)).count();
        let mut stmt = volunteer::Entity::find()
            .select_only()
            .column(volunteer::Column::Id)
            .column(volunteer::Column::OrganisationId)
            .column(volunteer::Column::Capacity)
            .column_as(count.clone(), "current")
            .filter(self.readable::<Volunteers>())
            .filter(mentorship::Column::Status.is_in(CURRENT))
            .group_by(volunteer::Column::Id)
            .group_by(volunteer::Column::OrganisationId)
            .group_by(volunteer::Column::Capacity)
            .having(count.gt(Expr::col((volunteer::Entity, volunteer::Column::Capacity))))
            .order_by_asc(volunteer::Column::Id)
            .limit(limit)
            .into_query();
        stmt.join(
            JoinType::InnerJoin,
            mentorship::Entity,
            Expr::col((mentorship::Entity, mentorship::Column::MentorId))
                .equals((volunteer::Entity, volunteer::Column::Id)),
        );
        let backend = self.conn().get_database_backend();
        let mut out = Vec::new();
        for r in self.conn().query_all_raw(backend.build(&stmt)).await? {
            let cap: i32 = r.try_get_by_index(2)?;
            out.push(OverloadedVolunteer {
                volunteer: r.try_get_by_index(0)?,
                organisation: r.try_get_by_index(1)?,
                capacity: i64::from(cap),
                current: r.try_get_by_index(3)?,
            });
        }
        Ok(out)
    }

    /// Organisations with more than `per_coordinator` active mentorships per staff member
    /// (paid coordinator), counting the mentorships and staff the caller may read.
    pub async fn overloaded_organisations(
        &self,
        per_coordinator: i64,
        limit: u64,
    ) -> Result<Vec<OverloadedOrganisation>, StoreError> {
        let staff_q = staff::Entity::find()
            .select_only()
            .column(staff::Column::OrganisationId)
            .column_as(Expr::col(staff::Column::Id).count(), "n")
            .filter(self.readable::<StaffMembers>())
            .group_by(staff::Column::OrganisationId)
            .into_query();
        let coordinators = "COALESCE(MAX(st.n), 0)";
        let mut stmt = mentorship::Entity::find()
            .select_only()
            .column(mentorship::Column::OrganisationId)
            .column_as(
                Expr::col((mentorship::Entity, mentorship::Column::Id)).count(),
                "active",
            )
            .column_as(Expr::cust(coordinators), "coordinators")
            .filter(self.readable::<Mentorships>())
            .filter(mentorship::Column::Status.eq("active"))
            .group_by(mentorship::Column::OrganisationId)
            .having(
                Expr::col((mentorship::Entity, mentorship::Column::Id))
                    .count()
                    .gt(Expr::cust(coordinators).mul(per_coordinator)),
            )
            .order_by_asc(mentorship::Column::OrganisationId)
            .limit(limit)
            .into_query();
        stmt.join_subquery(
            JoinType::LeftJoin,
            staff_q,
            Alias::new("st"),
            Expr::col((Alias::new("st"), Alias::new("organisation_id")))
                .equals((mentorship::Entity, mentorship::Column::OrganisationId)),
        );
        let backend = self.conn().get_database_backend();
        let mut out = Vec::new();
        for r in self.conn().query_all_raw(backend.build(&stmt)).await? {
            out.push(OverloadedOrganisation {
                organisation: r.try_get_by_index(0)?,
                active_mentorships: r.try_get_by_index(1)?,
                coordinators: r.try_get_by_index(2)?,
            });
        }
        Ok(out)
    }

    /// Fundings the caller may read that end between `today` and `today + within_days`
    /// with no follow-up: no other funding of the same organisation and programme that
    /// starts later and runs longer.
    pub async fn fundings_ending(
        &self,
        today: NaiveDate,
        within_days: i64,
        limit: u64,
    ) -> Result<Vec<Record<Funding>>, StoreError> {
        let until = today + chrono::Duration::days(within_days);
        let models = funding::Entity::find()
            .filter(self.readable::<Fundings>())
            .filter(funding::Column::EndsOn.gte(today))
            .filter(funding::Column::EndsOn.lte(until))
            .filter(Expr::cust(
                "NOT EXISTS (SELECT 1 FROM fundings n WHERE n.organisation_id = fundings.organisation_id \
                 AND n.programme = fundings.programme AND n.id <> fundings.id \
                 AND n.starts_on > fundings.starts_on \
                 AND (n.ends_on IS NULL OR n.ends_on > fundings.ends_on))",
            ))
            .order_by_asc(funding::Column::EndsOn)
            .order_by_asc(funding::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?;
        self.finish::<Fundings>(self.conn(), models).await
    }

    /// Every contingent the caller may read, with the mentorships started against it.
    pub async fn contingents(&self, limit: u64) -> Result<Vec<Contingent>, StoreError> {
        let models = funding::Entity::find()
            .filter(self.readable::<Fundings>())
            .filter(funding::Column::ContingentMentorships.is_not_null())
            .order_by_asc(funding::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?;
        let records = self.finish::<Fundings>(self.conn(), models).await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut started: HashMap<Uuid, i64> = HashMap::new();
        let mut depth: HashMap<Uuid, i64> = HashMap::new();
        for chunk in records.chunks(500) {
            let backend = self.conn().get_database_backend();
            // Mentorships started in the period by the chain below each funding.
            let mut sql = Sql::new(backend);
            let ids: Vec<String> = chunk.iter().map(|r| sql.bind(r.id)).collect();
            sql.push(&format!(
                "WITH RECURSIVE chain(root, fid, org) AS ( \
                 SELECT id, id, organisation_id FROM fundings WHERE id IN ({}) \
                 UNION ALL SELECT c.root, f.id, f.organisation_id FROM chain c \
                 JOIN fundings f ON f.passed_on_from_id = c.fid) \
                 SELECT r.id, COUNT(m.id) FROM fundings r \
                 JOIN (SELECT DISTINCT root, org FROM chain) x ON x.root = r.id \
                 JOIN mentorships m ON m.organisation_id = x.org AND m.started_on >= r.starts_on \
                 AND (r.ends_on IS NULL OR m.started_on <= r.ends_on) GROUP BY r.id",
                ids.join(", ")
            ));
            for r in self.conn().query_all_raw(sql.statement()).await? {
                started.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
            }
            // How far down the chain each funding sits.
            let mut sql = Sql::new(backend);
            let ids: Vec<String> = chunk.iter().map(|r| sql.bind(r.id)).collect();
            sql.push(&format!(
                "WITH RECURSIVE up(start, fid, depth) AS ( \
                 SELECT id, passed_on_from_id, 0 FROM fundings WHERE id IN ({}) \
                 UNION ALL SELECT u.start, f.passed_on_from_id, u.depth + 1 FROM up u \
                 JOIN fundings f ON f.id = u.fid) \
                 SELECT start, MAX(depth) FROM up GROUP BY start",
                ids.join(", ")
            ));
            for r in self.conn().query_all_raw(sql.statement()).await? {
                let d: i32 = r.try_get_by_index(1)?;
                depth.insert(r.try_get_by_index(0)?, i64::from(d));
            }
        }
        Ok(records
            .into_iter()
            .map(|f| Contingent {
                depth: depth.get(&f.id).copied().unwrap_or(0),
                started: started.get(&f.id).copied().unwrap_or(0),
                promised: i64::from(f.data.contingent_mentorships.unwrap_or(0)),
                funding: f,
            })
            .collect())
    }
}

impl Scoped {
    /// Per organisation: how many contacts, offerings and active mentorships the caller
    /// may see — one statement with three correlated counts (a page of organisations asks
    /// for them together). `COUNT(*)`, not `COUNT(id)`: PostgreSQL answers it from the
    /// organisation index alone (an index-only scan) where a column count reads the rows.
    pub async fn organisation_counts(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, (u64, u64, u64)>, StoreError> {
        use crate::entities::{contact, offering, organisation};
        use crate::tables::{Contacts, Offerings};
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let org = Alias::new("o");
        let of_org = |col: Expr| col.equals((org.clone(), Alias::new("id")));
        let contacts = contact::Entity::find()
            .select_only()
            .expr(count_rows())
            .filter(self.readable::<Contacts>())
            .filter(of_org(Expr::col((
                contact::Entity,
                contact::Column::OrganisationId,
            ))))
            .into_query();
        let offerings = offering::Entity::find()
            .select_only()
            .expr(count_rows())
            .filter(self.readable::<Offerings>())
            .filter(of_org(Expr::col((
                offering::Entity,
                offering::Column::OrganisationId,
            ))))
            .into_query();
        let active = mentorship::Entity::find()
            .select_only()
            .expr(count_rows())
            .filter(self.readable::<Mentorships>())
            .filter(mentorship::Column::Status.eq("active"))
            .filter(of_org(Expr::col((
                mentorship::Entity,
                mentorship::Column::OrganisationId,
            ))))
            .into_query();
        let sub = |q: sea_orm::sea_query::SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
        let stmt = sea_orm::sea_query::Query::select()
            .column((org.clone(), Alias::new("id")))
            .expr_as(sub(contacts), Alias::new("contacts"))
            .expr_as(sub(offerings), Alias::new("offerings"))
            .expr_as(sub(active), Alias::new("active"))
            .from_as(organisation::Entity, org.clone())
            .and_where(Expr::col((org.clone(), Alias::new("id"))).is_in(ids.iter().copied()))
            .to_owned();
        let backend = self.conn().get_database_backend();
        let mut out = HashMap::new();
        for r in self.conn().query_all_raw(backend.build(&stmt)).await? {
            let (c, f, a): (i64, i64, i64) = (
                r.try_get_by_index(1)?,
                r.try_get_by_index(2)?,
                r.try_get_by_index(3)?,
            );
            let n = |x: i64| u64::try_from(x).unwrap_or(0);
            out.insert(r.try_get_by_index(0)?, (n(c), n(f), n(a)));
        }
        Ok(out)
    }
}

/// `COUNT(*)`: the rows, whatever their columns hold.
fn count_rows() -> Expr {
    Expr::cust("COUNT(*)")
}
