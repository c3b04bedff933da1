-- The raw-SQL equivalent of workload (c): mentorships by state × status × year, a GROUP BY
-- over the mentorship table.
SELECT substr(o.network_path, 1, 64) AS state, m.status, extract(year FROM m.requested_on) AS year, count(*)
FROM mentorships m JOIN organisations o ON o.id = m.organisation_id
GROUP BY 1, 2, 3;
