INSERT INTO alerts
SELECT record FROM alert_records
