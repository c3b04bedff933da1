-- The raw-SQL equivalent of workload (a): 50 organisations with counts of contacts,
-- offerings and active mentorships, as one statement.
SELECT o.id, o.name,
       (SELECT count(*) FROM contacts c WHERE c.organisation_id = o.id),
       (SELECT count(*) FROM offerings f WHERE f.organisation_id = o.id),
       (SELECT count(*) FROM mentorships m WHERE m.organisation_id = o.id AND m.status = 'active')
FROM organisations o ORDER BY o.id LIMIT 50;
