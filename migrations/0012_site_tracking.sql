-- Website visits (the site snippet, src/modules/tracking/site-routes.ts): the origins whose pages may
-- report visits to POST /t/v (CORS). Empty: no site may report yet; admins set them with /nurture site.
ALTER TABLE workspaces ADD COLUMN site_origins text[] NOT NULL DEFAULT '{}';
