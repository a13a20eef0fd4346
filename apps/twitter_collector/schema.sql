-- The collector's only table. collector.py runs the same statement at start,
-- so applying this by hand is optional.
CREATE TABLE IF NOT EXISTS tweets (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
