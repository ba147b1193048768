-- Tell listeners (the scheduler) when entities or definitions change, so
-- they reload at once instead of at their next poll. One notification per
-- statement; PostgreSQL folds duplicates within a transaction and delivers
-- them on commit.

CREATE FUNCTION notify_definition_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('zmon_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER entities_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION notify_definition_change();
CREATE TRIGGER check_definitions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON check_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_definition_change();
CREATE TRIGGER alert_definitions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_definition_change();
