-- CRM syncs and re-imports mostly change fields no index covers (title, company, attributes). With free
-- room on each page, Postgres rewrites such a row in place (a HOT update) instead of writing a new entry
-- into each of the leads table's six indexes. Applies to pages written from now on.
ALTER TABLE leads SET (fillfactor = 85);
