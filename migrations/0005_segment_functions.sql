-- Custom attributes are free-form text (CSV imports): a segment comparing dates must not fail on a
-- value such as "2027-02-31" or "soon". This reads a YYYY-MM-DD prefix, or gives NULL.
CREATE FUNCTION nurture_try_date(value text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF value IS NULL OR value !~ '^\d{4}-\d{2}-\d{2}' THEN
    RETURN NULL;
  END IF;
  RETURN left(value, 10)::date;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
