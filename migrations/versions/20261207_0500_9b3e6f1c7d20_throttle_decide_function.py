"""throttle: a PostgreSQL function that makes a counting decision in one statement

A decision that counts used to lock its counter rows with one statement, judge them in
Python and write them back with the COMMIT. Every OTP start and API send locks the global
cap's row, and with many request threads the thread holding it waited for the interpreter
lock between its statements while the others queued on the row. The function does the same
work inside PostgreSQL (``throttle/backends.py`` calls it; ``gcra.gcra`` and the Redis
script are the same algorithm), so the rows are locked for microseconds. PostgreSQL only:
SQLite decides under its write lock anyway.

Revision ID: 9b3e6f1c7d20
Revises: 4f1d8b6c2a97
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "9b3e6f1c7d20"
down_revision = "4f1d8b6c2a97"
branch_labels = None
depends_on = None

# Arguments: the caller's policy version, now (µs), then per counter, sorted by key (rows
# are created and locked in one order, so two decisions never deadlock): key, window id,
# emission interval (µs), max requests, group (0 = enforce), masked key.
# Answer: {-1, current version} when the caller's policies are stale; else {1} followed by
# (allowed 1/0, retry µs, remaining) per counter, in the order given. Counted all-or-nothing
# per group: when an enforced counter refuses nothing is written; a refused monitor rule's
# counters are not written either.
DECIDE = """
CREATE OR REPLACE FUNCTION kmsg_throttle_decide(
    p_version bigint, p_now bigint, p_keys text[], p_windows integer[],
    p_intervals bigint[], p_limits bigint[], p_groups integer[], p_masked text[]
) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    current_version bigint;
    n integer := cardinality(p_keys);
    answer bigint[] := ARRAY[1];
    new_tat bigint[];
    seen bigint[];
    refused integer[] := '{}';
    stored_tat bigint;
    stored_interval bigint;
    stored_seen bigint;
    iv bigint;
    capacity bigint;
    now_us bigint;
    tat bigint;
BEGIN
    SELECT version INTO current_version FROM throttle_policy_version WHERE id = 1;
    IF coalesce(current_version, 0) <> p_version THEN
        RETURN ARRAY[-1, coalesce(current_version, 0)];
    END IF;
    INSERT INTO throttle_counter (key, window_id, tat_us, interval_us, seen_us, key_masked)
    SELECT k, w, 0, i, 0, m FROM unnest(p_keys, p_windows, p_intervals, p_masked) AS s(k, w, i, m)
    ON CONFLICT (key) DO NOTHING;
    FOR s IN 1..n LOOP
        SELECT tat_us, interval_us, seen_us INTO stored_tat, stored_interval, stored_seen
        FROM throttle_counter WHERE key = p_keys[s] FOR UPDATE;
        iv := p_intervals[s];
        capacity := p_limits[s] * iv;
        now_us := greatest(p_now, stored_seen);
        tat := stored_tat;
        IF tat > now_us AND stored_interval <> 0 AND stored_interval <> iv THEN
            tat := now_us + (tat - now_us) * iv / stored_interval;  -- an edited window
        END IF;
        tat := greatest(tat, now_us) + iv;
        new_tat[s] := tat;
        seen[s] := now_us;
        IF tat - now_us <= capacity THEN
            answer := answer || ARRAY[1, 0, (now_us + capacity - tat) / iv];
        ELSE
            answer := answer || ARRAY[0, tat - capacity - now_us, 0];
            refused := refused || p_groups[s];
        END IF;
    END LOOP;
    IF NOT 0 = ANY(refused) THEN
        FOR s IN 1..n LOOP
            IF NOT p_groups[s] = ANY(refused) THEN
                UPDATE throttle_counter
                SET tat_us = new_tat[s], interval_us = p_intervals[s], seen_us = seen[s]
                WHERE key = p_keys[s];
            END IF;
        END LOOP;
    END IF;
    RETURN answer;
END;
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DECIDE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS kmsg_throttle_decide("
            "bigint, bigint, text[], integer[], bigint[], bigint[], integer[], text[])"
        )
