INSERT INTO alerts
SELECT record FROM enriched_alert_records
