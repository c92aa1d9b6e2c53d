"""The raw tables that ingest writes and dbt's sources read: the one contract between them.

Ingest is the only code that writes these tables (schema `raw` of the working
warehouse). Person identity codes never appear here: `person_id` is the keyed
HMAC-SHA-256 pseudonym (hex), and `birth_date` and `sex` are derived at ingest.
Every row keeps its delivery (`delivery_month`) so that dbt can rebuild the
register as it stood at any delivery.
"""

RAW_SCHEMA = "raw"

DDL = {
    # Source 1, one row per status spell per delivery.
    "jobseeker_spells": """
        create table if not exists raw.jobseeker_spells (
            delivery_month date not null,      -- first day of the file's month YYYY-MM
            source_file varchar not null,      -- file name relative to the landing folder
            source_line integer not null,      -- 1-based physical line in the file (header = 1)
            person_id varchar not null,        -- HMAC-SHA-256 pseudonym, hex
            birth_date date not null,
            sex varchar not null,              -- 'male' | 'female'
            spell_id varchar not null,         -- jakso_id
            start_date date not null,          -- alkupvm
            end_date date,                     -- loppupvm, inclusive; null = open
            status varchar not null,           -- tila
            service varchar,                   -- palvelu; null unless status = 'PALVELU'
            municipality_code varchar not null -- kuntanumero, three digits
        )""",
    # Source 2, one row per person, benefit, municipality and month paid for.
    "kela_payments": """
        create table if not exists raw.kela_payments (
            delivery_month date not null,
            source_file varchar not null,
            source_line integer not null,
            person_id varchar not null,
            birth_date date not null,
            sex varchar not null,
            payment_month date not null,       -- maksukuukausi as the first day of the month
            municipality_code varchar not null,
            benefit varchar not null,          -- etuus: TMT | PPR | APR
            paid_days integer not null,        -- maksetut_paivat 0..23
            cumulative_days integer not null,  -- kertyneet_paivat >= 0
            paid_eur decimal(18, 2) not null,  -- maksettu_eur
            municipal_share_eur decimal(18, 2) not null  -- kuntaosuus_eur
        )""",
    # One row per load of a file (the latest load of a month replaces the earlier one's rows).
    "deliveries": """
        create table if not exists raw.deliveries (
            source varchar not null,           -- 'jobseeker_spells' | 'kela_payments'
            delivery_month date not null,
            source_file varchar not null,
            sha256 varchar not null,
            encoding varchar not null,
            delimiter varchar not null,
            rows_read integer not null,
            rows_loaded integer not null,
            rows_rejected integer not null,
            ignored_columns varchar,           -- extra columns, comma-separated
            loaded_at timestamp not null,
            key_fingerprint varchar            -- of the pseudonymisation key (pipelines/core/pseudonym_key.py);
                                               -- null in rows loaded before it was recorded
        )""",
    # Rows refused at ingest: line numbers and reasons, never the identity code.
    "rejects": """
        create table if not exists raw.rejects (
            source varchar not null,
            delivery_month date not null,
            source_file varchar not null,
            source_line integer not null,
            reason varchar not null
        )""",
}

# Columns added since the first release: a warehouse created before them gets them on its
# next load (in the load's transaction, after DDL). Idempotent.
MIGRATIONS = ("alter table raw.deliveries add column if not exists key_fingerprint varchar",)

SOURCE_TABLES = ("jobseeker_spells", "kela_payments")
