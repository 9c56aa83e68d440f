"""The platform's SQL: Athena analyses (`sql/athena/`), Redshift models (`sql/redshift/`), and the lake layout.

Each folder holds its `.sql` files and the loader that renders them, for the deploy
(prepared statements, Data API statements) and for the local engines (DuckDB).
"""
